//! The client side of the WebSocket protocol: reaching the server (TCP,
//! an HTTP proxy's tunnel, TLS), the opening handshake (RFC 6455, 4.1),
//! then the same [`Reader`] and [`Writer`] as a server's connection, the
//! writer masking what it sends.
//!
//! The writer writes into the same buffers as on a server; where actix-web
//! takes them for the response body, a task here takes them for the
//! socket, and the writer sees a slow server just as it sees a slow
//! client.

use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::http::Uri;
use base64::Engine as _;
use bytes::BytesMut;
use futures_util::StreamExt as _;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio_util::io::ReaderStream;

use super::deflate::{self, Compression};
use super::writer::Body;
use super::{Link, Reader, Role, Writer};
use crate::transport::proxy::{self, Proxy, TunnelError};

/// The longest answer to the upgrade request read.
const MAX_ANSWER: usize = 16 * 1024;

/// How much a read of the socket takes at most.
const READ_CHUNK: usize = 64 * 1024;

/// Why a WebSocket connection could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is not a `ws://` or `wss://` URL with a host.
    #[error("invalid WebSocket URL {url}: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server (or the proxy) could not be reached, or the connection
    /// failed during the handshake.
    #[error("cannot reach {url}: {source}")]
    Io {
        /// The URL.
        url: String,
        /// The failure.
        source: std::io::Error,
    },
    /// TLS cannot be set up, or refused the server (a certificate not
    /// trusted, a handshake that cannot succeed).
    #[error("TLS refused {url}: {reason}")]
    Tls {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The HTTP proxy refused the tunnel (`retryable: false`: wrong
    /// credentials or a policy) or failed.
    #[error("{reason}")]
    Proxy {
        /// What the proxy said.
        reason: String,
        /// Whether another attempt may succeed.
        retryable: bool,
    },
    /// The server answered the upgrade with another HTTP status.
    #[error("{url} refused the WebSocket upgrade: {status}")]
    Refused {
        /// The URL.
        url: String,
        /// The status line, e.g. `HTTP/1.1 403 Forbidden`.
        status: String,
        /// The status code.
        code: u16,
    },
    /// The server's answer breaks RFC 6455 or 7692 (a wrong accept key,
    /// a subprotocol or extension that was not offered).
    #[error("{url} answered the WebSocket upgrade wrongly: {reason}")]
    Handshake {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

impl ConnectError {
    /// Whether another attempt may succeed: the network or the server
    /// failed, rather than refused or misunderstood.
    pub fn is_retryable(&self) -> bool {
        match self {
            ConnectError::Io { .. } => true,
            ConnectError::Proxy { retryable, .. } => *retryable,
            ConnectError::Refused { code, .. } => *code >= 500,
            ConnectError::InvalidUrl { .. } | ConnectError::Tls { .. } | ConnectError::Handshake { .. } => {
                false
            }
        }
    }
}

/// Where a `ws://` or `wss://` URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) secure: bool,
    /// The host, without brackets for IPv6.
    pub(crate) host: String,
    pub(crate) port: u16,
    /// The `Host` header: the host, and the port if not the scheme's.
    authority: String,
    /// The request target: path and query.
    resource: String,
}

impl Target {
    pub(crate) fn parse(url: &str) -> Result<Target, ConnectError> {
        let invalid =
            |reason: &str| ConnectError::InvalidUrl { url: url.to_owned(), reason: reason.to_owned() };
        let uri: Uri = url.parse().map_err(|e: actix_web::http::uri::InvalidUri| invalid(&e.to_string()))?;
        let secure = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => return Err(invalid("the scheme must be ws or wss")),
        };
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(|| invalid("there is no host"))?;
        let default_port = if secure { 443 } else { 80 };
        let port = uri.port_u16().unwrap_or(default_port);
        let authority = if port == default_port { host.to_owned() } else { format!("{host}:{port}") };
        let resource = uri.path_and_query().map(|p| p.as_str()).filter(|p| !p.is_empty()).unwrap_or("/");
        Ok(Target {
            secure,
            host: host.trim_start_matches('[').trim_end_matches(']').to_owned(),
            port,
            authority,
            resource: resource.to_owned(),
        })
    }
}

/// How to open one connection.
#[derive(Debug, Clone)]
pub(crate) struct Dial<'a> {
    pub(crate) url: &'a str,
    /// Subprotocols to offer, in order of preference.
    pub(crate) protocols: &'a [String],
    pub(crate) compression: &'a Compression,
    pub(crate) max_message_size: usize,
    pub(crate) tls_ca: &'a [PathBuf],
    pub(crate) tls_pins: &'a [String],
    pub(crate) proxy: &'a Proxy,
    /// Further request headers (e.g. `Origin`, `Authorization`).
    pub(crate) headers: &'a [(String, String)],
}

/// A TCP connection, with TLS or without.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The reader of a client connection.
pub(crate) type ClientReader = Reader<ReaderStream<ReadHalf<Stream>>>;

/// An open client connection.
pub(crate) struct Opened {
    pub(crate) reader: ClientReader,
    pub(crate) writer: Writer,
    /// The subprotocol the server chose.
    pub(crate) protocol: Option<String>,
    /// permessage-deflate was negotiated.
    pub(crate) compressed: bool,
}

/// Connects, upgrades and starts the task that writes to the socket (on
/// the current thread's local task set, as actix runs them).
pub(crate) async fn open(dial: &Dial<'_>) -> Result<Opened, ConnectError> {
    let target = Target::parse(dial.url)?;
    let stream = reach(dial, &target).await?;
    let (stream, handshake) = upgrade(stream, dial, &target).await?;
    let (deflater, inflater) = match &handshake.agreement {
        Some(agreement) => {
            let (deflater, inflater) = agreement.contexts();
            (Some(deflater), Some(inflater))
        }
        None => (None, None),
    };
    let (read, write) = tokio::io::split(stream);
    let link = Rc::new(std::cell::RefCell::new(Link::default()));
    let reader = Reader::new(
        ReaderStream::with_capacity(read, READ_CHUNK),
        handshake.leftover,
        dial.max_message_size,
        inflater,
        Role::Client,
        link.clone(),
    );
    let writer = Writer::new(link.clone(), deflater, Role::Client);
    actix_web::rt::spawn(send_body(Body::new(link), write));
    Ok(Opened { reader, writer, protocol: handshake.protocol, compressed: handshake.agreement.is_some() })
}

/// Hands what the writer wrote to the socket. Ends after the closing
/// frame, or when the socket fails; either way the writer learns that the
/// connection is gone when the body is dropped. The socket itself closes
/// once the reader is dropped too: a client leaves closing TCP to the
/// server (RFC 6455, 7.1.1).
async fn send_body(mut body: Body, mut write: WriteHalf<Stream>) {
    while let Some(Ok(chunk)) = body.next().await {
        if let Err(e) = write.write_all(&chunk).await {
            tracing::debug!(error = %e, "writing to the server failed");
            return;
        }
        // TLS holds what it encrypted until flushed.
        if let Err(e) = write.flush().await {
            tracing::debug!(error = %e, "writing to the server failed");
            return;
        }
    }
}

/// Opens TCP to the server, through the proxy if one applies, and TLS
/// for `wss://`.
async fn reach(dial: &Dial<'_>, target: &Target) -> Result<Stream, ConnectError> {
    let io = |source: std::io::Error| ConnectError::Io { url: dial.url.to_owned(), source };
    let tunnel = proxy::tunnel_for(dial.proxy, &target.host, target.secure)
        .map_err(|reason| ConnectError::Proxy { reason, retryable: false })?;
    let tcp = match tunnel {
        None => TcpStream::connect((target.host.as_str(), target.port)).await.map_err(io)?,
        Some(tunnel) => {
            let address = if target.host.contains(':') {
                format!("[{}]:{}", target.host, target.port)
            } else {
                format!("{}:{}", target.host, target.port)
            };
            tunnel.open(&address).await.map_err(|e| match e {
                TunnelError::Retry(reason) => ConnectError::Proxy { reason, retryable: true },
                TunnelError::Refused(reason) => ConnectError::Proxy { reason, retryable: false },
            })?
        }
    };
    tcp.set_nodelay(true).map_err(io)?;
    if !target.secure {
        return Ok(Stream::Plain(tcp));
    }
    let tls = |reason: String| ConnectError::Tls { url: dial.url.to_owned(), reason };
    let config =
        crate::transport::tls::client_config(dial.tls_ca, dial.tls_pins).map_err(|e| tls(e.to_string()))?;
    let name = rustls::pki_types::ServerName::try_from(target.host.clone())
        .map_err(|e| tls(format!("{} is not a valid server name: {e}", target.host)))?;
    let stream = tokio_rustls::TlsConnector::from(config).connect(name, tcp).await.map_err(|e| {
        if crate::transport::tls::is_tls_refusal(&e) {
            tls(e.to_string())
        } else {
            io(e)
        }
    })?;
    Ok(Stream::Tls(Box::new(stream)))
}

/// What the server agreed to.
struct Handshake {
    protocol: Option<String>,
    agreement: Option<deflate::Agreement>,
    /// What the server sent after its answer: the first frames.
    leftover: BytesMut,
}

/// The opening handshake: the upgrade request and the checks of RFC
/// 6455, 4.1 on the answer.
async fn upgrade(
    mut stream: Stream,
    dial: &Dial<'_>,
    target: &Target,
) -> Result<(Stream, Handshake), ConnectError> {
    let io = |source: std::io::Error| ConnectError::Io { url: dial.url.to_owned(), source };
    let wrong = |reason: String| ConnectError::Handshake { url: dial.url.to_owned(), reason };
    let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
    let mut request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
        target.resource, target.authority
    );
    if !dial.protocols.is_empty() {
        request.push_str(&format!("Sec-WebSocket-Protocol: {}\r\n", dial.protocols.join(", ")));
    }
    if dial.compression.enabled {
        dial.compression.validate().map_err(|reason| wrong(format!("compression settings: {reason}")))?;
        request.push_str(&format!("Sec-WebSocket-Extensions: {}\r\n", deflate::CLIENT_OFFER));
    }
    for (name, value) in dial.headers {
        if name.contains(['\r', '\n', ':']) || value.contains(['\r', '\n']) {
            return Err(wrong(format!("the request header {name:?} cannot be sent")));
        }
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.map_err(io)?;
    stream.flush().await.map_err(io)?;

    let mut buf = BytesMut::with_capacity(1024);
    let (head_len, (protocol, agreement)) = loop {
        if buf.len() >= MAX_ANSWER {
            return Err(wrong(format!("the answer's head is longer than {MAX_ANSWER} bytes")));
        }
        let read = tokio::io::AsyncReadExt::read_buf(&mut stream, &mut buf).await.map_err(io)?;
        if read == 0 {
            let eof =
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the server closed the connection");
            return Err(io(eof));
        }
        if let Some(read) = read_answer(&buf, &key, &Offered::of(dial))? {
            break read;
        }
    };
    let leftover = buf.split_off(head_len);
    Ok((stream, Handshake { protocol, agreement, leftover }))
}

/// The subprotocol and compression the server agreed to.
pub(crate) type Agreed = (Option<String>, Option<deflate::Agreement>);

/// What an upgrade request offered, which the answer must stay within.
pub(crate) struct Offered<'a> {
    /// The URL, for error messages.
    pub(crate) url: &'a str,
    /// The subprotocols offered.
    pub(crate) protocols: &'a [String],
    /// Whether (and how) permessage-deflate was offered.
    pub(crate) compression: &'a Compression,
}

impl<'a> Offered<'a> {
    fn of(dial: &Dial<'a>) -> Self {
        Offered { url: dial.url, protocols: dial.protocols, compression: dial.compression }
    }
}

/// Reads the server's answer to a request sent with `key`, from the start
/// of `buf`: `None` while its head is incomplete, then the head's length
/// and what was agreed, or why the connection must fail.
pub(crate) fn read_answer(
    buf: &[u8],
    key: &str,
    offered: &Offered<'_>,
) -> Result<Option<(usize, Agreed)>, ConnectError> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(buf) {
        Ok(httparse::Status::Partial) => Ok(None),
        Ok(httparse::Status::Complete(len)) => Ok(Some((len, check_answer(&response, key, offered)?))),
        Err(e) => Err(ConnectError::Handshake {
            url: offered.url.to_owned(),
            reason: format!("the answer is not HTTP: {e}"),
        }),
    }
}

/// Checks the server's answer: 101, the upgrade headers, the accept key,
/// and a subprotocol and extension among those offered.
fn check_answer(
    response: &httparse::Response<'_, '_>,
    key: &str,
    offered: &Offered<'_>,
) -> Result<Agreed, ConnectError> {
    let wrong = |reason: String| ConnectError::Handshake { url: offered.url.to_owned(), reason };
    let code = response.code.unwrap_or(0);
    if code != 101 {
        let status = format!("HTTP {code} {}", response.reason.unwrap_or(""));
        return Err(ConnectError::Refused {
            url: offered.url.to_owned(),
            status: status.trim_end().to_owned(),
            code,
        });
    }
    let values = |name: &str| {
        response
            .headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
            .collect::<Vec<_>>()
    };
    let tokens = |name: &str| {
        values(name)
            .iter()
            .flat_map(|v| v.split(',').map(|t| t.trim().to_ascii_lowercase()).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    if !tokens("upgrade").iter().any(|t| t == "websocket") {
        return Err(wrong("no `Upgrade: websocket`".into()));
    }
    if !tokens("connection").iter().any(|t| t == "upgrade") {
        return Err(wrong("no `Connection: Upgrade`".into()));
    }
    let expected = actix_http::ws::hash_key(key.as_bytes());
    if values("sec-websocket-accept").first().map(String::as_bytes) != Some(&expected[..]) {
        return Err(wrong("the Sec-WebSocket-Accept key does not match the request's".into()));
    }
    let protocol = match values("sec-websocket-protocol").as_slice() {
        [] => None,
        [one] if offered.protocols.iter().any(|p| p == one) => Some(one.clone()),
        other => return Err(wrong(format!("it chose the subprotocol {other:?}, which was not offered"))),
    };
    let agreement = match values("sec-websocket-extensions").as_slice() {
        [] => None,
        [answer] if offered.compression.enabled => {
            Some(deflate::client_agreement(answer, offered.compression).map_err(wrong)?)
        }
        other => return Err(wrong(format!("it chose the extensions {other:?}, which were not offered"))),
    };
    Ok((protocol, agreement))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_host_port_and_resource() {
        let t = Target::parse("wss://example.com/ws?x=1").unwrap();
        assert!(t.secure);
        assert_eq!(
            (t.host.as_str(), t.port, t.authority.as_str(), t.resource.as_str()),
            ("example.com", 443, "example.com", "/ws?x=1")
        );
        let t = Target::parse("ws://127.0.0.1:8080").unwrap();
        assert_eq!((t.port, t.authority.as_str(), t.resource.as_str()), (8080, "127.0.0.1:8080", "/"));
        let t = Target::parse("ws://[::1]:9000/ws").unwrap();
        assert_eq!((t.host.as_str(), t.authority.as_str()), ("::1", "[::1]:9000"));
        for bad in ["http://example.com/", "example.com", "ws:///path", "ws://exa mple"] {
            assert!(matches!(Target::parse(bad), Err(ConnectError::InvalidUrl { .. })), "{bad}");
        }
    }

    #[test]
    fn only_network_failures_are_worth_retrying() {
        let url = String::from("ws://h/");
        assert!(ConnectError::Io { url: url.clone(), source: std::io::ErrorKind::ConnectionRefused.into() }
            .is_retryable());
        assert!(
            ConnectError::Refused { url: url.clone(), status: "HTTP 503".into(), code: 503 }.is_retryable()
        );
        assert!(
            !ConnectError::Refused { url: url.clone(), status: "HTTP 404".into(), code: 404 }.is_retryable()
        );
        assert!(!ConnectError::Tls { url: url.clone(), reason: String::new() }.is_retryable());
        assert!(!ConnectError::Handshake { url, reason: String::new() }.is_retryable());
    }
}
