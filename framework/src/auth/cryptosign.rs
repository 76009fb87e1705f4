//! WAMP-cryptosign: the client proves it holds an Ed25519 private key by
//! signing 32 random bytes the router sends.
//!
//! The signature comes back as hex: 64 bytes of signature, optionally
//! followed by the 32 bytes signed (AutobahnPython sends both).

use ring::signature::{UnparsedPublicKey, ED25519};

use super::hex;

/// An Ed25519 public key.
pub type PublicKey = [u8; 32];

/// A public key from its 64 hex digits.
pub fn parse_public_key(text: &str) -> Option<PublicKey> {
    hex::decode(text.trim())?.try_into().ok()
}

/// Whether `signature` (hex) is `key`'s signature of `challenge`.
pub fn verify(key: &PublicKey, challenge: &[u8; 32], signature: &str) -> bool {
    let Some(bytes) = hex::decode(signature.trim()) else { return false };
    let (signature, signed) = match bytes.len() {
        64 => (&bytes[..], &challenge[..]),
        96 => bytes.split_at(64),
        _ => return false,
    };
    // What the client says it signed must be the challenge itself.
    if signed != challenge {
        return false;
    }
    UnparsedPublicKey::new(&ED25519, key).verify(challenge, signature).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair as _};

    #[test]
    fn a_signature_of_the_challenge_by_the_key_is_accepted_and_nothing_else() {
        let seed = [7u8; 32];
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
        let key: PublicKey = pair.public_key().as_ref().try_into().unwrap();
        let challenge = [42u8; 32];
        let signature = hex::encode(pair.sign(&challenge).as_ref());
        assert!(verify(&key, &challenge, &signature));
        assert!(verify(&key, &challenge, &format!("{signature}{}", hex::encode(&challenge))));
        assert!(!verify(&key, &challenge, &format!("{signature}{}", hex::encode(&[1u8; 32]))));
        assert!(!verify(&key, &[43u8; 32], &signature));
        assert!(!verify(&key, &challenge, "zz"));
        let other = Ed25519KeyPair::from_seed_unchecked(&[8u8; 32]).unwrap();
        assert!(!verify(&key, &challenge, &hex::encode(other.sign(&challenge).as_ref())));
        assert_eq!(parse_public_key(&hex::encode(&key)), Some(key));
        assert_eq!(parse_public_key("abcd"), None);
    }
}
