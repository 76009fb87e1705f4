//! Which web pages may open a WebSocket to an endpoint.
//!
//! A browser names the page that opens a WebSocket in the `Origin` header
//! of the upgrade request; without a check, any site a user visits could
//! talk to the router with the user's cookies and network position. An
//! endpoint lists the origins it accepts; a pattern may use `*` for any run
//! of characters (`https://*.example.com`), and `*` alone accepts every
//! origin. Requests without `Origin` (programs, not browsers) are always
//! accepted: the header is the browser's statement, and other clients can
//! send anything in it.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

/// The origins an endpoint accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigins {
    /// Lowercase patterns; empty when any origin is accepted.
    patterns: Vec<String>,
    any: bool,
}

impl Default for AllowedOrigins {
    fn default() -> Self {
        Self::any()
    }
}

impl AllowedOrigins {
    /// Every origin.
    pub fn any() -> Self {
        AllowedOrigins { patterns: Vec::new(), any: true }
    }

    /// The origins matching one of `patterns` (`*` alone: every origin).
    pub fn new<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> Self {
        let patterns: Vec<String> =
            patterns.into_iter().map(|p| p.as_ref().trim().to_ascii_lowercase()).collect();
        AllowedOrigins { any: patterns.iter().any(|p| p == "*"), patterns }
    }

    /// Whether `origin` is accepted.
    pub fn accepts(&self, origin: &str) -> bool {
        self.any || self.patterns.iter().any(|p| glob(p.as_bytes(), origin.to_ascii_lowercase().as_bytes()))
    }

    /// The answer to an upgrade request from an origin that is not
    /// accepted (HTTP 403 naming it), or `None` to go on.
    pub fn refuse(&self, req: &HttpRequest) -> Option<HttpResponse> {
        if self.any {
            return None;
        }
        let origin = req.headers().get(header::ORIGIN)?;
        let text = String::from_utf8_lossy(origin.as_bytes());
        if self.accepts(&text) {
            return None;
        }
        tracing::warn!(peer = ?req.peer_addr(), origin = %text, "upgrade refused: origin not allowed");
        Some(
            HttpResponse::Forbidden()
                .insert_header(header::ContentType::plaintext())
                .body(format!("WebSocket connections from the origin '{text}' are not allowed here\n")),
        )
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of
/// bytes.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // The last `*` seen, and where in `text` its run would end next.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|b| *b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_origins_and_patterns() {
        let allowed = AllowedOrigins::new(["https://app.example.com", "https://*.example.org"]);
        assert!(allowed.accepts("https://app.example.com"));
        assert!(allowed.accepts("https://eu.example.org"));
        assert!(!allowed.accepts("https://evil.example.net"));
        assert!(AllowedOrigins::any().accepts("https://evil.example.net"));
    }

    #[test]
    fn patterns_match_whole_origins_with_stars_for_any_run() {
        let allowed = AllowedOrigins::new(["https://*.example.com", "http://localhost:*"]);
        for ok in [
            "https://a.example.com",
            "https://a.b.example.com",
            "HTTPS://A.EXAMPLE.COM",
            "http://localhost:3000",
        ] {
            assert!(allowed.accepts(ok), "{ok}");
        }
        for refused in [
            "https://example.com",
            "https://a.example.com.evil.net",
            "http://a.example.com",
            "null",
            "",
            "https://localhost:3000",
        ] {
            assert!(!allowed.accepts(refused), "{refused}");
        }
        assert!(
            !AllowedOrigins::new(Vec::<String>::new()).accepts("https://a.example.com"),
            "an empty list refuses all"
        );
        assert!(AllowedOrigins::new(["*"]).accepts("null"));
    }
}
