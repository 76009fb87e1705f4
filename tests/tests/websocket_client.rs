//! The plain WebSocket client (`wamp::websocket::connect`) over real
//! sockets: against our endpoint (plain, compressed, refused), against our
//! router over `wss://`, and the WAMP client's compression, measured in
//! bytes on the wire.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use actix_web::HttpRequest;
use tokio::sync::mpsc;
use wamp::client::{Arguments, Client, ConnectOptions, RegisterOptions};
use wamp::protocol::Serializer;
use wamp::websocket::{
    self, Accept, ClientOptions, Closed, Compression, ConnectError, Settings, Socket, WebSocketHandler,
    WebSocketMessage,
};
use wamp::RouterConfig;
use wamp_tests::certs::TestCa;
use wamp_tests::{serve_websocket, PlainHello, TestRouter};

const STEP: Duration = Duration::from_secs(10);

/// Sends every message back, and chooses `chat` when offered.
struct Echo;

impl WebSocketHandler for Echo {
    fn on_connect(&mut self, request: &HttpRequest) -> Result<Accept, actix_web::Error> {
        let offered = request.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok());
        match offered {
            Some(list) if list.split(',').any(|p| p.trim() == "chat") => Ok(Accept::new().protocol("chat")),
            _ => Ok(Accept::new()),
        }
    }

    fn on_message(&mut self, socket: &mut Socket, message: WebSocketMessage) {
        let _ = socket.send(message);
    }
}

/// What the client's handler saw.
#[derive(Debug, PartialEq)]
enum Seen {
    Open,
    Message(WebSocketMessage),
    Close(Closed),
}

/// Sends `script` on opening, records everything, and closes with 1000
/// after `expect` messages.
struct Script {
    script: Vec<WebSocketMessage>,
    expect: usize,
    seen: mpsc::UnboundedSender<Seen>,
}

impl WebSocketHandler for Script {
    fn on_open(&mut self, socket: &mut Socket) {
        let _ = self.seen.send(Seen::Open);
        for message in self.script.drain(..) {
            socket.send(message).unwrap();
        }
    }

    fn on_message(&mut self, socket: &mut Socket, message: WebSocketMessage) {
        let _ = self.seen.send(Seen::Message(message));
        self.expect -= 1;
        if self.expect == 0 {
            socket.close(1000, "done");
        }
    }

    fn on_close(&mut self, closed: Closed) {
        let _ = self.seen.send(Seen::Close(closed));
    }
}

fn script(messages: Vec<WebSocketMessage>) -> (Script, mpsc::UnboundedReceiver<Seen>) {
    let (seen, events) = mpsc::unbounded_channel();
    (Script { expect: messages.len(), script: messages, seen }, events)
}

fn messages() -> Vec<WebSocketMessage> {
    vec![
        WebSocketMessage::Text("hello".into()),
        WebSocketMessage::Binary(vec![0u8, 1, 2, 255].into()),
        WebSocketMessage::Text(r#"{"reading":21.5,"unit":"celsius"}"#.repeat(2_000)),
        WebSocketMessage::Binary((0..200_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>().into()),
        WebSocketMessage::Text(String::new()),
    ]
}

async fn next(events: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(STEP, events.recv()).await.expect("the next event in time").expect("an event")
}

/// Runs `handler`'s script against `url` and checks that every message
/// came back in order and the close was clean.
async fn round_trip(options: ClientOptions) -> websocket::ClientConnection {
    let (handler, mut events) = script(messages());
    let connection = websocket::connect(options, handler).await.unwrap();
    assert_eq!(next(&mut events).await, Seen::Open);
    for sent in messages() {
        assert_eq!(next(&mut events).await, Seen::Message(sent));
    }
    // The server's answer to our closing frame: our code, no reason.
    let closed = Closed { clean: true, code: Some(1000), reason: String::new() };
    assert_eq!(next(&mut events).await, Seen::Close(closed));
    connection
}

#[actix_web::test]
async fn the_client_echoes_whole_messages_and_closes_cleanly() {
    let url = serve_websocket(Settings::default(), || Echo);
    let connection = round_trip(ClientOptions::new(&url).protocol("other").protocol("chat")).await;
    assert_eq!(connection.protocol(), Some("chat"));
    assert!(!connection.is_compressed());
    let closed = tokio::time::timeout(STEP, connection.closed()).await.unwrap();
    assert!(closed.clean && closed.code == Some(1000), "{closed:?}");
}

#[actix_web::test]
async fn the_client_compresses_when_both_sides_agree() {
    let compressing = Settings::default().compression(Compression::enabled());
    let url = serve_websocket(compressing, || Echo);
    let connection = round_trip(ClientOptions::new(&url).compression(Compression::enabled())).await;
    assert!(connection.is_compressed());
    // A server without compression: the offer is declined, all else works.
    let url = serve_websocket(Settings::default(), || Echo);
    let connection = round_trip(ClientOptions::new(&url).compression(Compression::enabled())).await;
    assert!(!connection.is_compressed());
}

/// Refuses every upgrade with 403.
struct Refuse;

impl WebSocketHandler for Refuse {
    fn on_connect(&mut self, _: &HttpRequest) -> Result<Accept, actix_web::Error> {
        Err(actix_web::error::ErrorForbidden("not you"))
    }

    fn on_message(&mut self, _: &mut Socket, _: WebSocketMessage) {}
}

#[actix_web::test]
async fn failures_are_told_at_once_with_their_cause() {
    let url = serve_websocket(Settings::default(), || Refuse);
    let (handler, _) = script(Vec::new());
    match websocket::connect(ClientOptions::new(&url), handler).await {
        Err(ConnectError::Refused { code: 403, ref status, .. }) => {
            assert!(status.contains("403"), "{status}")
        }
        other => panic!("expected a 403 refusal, got {other:?}"),
    }
    let (handler, _) = script(Vec::new());
    let error = websocket::connect(ClientOptions::new("http://127.0.0.1:1/"), handler).await.unwrap_err();
    assert!(matches!(error, ConnectError::InvalidUrl { .. }) && !error.is_retryable(), "{error}");
    // Nothing listens there: worth retrying, and said so.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (handler, _) = script(Vec::new());
    let error = websocket::connect(ClientOptions::new(format!("ws://{free}/")), handler).await.unwrap_err();
    assert!(matches!(error, ConnectError::Io { .. }) && error.is_retryable(), "{error}");
}

#[actix_web::test]
async fn the_client_speaks_tls_and_refuses_a_certificate_it_does_not_trust() {
    let ca = TestCa::new();
    let cert = ca.server("router", false);
    let router = TestRouter::with_tls(&cert);
    assert!(router.url.starts_with("wss://"), "{}", router.url);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let options = ClientOptions::new(&router.url).protocol("wamp.2.json").tls_ca(&ca.ca_file);
    let connection = websocket::connect(options, PlainHello(tx)).await.unwrap();
    assert_eq!(connection.protocol(), Some("wamp.2.json"));
    let welcome = tokio::time::timeout(STEP, rx.recv()).await.unwrap().unwrap();
    assert!(welcome.starts_with("[2,"), "a WELCOME: {welcome}");
    // Without the CA: refused at once, not worth retrying.
    let (tx, _rx) = mpsc::unbounded_channel();
    let options = ClientOptions::new(&router.url).protocol("wamp.2.json");
    let error = websocket::connect(options, PlainHello(tx)).await.unwrap_err();
    assert!(matches!(error, ConnectError::Tls { .. }) && !error.is_retryable(), "{error}");
}

/// Relays one TCP connection to `target` and counts the bytes each way.
async fn counting_relay(
    target: std::net::SocketAddr,
) -> (String, tokio::sync::oneshot::Receiver<(u64, u64)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (done, counted) = tokio::sync::oneshot::channel();
    actix_web::rt::spawn(async move {
        let (mut inbound, _) = listener.accept().await.unwrap();
        let mut outbound = tokio::net::TcpStream::connect(target).await.unwrap();
        let counts = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await.unwrap_or((0, 0));
        let _ = done.send(counts);
    });
    (format!("ws://{address}/ws"), counted)
}

/// The bytes a WAMP client sends and receives for ten calls echoing a
/// repetitive 20 kB argument, with compression on both sides or not.
async fn wamp_bytes(compression: bool) -> (u64, u64) {
    let router = TestRouter::with_config(RouterConfig { compression, ..RouterConfig::default() });
    let callee = Client::connect(ConnectOptions::new(&router.url, "realm1")).await.unwrap();
    let echo = |args: Arguments, _| async move { Ok::<_, wamp::Error>(args) };
    callee.register("com.example.echo", RegisterOptions::default(), echo).await.unwrap();
    let target = router.url.trim_start_matches("ws://").trim_end_matches("/ws").parse().unwrap();
    let (url, counted) = counting_relay(target).await;
    let options = ConnectOptions {
        serializer: Serializer::Json,
        compression: if compression { Compression::enabled() } else { Compression::default() },
        ..ConnectOptions::new(url, "realm1")
    };
    let caller = Client::connect(options).await.unwrap();
    let text = r#"{"sensor":"building-2/floor-3","value":21.5}"#.repeat(450);
    for _ in 0..10 {
        let back: String = caller.call("com.example.echo", (text.clone(),)).await.unwrap();
        assert_eq!(back, text);
    }
    caller.leave().await;
    callee.leave().await;
    tokio::time::timeout(STEP, counted).await.unwrap().unwrap()
}

#[actix_web::test]
async fn the_wamp_client_compresses_when_asked_and_the_router_agrees() {
    let (plain_up, plain_down) = wamp_bytes(false).await;
    let (deflated_up, deflated_down) = wamp_bytes(true).await;
    // Ten 20 kB calls and their results: 200 kB each way uncompressed.
    assert!(plain_up > 200_000 && plain_down > 200_000, "{plain_up} / {plain_down}");
    assert!(deflated_up * 10 < plain_up, "calls compressed: {deflated_up} vs {plain_up}");
    assert!(deflated_down * 10 < plain_down, "results compressed: {deflated_down} vs {plain_down}");
}
