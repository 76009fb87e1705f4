//! WAMP Challenge-Response Authentication: the client proves it knows a
//! secret by sending the HMAC-SHA256 of the router's challenge, keyed
//! with the secret, or (salted) with a key derived from it by
//! PBKDF2-HMAC-SHA256 and written in Base64.

use std::num::NonZeroU32;

use base64::Engine as _;
use ring::{hmac, pbkdf2};

/// The PBKDF2 parameters of a salted secret, sent in CHALLENGE.Extra.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salting {
    /// The salt.
    pub salt: String,
    /// PBKDF2 iterations.
    pub iterations: NonZeroU32,
    /// Length of the derived key in bytes.
    pub keylen: u32,
}

/// The iterations the WAMP-CRA specification and clients assume when a
/// salt comes without them.
pub const DEFAULT_ITERATIONS: u32 = 1000;
/// The derived key length assumed when a salt comes without one.
pub const DEFAULT_KEYLEN: u32 = 32;

/// The HMAC key for a secret: the secret itself, or for a salted secret
/// the Base64 text of its PBKDF2 derivation (as clients compute it).
pub fn signing_key(secret: &str, salting: Option<&Salting>) -> hmac::Key {
    let Some(salting) = salting else {
        return hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    };
    let mut derived = vec![0u8; salting.keylen as usize];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        salting.iterations,
        salting.salt.as_bytes(),
        secret.as_bytes(),
        &mut derived,
    );
    let text = base64::engine::general_purpose::STANDARD.encode(&derived);
    hmac::Key::new(hmac::HMAC_SHA256, text.as_bytes())
}

/// The signature a client sends for `challenge`: Base64 of the HMAC.
pub fn sign(key: &hmac::Key, challenge: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(hmac::sign(key, challenge.as_bytes()))
}

/// Whether `signature` (Base64) is the HMAC of `challenge`, compared in
/// constant time.
pub fn verify(key: &hmac::Key, challenge: &str, signature: &str) -> bool {
    let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    hmac::verify(key, challenge.as_bytes(), &signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_reference_derivation() {
        // The values AutobahnPython's derive_key and compute_wcs give:
        // derive_key("secret", "salt123", 100, 16) and the HMAC of "hello"
        // under it (computed once with AutobahnPython 26.10.2).
        let salting =
            Salting { salt: "salt123".into(), iterations: NonZeroU32::new(100).unwrap(), keylen: 16 };
        let key = signing_key("secret", Some(&salting));
        assert_eq!(sign(&key, "hello"), REFERENCE_SALTED);
        let plain = signing_key("secret", None);
        assert_eq!(sign(&plain, "hello"), REFERENCE_PLAIN);
        assert!(verify(&plain, "hello", REFERENCE_PLAIN));
        assert!(!verify(&plain, "hello!", REFERENCE_PLAIN));
        assert!(!verify(&plain, "hello", "not base64 at all"));
        assert!(!verify(&key, "hello", REFERENCE_PLAIN));
    }

    const REFERENCE_SALTED: &str = "eRyeAthM6/eSeuDBXdpRZfmJlsPr96WZzonFM72zSMY=";
    const REFERENCE_PLAIN: &str = "iKqz7ejTrflNJquQ07r9SiCDBww7zOnAFO4EpEOEfAs=";
}
