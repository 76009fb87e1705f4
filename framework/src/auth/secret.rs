//! Secrets in the configuration: given inline, or read from an
//! environment variable or a file so that the configuration file itself
//! need not hold them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a principal's secret (a ticket, a WAMP-CRA secret) comes from.
/// Exactly one of the three is set. Its `Debug` form never shows the
/// value.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    /// The secret itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// An environment variable holding the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// A file holding the secret (trailing line breaks are ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_file: Option<String>,
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretSource")
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("secret_env", &self.secret_env)
            .field("secret_file", &self.secret_file)
            .finish()
    }
}

/// Why a secret could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// None, or more than one, of `secret`, `secret_env`, `secret_file`.
    #[error("give exactly one of secret, secret_env and secret_file")]
    NotOne,
    /// The environment variable is not set (or not Unicode).
    #[error("the environment variable {0} is not set")]
    MissingVariable(String),
    /// The file cannot be read.
    #[error("cannot read the secret file {file}: {reason}")]
    File {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// The secret is empty.
    #[error("the secret is empty")]
    Empty,
}

impl SecretSource {
    /// An inline secret.
    pub fn inline(secret: impl Into<String>) -> Self {
        SecretSource { secret: Some(secret.into()), ..Default::default() }
    }

    /// Reads the secret from where it is.
    pub fn read(&self) -> Result<Secret, SecretError> {
        let value = match (&self.secret, &self.secret_env, &self.secret_file) {
            (Some(secret), None, None) => secret.clone(),
            (None, Some(var), None) => {
                std::env::var(var).map_err(|_| SecretError::MissingVariable(var.clone()))?
            }
            (None, None, Some(file)) => std::fs::read_to_string(file)
                .map_err(|e| SecretError::File { file: file.clone(), reason: e.to_string() })?
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
            _ => return Err(SecretError::NotOne),
        };
        if value.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Secret(value))
    }
}

/// A secret read into memory; its `Debug` form never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret from its text.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret's text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_come_from_one_place_and_never_show_in_debug_output() {
        assert_eq!(SecretSource::inline("s3cret").read().unwrap().expose(), "s3cret");
        assert!(!format!("{:?}", SecretSource::inline("s3cret")).contains("s3cret"));
        assert!(!format!("{:?}", Secret::new("s3cret")).contains("s3cret"));
        let both = SecretSource { secret: Some("a".into()), secret_env: Some("B".into()), secret_file: None };
        assert_eq!(both.read(), Err(SecretError::NotOne));
        assert_eq!(SecretSource::default().read(), Err(SecretError::NotOne));
        let missing =
            SecretSource { secret_env: Some("WAMP_TEST_SURELY_UNSET_1234".into()), ..Default::default() };
        assert_eq!(missing.read(), Err(SecretError::MissingVariable("WAMP_TEST_SURELY_UNSET_1234".into())));
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), "from-a-file\n").unwrap();
        let from_file =
            SecretSource { secret_file: Some(file.path().display().to_string()), ..Default::default() };
        assert_eq!(from_file.read().unwrap().expose(), "from-a-file");
        assert_eq!(SecretSource::inline("").read(), Err(SecretError::Empty));
    }
}
