//! permessage-deflate (RFC 7692) on the server endpoints, seen from a
//! client that writes its frames byte by byte: what is negotiated, that
//! compressed messages (whole and fragmented) arrive intact and come back
//! compressed, and what a careless or hostile peer gets (bombs, garbage,
//! RSV1 without negotiation). AutobahnPython and AutobahnJS over a
//! compressing router are in `interop_peers.rs`; the WebSocket
//! testsuite's compression cases run against the echo example.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use actix_web::{App, HttpServer};
use flate2::{Compress, Decompress, FlushCompress, FlushDecompress};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use wamp::websocket::{self, Compression, Settings, Socket, WebSocketHandler, WebSocketMessage};
use wamp::RouterConfig;
use wamp_tests::TestRouter;

const STEP: Duration = Duration::from_secs(10);

struct Echo;

impl WebSocketHandler for Echo {
    fn on_message(&mut self, socket: &mut Socket, message: WebSocketMessage) {
        let _ = socket.send(message);
    }
}

/// A plain echo at `/ws` with `settings`; returns its address.
fn serve(settings: Settings) -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new().service(websocket::endpoint("/ws", settings.clone(), || Echo))
            })
            .workers(1)
            .bind("127.0.0.1:0")
            .expect("bind a loopback port");
            tx.send(server.addrs()[0]).expect("the test waits");
            let _ = server.run().await;
        });
    });
    rx.recv().expect("server started")
}

/// A frame from the server.
#[derive(Debug)]
struct Frame {
    fin: bool,
    rsv1: bool,
    op: u8,
    payload: Vec<u8>,
}

/// A client speaking frames by hand, with the client's half of
/// permessage-deflate (context takeover both ways).
struct RawClient {
    stream: TcpStream,
    buf: Vec<u8>,
    /// The server's answer in `Sec-WebSocket-Extensions`, if any.
    extensions: Option<String>,
    deflate: Compress,
    inflate: Decompress,
}

impl RawClient {
    async fn connect(
        addr: std::net::SocketAddr,
        path: &str,
        protocol: Option<&str>,
        offer: Option<&str>,
    ) -> Self {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        );
        if let Some(protocol) = protocol {
            request.push_str(&format!("Sec-WebSocket-Protocol: {protocol}\r\n"));
        }
        if let Some(offer) = offer {
            request.push_str(&format!("Sec-WebSocket-Extensions: {offer}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(STEP, stream.read(&mut chunk)).await.unwrap().unwrap();
            assert!(n > 0, "the server closed during the upgrade");
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(buf[..end].to_vec()).unwrap();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        let extensions = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-extensions").then(|| value.trim().to_owned())
        });
        RawClient {
            stream,
            buf: buf[end..].to_vec(),
            extensions,
            deflate: Compress::new(flate2::Compression::default(), false),
            inflate: Decompress::new(false),
        }
    }

    /// Sends one masked frame.
    async fn send_frame(&mut self, first: u8, payload: &[u8]) {
        let mask = [0x11, 0x22, 0x33, 0x44];
        let mut frame = vec![first];
        match payload.len() {
            len @ 0..=125 => frame.push(0x80 | len as u8),
            len @ 126..=65535 => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).await.unwrap();
    }

    /// Compresses a message with the client's stream, as RFC 7692 says
    /// (sync flush, its tail left off).
    fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len() + 64);
        self.deflate.compress_vec(data, &mut out, FlushCompress::Sync).unwrap();
        assert!(out.len() < out.capacity(), "room for all of it");
        assert!(out.ends_with(&[0, 0, 0xFF, 0xFF]));
        out.truncate(out.len() - 4);
        out
    }

    fn inflate(&mut self, data: &[u8]) -> Vec<u8> {
        let mut input = data.to_vec();
        input.extend_from_slice(&[0, 0, 0xFF, 0xFF]);
        let mut out = Vec::with_capacity(1 << 22);
        self.inflate.decompress_vec(&input, &mut out, FlushDecompress::Sync).unwrap();
        out
    }

    /// The next frame from the server; `None` once it closed the socket.
    async fn next_frame(&mut self) -> Option<Frame> {
        loop {
            if self.buf.len() >= 2 {
                let (first, second) = (self.buf[0], self.buf[1]);
                assert_eq!(second & 0x80, 0, "server frames are not masked");
                let (len, header) = match second & 0x7F {
                    126 if self.buf.len() >= 4 => {
                        (u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize, 4)
                    }
                    127 if self.buf.len() >= 10 => {
                        (u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize, 10)
                    }
                    126 | 127 => (usize::MAX, 0),
                    len => (len as usize, 2),
                };
                if len != usize::MAX && self.buf.len() >= header + len {
                    let payload = self.buf[header..header + len].to_vec();
                    self.buf.drain(..header + len);
                    return Some(Frame {
                        fin: first & 0x80 != 0,
                        rsv1: first & 0x40 != 0,
                        op: first & 0x0F,
                        payload,
                    });
                }
            }
            let mut chunk = [0u8; 65536];
            let n = tokio::time::timeout(STEP, self.stream.read(&mut chunk)).await.unwrap().unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads up to the server's closing frame and returns its code.
    async fn close_code(&mut self) -> u16 {
        while let Some(frame) = self.next_frame().await {
            if frame.op == 0x8 {
                assert!(frame.payload.len() >= 2, "a close code");
                return u16::from_be_bytes([frame.payload[0], frame.payload[1]]);
            }
        }
        panic!("the server closed without a closing frame");
    }
}

/// JSON like WAMP's: the same keys over and over.
fn repetitive_text(bytes: usize) -> String {
    let mut text = String::from("[");
    let mut i = 0;
    while text.len() < bytes {
        text.push_str(&format!(r#"{{"sensor":"room-{}","unit":"celsius","value":{}.5}},"#, i % 7, i % 31));
        i += 1;
    }
    text.push_str("0]");
    text
}

#[tokio::test]
async fn compressed_messages_arrive_intact_and_come_back_compressed() {
    let settings = Settings::default().compression(Compression::enabled());
    let addr = serve(settings);
    let mut client =
        RawClient::connect(addr, "/ws", None, Some("permessage-deflate; client_max_window_bits")).await;
    assert_eq!(client.extensions.as_deref(), Some("permessage-deflate"));

    for round in 0..3 {
        let text = repetitive_text(10_000 + round);
        let compressed = client.compress(text.as_bytes());
        assert!(compressed.len() < text.len() / 4);
        if round == 1 {
            // Fragmented: RSV1 on the first frame only.
            let third = compressed.len() / 3;
            client.send_frame(0x41, &compressed[..third]).await;
            client.send_frame(0x00, &compressed[third..2 * third]).await;
            client.send_frame(0x80, &compressed[2 * third..]).await;
        } else {
            client.send_frame(0xC1, &compressed).await;
        }
        let echo = client.next_frame().await.expect("the echo");
        assert!(echo.fin && echo.rsv1 && echo.op == 0x1, "round {round}: {echo:?}");
        assert!(echo.payload.len() < text.len() / 4, "round {round}: compressed");
        assert_eq!(client.inflate(&echo.payload), text.as_bytes(), "round {round}");
    }

    // Below the threshold: the echo goes out as it is; so does an
    // uncompressed message from the client.
    let short = client.compress(b"hi");
    client.send_frame(0xC2, &short).await;
    let echo = client.next_frame().await.unwrap();
    assert!(!echo.rsv1 && echo.op == 0x2 && echo.payload == b"hi", "{echo:?}");
    client.send_frame(0x81, b"plain").await;
    let echo = client.next_frame().await.unwrap();
    assert!(!echo.rsv1 && echo.payload == b"plain", "{echo:?}");

    client.send_frame(0x88, &1000u16.to_be_bytes()).await;
    assert_eq!(client.close_code().await, 1000);
}

#[tokio::test]
async fn compression_is_answered_only_when_on_and_offered() {
    let off = serve(Settings::default());
    let client = RawClient::connect(off, "/ws", None, Some("permessage-deflate")).await;
    assert_eq!(client.extensions, None, "off by default");

    let on = serve(Settings::default().compression(Compression::enabled()));
    let client = RawClient::connect(on, "/ws", None, None).await;
    assert_eq!(client.extensions, None, "not offered");
    let client =
        RawClient::connect(on, "/ws", None, Some("permessage-deflate; server_max_window_bits=8")).await;
    assert_eq!(client.extensions, None, "a window zlib cannot honour");
    let offers = "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_no_context_takeover; server_max_window_bits=10";
    let client = RawClient::connect(on, "/ws", None, Some(offers)).await;
    assert_eq!(
        client.extensions.as_deref(),
        Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=10"),
    );
}

#[tokio::test]
async fn a_bomb_closes_with_1009_and_garbage_with_1007_and_the_endpoint_lives_on() {
    let limit = 64 * 1024;
    let addr = serve(Settings::default().max_message_size(limit).compression(Compression::enabled()));

    // 16 MiB of zeros deflate to about 16 KiB: under the limit on the
    // wire, far over it inflated.
    let mut bomb = RawClient::connect(addr, "/ws", None, Some("permessage-deflate")).await;
    let zeros = vec![0u8; 16 << 20];
    let mut compressed = Vec::with_capacity(1 << 20);
    bomb.deflate.compress_vec(&zeros, &mut compressed, FlushCompress::Sync).unwrap();
    assert!(compressed.len() < limit, "{}", compressed.len());
    bomb.send_frame(0xC2, &compressed[..compressed.len() - 4]).await;
    assert_eq!(bomb.close_code().await, 1009);

    let mut garbage = RawClient::connect(addr, "/ws", None, Some("permessage-deflate")).await;
    garbage.send_frame(0xC2, &[0xFF; 40]).await;
    assert_eq!(garbage.close_code().await, 1007);

    // RSV1 on a connection that did not negotiate compression.
    let mut plain = RawClient::connect(addr, "/ws", None, None).await;
    plain.send_frame(0xC1, b"x").await;
    assert_eq!(plain.close_code().await, 1002);

    let mut fine = RawClient::connect(addr, "/ws", None, Some("permessage-deflate")).await;
    let text = repetitive_text(5000);
    let compressed = fine.compress(text.as_bytes());
    fine.send_frame(0xC1, &compressed).await;
    let echo = fine.next_frame().await.unwrap();
    assert_eq!(fine.inflate(&echo.payload), text.as_bytes());
}

#[tokio::test]
async fn the_wamp_endpoint_compresses_and_refuses_bombs_too() {
    let limit = 64 * 1024;
    let router = TestRouter::with_config(RouterConfig {
        compression: true,
        max_message_size: limit,
        ..RouterConfig::default()
    });
    let mut client = RawClient::connect(
        router.addr,
        "/ws",
        Some("wamp.2.json"),
        Some("permessage-deflate; client_max_window_bits"),
    )
    .await;
    assert_eq!(client.extensions.as_deref(), Some("permessage-deflate"));
    let hello = br#"[1,"realm1",{"roles":{"caller":{},"callee":{},"publisher":{},"subscriber":{}}}]"#;
    let compressed = client.compress(hello);
    client.send_frame(0xC1, &compressed).await;
    let welcome = client.next_frame().await.unwrap();
    assert!(welcome.rsv1, "WELCOME is longer than the threshold");
    let welcome = String::from_utf8(client.inflate(&welcome.payload)).unwrap();
    assert!(welcome.starts_with("[2,"), "{welcome}");

    let zeros = format!("[16,1,{{}},\"com.example\",[\"{}\"]]", "0".repeat(16 << 20));
    let mut bomb = Vec::with_capacity(1 << 20);
    client.deflate.compress_vec(zeros.as_bytes(), &mut bomb, FlushCompress::Sync).unwrap();
    client.send_frame(0xC1, &bomb[..bomb.len() - 4]).await;
    assert_eq!(client.close_code().await, 1009);
}
