//! URIs in messages, and their validation.
//!
//! WAMP URIs are dot-separated components. The **loose** rule (the default)
//! forbids only whitespace, `#` and empty components; the **strict** rule
//! allows only lower-case letters, digits and `_`. Patterns for prefix and
//! wildcard matching may have empty components; they are checked with
//! [`UriPolicy::check_pattern`].

/// A URI in a message ([`WampMessage::Call`](super::WampMessage::Call)'s
/// procedure): borrowed when the sender knows it when compiled (a string
/// literal given to [`Session::call`](crate::Session::call), a generated
/// client's), so calling it allocates nothing; owned when it was read off
/// the wire or built at run time. The session's methods take
/// `impl Into<Uri>` for every procedure and topic.
///
/// ```
/// use wamp::protocol::Uri;
/// let known: Uri = "com.example.add2".into();
/// let read: Uri = String::from("com.example.add2").into();
/// assert_eq!(known, read);
/// ```
pub type Uri = std::borrow::Cow<'static, str>;

/// How strictly URIs are checked at the router's entry points.
///
/// ```
/// use wamp::protocol::UriPolicy;
/// assert!(UriPolicy::Loose.check("com.myapp.Topic-1"));
/// assert!(!UriPolicy::Strict.check("com.myapp.Topic-1"));
/// assert!(!UriPolicy::Loose.check("com..myapp"));
/// assert!(UriPolicy::Loose.check_pattern("com..myapp"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UriPolicy {
    /// Any non-empty components without whitespace or `#`.
    #[default]
    Loose,
    /// Components of `[0-9a-z_]` only.
    Strict,
}

impl UriPolicy {
    /// Whether `uri` is a valid URI (no empty components).
    pub fn check(self, uri: &str) -> bool {
        self.components_ok(uri, false)
    }

    /// Whether `pattern` is a valid pattern URI (empty components allowed,
    /// as wildcard subscriptions and registrations use them).
    pub fn check_pattern(self, pattern: &str) -> bool {
        self.components_ok(pattern, true)
    }

    fn components_ok(self, uri: &str, allow_empty: bool) -> bool {
        if uri.is_empty() {
            return false;
        }
        uri.split('.').all(|component| {
            if component.is_empty() {
                return allow_empty;
            }
            match self {
                UriPolicy::Loose => !component.chars().any(|c| c.is_whitespace() || c == '#'),
                UriPolicy::Strict => {
                    component.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                }
            }
        })
    }
}

/// Why a URI was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriProblem {
    /// It breaks the character or component rules.
    Invalid,
    /// It is longer than the limit (in bytes).
    TooLong {
        /// The limit.
        limit: usize,
    },
}

/// The URI rules of a router: the character policy and a length limit.
///
/// ```
/// use wamp::protocol::{UriPolicy, UriProblem, UriRules};
/// let rules = UriRules { policy: UriPolicy::Loose, max_length: 8 };
/// assert_eq!(rules.check("com.a"), Ok(()));
/// assert_eq!(rules.check("com.example"), Err(UriProblem::TooLong { limit: 8 }));
/// assert_eq!(rules.check("com..a"), Err(UriProblem::Invalid));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UriRules {
    /// The character and component rules.
    pub policy: UriPolicy,
    /// The longest URI accepted, in bytes.
    pub max_length: usize,
}

/// The default longest URI, in bytes.
pub const DEFAULT_MAX_URI_LENGTH: usize = 1024;

impl Default for UriRules {
    fn default() -> Self {
        UriPolicy::default().into()
    }
}

impl From<UriPolicy> for UriRules {
    fn from(policy: UriPolicy) -> Self {
        UriRules { policy, max_length: DEFAULT_MAX_URI_LENGTH }
    }
}

impl UriRules {
    /// Checks a URI (no empty components).
    pub fn check(&self, uri: &str) -> Result<(), UriProblem> {
        if uri.len() > self.max_length {
            Err(UriProblem::TooLong { limit: self.max_length })
        } else if self.policy.check(uri) {
            Ok(())
        } else {
            Err(UriProblem::Invalid)
        }
    }

    /// Checks a pattern URI of a prefix or wildcard subscription or
    /// registration (empty components allowed).
    pub fn check_pattern(&self, pattern: &str) -> Result<(), UriProblem> {
        if pattern.len() > self.max_length {
            Err(UriProblem::TooLong { limit: self.max_length })
        } else if self.policy.check_pattern(pattern) {
            Ok(())
        } else {
            Err(UriProblem::Invalid)
        }
    }

    /// Explains why `uri`, a `what` URI (topic, procedure, realm), was
    /// refused; a long URI is not repeated.
    pub fn explain(problem: UriProblem, what: &str, uri: &str) -> String {
        match problem {
            UriProblem::Invalid => format!("'{uri}' is not a valid {what} URI"),
            UriProblem::TooLong { limit } => format!(
                "the {what} URI is {} bytes long, over the router's limit of {limit} (max_uri_length)",
                uri.len()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::UriPolicy::{Loose, Strict};

    #[test]
    fn loose_rules() {
        for ok in ["a", "com.example.add2", "Com.Ex-ample.ÄÖ", "wamp.error.x"] {
            assert!(Loose.check(ok), "{ok}");
        }
        for bad in ["", ".", "a.", ".a", "a..b", "a b", "a.#", "a\tb"] {
            assert!(!Loose.check(bad), "{bad:?}");
        }
    }

    #[test]
    fn strict_rules() {
        assert!(Strict.check("com.example_1.add2"));
        assert!(!Strict.check("com.Example"));
        assert!(!Strict.check("com.ex-ample"));
    }

    #[test]
    fn patterns_allow_empty_components() {
        assert!(Loose.check_pattern("com..add"));
        assert!(Loose.check_pattern("com.example."));
        assert!(!Loose.check_pattern(""));
    }
}
