//! TLS for the router's endpoint and the client (`wss://`), with rustls
//! and its `ring` provider.
//!
//! The router serves TLS when its settings name a certificate chain and a
//! private key (PEM files). The client trusts the system's root
//! certificates, and any CA certificates its options name besides; or,
//! with pins, exactly the certificates whose SHA-256 fingerprints it was
//! given (for a self-signed certificate, or to trust no CA at all).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or parsed.
    #[error("cannot read {what} from {path}: {reason}")]
    File {
        /// Which file it is (certificate chain, private key, CA).
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// rustls refused the configuration (e.g. a key that does not match
    /// the certificate).
    #[error("invalid TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    /// Only one of the certificate and the key is configured.
    #[error("TLS needs both a certificate chain (tls_cert) and a private key (tls_key)")]
    Incomplete,
    /// A pin is not a SHA-256 fingerprint.
    #[error("'{0}' is not a SHA-256 fingerprint (64 hexadecimal digits, colons allowed)")]
    Pin(String),
}

/// The SHA-256 fingerprint of a certificate (DER), as `AB:CD:...`: what
/// `openssl x509 -noout -fingerprint -sha256` prints, and what a pin is.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

/// The fingerprints of the certificates of a PEM file, in its order.
pub fn file_fingerprints(path: &Path) -> Result<Vec<String>, TlsError> {
    Ok(certificates("a certificate", path)?.iter().map(|c| fingerprint(c)).collect())
}

fn parse_pin(pin: &str) -> Result<[u8; 32], TlsError> {
    let digits: String = pin.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
    let bad = || TlsError::Pin(pin.to_owned());
    if digits.len() != 64 || !digits.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// Trusts exactly the certificates with the pinned fingerprints; the
/// handshake's signatures are still checked.
#[derive(Debug)]
struct Pinned {
    pins: Vec<[u8; 32]>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let digest = ring::digest::digest(&ring::digest::SHA256, end_entity);
        if self.pins.iter().any(|pin| pin.as_slice() == digest.as_ref()) {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the router's certificate (SHA-256 {}) is not one of the pinned certificates",
                fingerprint(end_entity)
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads every certificate of a PEM file.
fn certificates(what: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |reason: String| TlsError::File { what, path: path.to_owned(), reason };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(e.to_string()))?;
    if certs.is_empty() {
        return Err(fail("no certificate in it".into()));
    }
    Ok(certs)
}

/// The server side: the certificate chain and key of the router's
/// endpoint, offering HTTP/1.1 (what a WebSocket upgrade needs).
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TlsError> {
    let chain = certificates("the certificate chain", cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::File {
        what: "the private key",
        path: key.to_owned(),
        reason: e.to_string(),
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The client side: with `pins` (SHA-256 fingerprints, see
/// [`fingerprint`]), exactly the certificates pinned; otherwise the
/// system's root certificates (those that load) and the CA certificates of
/// `extra_cas`.
pub fn client_config(extra_cas: &[PathBuf], pins: &[String]) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let builder =
        rustls::ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    if !pins.is_empty() {
        let pins = pins.iter().map(|p| parse_pin(p)).collect::<Result<_, _>>()?;
        let verifier = Arc::new(Pinned { pins, provider: provider() });
        return Ok(Arc::new(
            builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth(),
        ));
    }
    let mut roots = rustls::RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    for error in &system.errors {
        tracing::debug!(%error, "a system root certificate could not be loaded");
    }
    let (added, ignored) = roots.add_parsable_certificates(system.certs);
    tracing::debug!(added, ignored, "system root certificates");
    for path in extra_cas {
        for cert in certificates("a CA certificate", path)? {
            roots.add(cert)?;
        }
    }
    Ok(Arc::new(builder.with_root_certificates(roots).with_no_client_auth()))
}

/// Whether an I/O error of a connection attempt is TLS refusing the peer
/// (a certificate it does not trust, a handshake it cannot complete):
/// trying again will not help.
pub(crate) fn is_tls_refusal(error: &std::io::Error) -> bool {
    error.get_ref().is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_sha256_fingerprints_with_or_without_colons() {
        let print = fingerprint(b"certificate");
        assert_eq!(print.len(), 32 * 3 - 1);
        assert_eq!(parse_pin(&print).unwrap(), parse_pin(&print.replace(':', "").to_lowercase()).unwrap());
        assert!(matches!(parse_pin("AB:CD"), Err(TlsError::Pin(_))));
        assert!(matches!(parse_pin(&"G".repeat(64)), Err(TlsError::Pin(_))));
        assert!(client_config(&[], &["nonsense".into()]).is_err());
    }
}
