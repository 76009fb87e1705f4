//! Reaching a WebSocket server through an HTTP proxy: a CONNECT tunnel
//! (RFC 9110, 9.3.6), with basic authentication if the proxy URL carries a
//! user, for `ws://` and `wss://` alike (TLS runs inside the tunnel, end
//! to end).
//!
//! The proxy comes from the client's options
//! ([`ConnectOptions::proxy`](crate::client::ConnectOptions), or
//! [`ClientOptions::proxy`](crate::websocket::ClientOptions)), or by
//! default from the usual variables: `HTTPS_PROXY` for `wss://`,
//! `HTTP_PROXY` for `ws://` (either also lowercase), unless `NO_PROXY`
//! names the server's host or the server is on this machine (`localhost`,
//! a loopback address).

use base64::Engine as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Which proxy a client uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Proxy {
    /// As the environment says (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`).
    #[default]
    FromEnvironment,
    /// No proxy.
    Direct,
    /// This proxy: `http://[user:password@]host:port`.
    Url(String),
}

/// A proxy to tunnel through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tunnel {
    /// `host:port` of the proxy.
    address: String,
    /// `user:password`, if any.
    credentials: Option<String>,
}

/// The proxy for a router at `host`, over TLS if `secure`; `Err` for a
/// proxy URL that cannot work.
pub(crate) fn tunnel_for(proxy: &Proxy, host: &str, secure: bool) -> Result<Option<Tunnel>, String> {
    let url = match proxy {
        Proxy::Direct => return Ok(None),
        Proxy::Url(url) => url.clone(),
        Proxy::FromEnvironment => {
            let names: &[&str] =
                if secure { &["HTTPS_PROXY", "https_proxy"] } else { &["HTTP_PROXY", "http_proxy"] };
            let Some(url) = names.iter().find_map(|n| std::env::var(n).ok()).filter(|u| !u.is_empty()) else {
                return Ok(None);
            };
            let no_proxy =
                ["NO_PROXY", "no_proxy"].iter().find_map(|n| std::env::var(n).ok()).unwrap_or_default();
            if loopback(host) || bypassed(&no_proxy, host) {
                return Ok(None);
            }
            url
        }
    };
    parse(&url).map(Some)
}

/// Whether `host` is this machine (`localhost`, a loopback address): never
/// reached through a proxy named by the environment.
fn loopback(host: &str) -> bool {
    let host = host.trim_matches(['[', ']']);
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether `NO_PROXY` (a comma-separated list of hosts, domain suffixes or
/// `*`) names `host`.
fn bypassed(no_proxy: &str, host: &str) -> bool {
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    no_proxy.split(',').map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()).any(|entry| {
        let entry = entry.split_once(':').map_or(entry.as_str(), |(h, _)| h).trim_start_matches('*');
        entry == "*"
            || entry.is_empty()
            || host == entry.trim_start_matches('.')
            || (host.ends_with(entry) && entry.starts_with('.'))
            || host.ends_with(&format!(".{entry}"))
    })
}

fn parse(url: &str) -> Result<Tunnel, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("proxy URL '{url}' must start with http:// (a CONNECT proxy)"))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let (credentials, address) = match authority.rsplit_once('@') {
        Some((user, address)) => (Some(percent_decode(user)), address),
        None => (None, authority),
    };
    if address.is_empty() {
        return Err(format!("proxy URL '{url}' names no host"));
    }
    let address = if address.rsplit_once(':').is_some_and(|(_, port)| port.parse::<u16>().is_ok()) {
        address.to_owned()
    } else {
        format!("{address}:80")
    };
    Ok(Tunnel { address, credentials })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = || {
            std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok().and_then(|h| u8::from_str_radix(h, 16).ok())
        };
        match (bytes[i], hex()) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why the tunnel could not be opened.
#[derive(Debug)]
pub(crate) enum TunnelError {
    /// Worth another attempt (the proxy is unreachable, or failed).
    Retry(String),
    /// Not (the proxy refused: credentials, policy).
    Refused(String),
}

/// The largest CONNECT answer read.
const MAX_ANSWER: usize = 16 * 1024;

impl Tunnel {
    /// Opens a TCP connection to `target` (`host:port`) through the proxy.
    pub(crate) async fn open(&self, target: &str) -> Result<TcpStream, TunnelError> {
        let retry = |e: std::io::Error| TunnelError::Retry(format!("proxy {}: {e}", self.address));
        let mut stream = TcpStream::connect(&self.address).await.map_err(retry)?;
        stream.set_nodelay(true).map_err(retry)?;
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(credentials) = &self.credentials {
            let encoded = base64::engine::general_purpose::STANDARD.encode(credentials);
            request.push_str(&format!("Proxy-Authorization: Basic {encoded}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.map_err(retry)?;
        // Read the answer's head byte by byte: what follows belongs to the
        // tunnel.
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            if head.len() >= MAX_ANSWER {
                return Err(TunnelError::Retry(format!("proxy {} sent an overlong answer", self.address)));
            }
            let byte = stream.read_u8().await.map_err(retry)?;
            head.push(byte);
        }
        let status_line =
            String::from_utf8_lossy(head.split(|b| *b == b'\r').next().unwrap_or_default()).into_owned();
        let status = status_line.split_whitespace().nth(1).and_then(|s| s.parse::<u16>().ok());
        match status {
            Some(200..=299) => Ok(stream),
            // 407 is the standard answer; some proxies (tinyproxy) send 401.
            Some(401 | 407) => Err(TunnelError::Refused(format!(
                "proxy {} wants other credentials ({status_line}); give them in the proxy URL, http://user:password@host:port",
                self.address
            ))),
            Some(400..=499) => {
                Err(TunnelError::Refused(format!("proxy {} refused the tunnel to {target}: {status_line}", self.address)))
            }
            _ => Err(TunnelError::Retry(format!("proxy {} could not open a tunnel to {target}: {status_line}", self.address))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_urls_give_address_and_credentials() {
        let t = parse("http://us%40er:p%3Ass@proxy.example:3128/").unwrap();
        assert_eq!(t.address, "proxy.example:3128");
        assert_eq!(t.credentials.as_deref(), Some("us@er:p:ss"));
        assert_eq!(parse("http://proxy.example").unwrap().address, "proxy.example:80");
        assert!(parse("socks5://proxy.example:1080").is_err());
        assert!(parse("http://").is_err());
    }

    #[test]
    fn no_proxy_names_hosts_and_domains() {
        let list = "localhost, .internal.example,example.org:8080";
        assert!(bypassed(list, "localhost"));
        assert!(bypassed(list, "a.internal.example"));
        assert!(bypassed(list, "example.org") && bypassed(list, "www.example.org"));
        assert!(!bypassed(list, "example.com") && !bypassed(list, "notexample.org"));
        assert!(bypassed("*", "anything.example"));
        assert!(!bypassed("", "anything.example"));
        assert!(loopback("localhost") && loopback("127.0.0.1") && loopback("[::1]"));
        assert!(!loopback("10.0.0.1") && !loopback("example.com"));
    }

    #[test]
    fn explicit_choices_override_the_environment() {
        assert_eq!(tunnel_for(&Proxy::Direct, "h", false), Ok(None));
        let t = tunnel_for(&Proxy::Url("http://p:1".into()), "h", true).unwrap().unwrap();
        assert_eq!(t.address, "p:1");
    }
}
