//! The plain WebSocket API (`wamp::websocket`) over real sockets: what a
//! handler sees, and what a peer sees.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::sync::mpsc;
use std::time::Duration;

use actix_web::HttpRequest;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::{CloseFrame, Frame as RawFrame};
use tokio_tungstenite::tungstenite::Message as Frame;
use wamp::websocket::{Accept, Closed, Settings, Socket, WebSocketHandler, WebSocketMessage};
use wamp_tests::serve_websocket;

const STEP: Duration = Duration::from_secs(10);

/// What a handler saw, in order.
#[derive(Debug, PartialEq)]
enum Seen {
    Open,
    Message(WebSocketMessage),
    Close(Closed),
}

/// Echoes, and reports everything it sees.
struct Recorder {
    seen: mpsc::Sender<Seen>,
}

impl WebSocketHandler for Recorder {
    fn on_open(&mut self, _socket: &mut Socket) {
        let _ = self.seen.send(Seen::Open);
    }

    fn on_message(&mut self, socket: &mut Socket, message: WebSocketMessage) {
        let _ = self.seen.send(Seen::Message(message.clone()));
        let _ = socket.send(message);
    }

    fn on_close(&mut self, closed: Closed) {
        let _ = self.seen.send(Seen::Close(closed));
    }
}

fn recorder(settings: Settings) -> (String, mpsc::Receiver<Seen>) {
    let (seen, events) = mpsc::channel();
    let url = serve_websocket(settings, move || Recorder { seen: seen.clone() });
    (url, events)
}

fn next_seen(events: &mpsc::Receiver<Seen>) -> Seen {
    events.recv_timeout(STEP).expect("the handler sees the next event in time")
}

async fn next_frame<S>(ws: &mut S) -> Frame
where
    S: futures_util::Stream<Item = Result<Frame, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    tokio::time::timeout(STEP, ws.next()).await.expect("a frame in time").expect("open").expect("a frame")
}

#[tokio::test]
async fn messages_come_back_and_the_closing_handshake_completes() {
    let (url, events) = recorder(Settings::default());
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    assert_eq!(next_seen(&events), Seen::Open);
    let large = vec![9u8; 200_000];
    for frame in [Frame::text("héllo"), Frame::binary(vec![0u8, 255]), Frame::binary(large)] {
        ws.send(frame.clone()).await.unwrap();
        assert_eq!(next_frame(&mut ws).await, frame);
    }
    assert_eq!(next_seen(&events), Seen::Message(WebSocketMessage::Text("héllo".into())));
    assert_eq!(next_seen(&events), Seen::Message(WebSocketMessage::Binary(vec![0u8, 255].into())));
    assert!(matches!(next_seen(&events), Seen::Message(WebSocketMessage::Binary(b)) if b.len() == 200_000));
    // A message in fragments comes back whole.
    for (i, piece) in ["frag", "ment", "ed"].iter().enumerate() {
        let op = if i == 0 { OpCode::Data(Data::Text) } else { OpCode::Data(Data::Continue) };
        ws.send(Frame::Frame(RawFrame::message(piece.as_bytes().to_vec(), op, i == 2))).await.unwrap();
    }
    assert_eq!(next_frame(&mut ws).await, Frame::text("fragmented"));
    assert_eq!(next_seen(&events), Seen::Message(WebSocketMessage::Text("fragmented".into())));

    ws.send(Frame::Close(Some(CloseFrame { code: CloseCode::Normal, reason: "bye".into() }))).await.unwrap();
    match next_frame(&mut ws).await {
        Frame::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Normal, "the peer's code in reply"),
        other => panic!("expected the closing frame, got {other:?}"),
    }
    assert_eq!(
        next_seen(&events),
        Seen::Close(Closed { clean: true, code: Some(1000), reason: "bye".into() })
    );
}

#[tokio::test]
async fn text_that_is_not_utf8_closes_with_1007_and_too_large_with_1009() {
    let (url, events) = recorder(Settings::default().max_message_size(1000));
    let cases: [(RawFrame, u16); 2] = [
        (RawFrame::message(b"ok \xff".to_vec(), OpCode::Data(Data::Text), true), 1007),
        (RawFrame::message(vec![1u8; 2000], OpCode::Data(Data::Binary), true), 1009),
    ];
    for (frame, code) in cases {
        let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
        assert_eq!(next_seen(&events), Seen::Open);
        ws.send(Frame::Frame(frame)).await.unwrap();
        match next_frame(&mut ws).await {
            Frame::Close(Some(frame)) => assert_eq!(u16::from(frame.code), code),
            other => panic!("expected a closing frame with {code}, got {other:?}"),
        }
        match next_seen(&events) {
            Seen::Close(closed) => {
                assert_eq!(closed.code, Some(code));
                assert!(!closed.clean, "the server failed the connection");
            }
            other => panic!("expected the close, got {other:?}"),
        }
    }
}

/// Takes only clients that offer the `chat` subprotocol.
struct ChatOnly;

impl WebSocketHandler for ChatOnly {
    fn on_connect(&mut self, request: &HttpRequest) -> Result<Accept, actix_web::Error> {
        let offered = request
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|p| p.trim() == "chat"));
        if offered {
            Ok(Accept::new().protocol("chat"))
        } else {
            Err(actix_web::error::ErrorForbidden("offer the chat subprotocol"))
        }
    }

    fn on_message(&mut self, socket: &mut Socket, message: WebSocketMessage) {
        let _ = socket.send(message);
    }
}

#[tokio::test]
async fn the_handler_chooses_the_subprotocol_or_refuses() {
    let url = serve_websocket(Settings::default(), || ChatOnly);
    let (mut ws, protocol) = wamp_tests::open_socket(&url, "superchat, chat").await.expect("accepted");
    assert_eq!(protocol.as_deref(), Some("chat"));
    ws.send(Frame::text("hi")).await.unwrap();
    assert_eq!(next_frame(&mut ws).await, Frame::text("hi"));
    match wamp_tests::open_socket(&url, "superchat").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected HTTP 403, got {:?}", other.map(|(_, p)| p)),
    }
}

/// Writes from a task of its own, then closes.
struct Ticker;

impl WebSocketHandler for Ticker {
    fn on_open(&mut self, socket: &mut Socket) {
        let handle = socket.handle();
        actix_web::rt::spawn(async move {
            for i in 0..3 {
                handle.send(WebSocketMessage::Text(format!("tick {i}"))).await.expect("open");
            }
            handle.close(4000, "done").await.expect("open");
        });
    }

    fn on_message(&mut self, _socket: &mut Socket, _message: WebSocketMessage) {}
}

#[tokio::test]
async fn a_handle_writes_from_another_task_and_closes() {
    let url = serve_websocket(Settings::default(), || Ticker);
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    for i in 0..3 {
        assert_eq!(next_frame(&mut ws).await, Frame::text(format!("tick {i}")));
    }
    match next_frame(&mut ws).await {
        Frame::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), 4000);
            assert_eq!(frame.reason, "done");
        }
        other => panic!("expected the closing frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_peer_that_does_not_read_is_not_read_either_and_loses_nothing() {
    const MESSAGES: usize = 2000;
    const SIZE: usize = 64 * 1024;
    let (url, events) = recorder(Settings::default());
    let (ws, _) = tokio_tungstenite::connect_async(url.as_str()).await.unwrap();
    assert_eq!(next_seen(&events), Seen::Open);
    let (mut sink, mut stream) = ws.split();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = sent.clone();
    let sender = tokio::spawn(async move {
        for i in 0..MESSAGES {
            let mut payload = vec![0u8; SIZE];
            payload[..8].copy_from_slice(&(i as u64).to_be_bytes());
            sink.send(Frame::binary(payload)).await.expect("send");
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        sink
    });
    // 125 MiB echoed to a peer that reads nothing: the sockets' buffers
    // fill, then the server stops reading and the sender is held.
    let mut stalled = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = sent.load(std::sync::atomic::Ordering::Relaxed);
        if now == stalled && now > 0 {
            break;
        }
        stalled = now;
    }
    assert!(stalled < MESSAGES, "the sender was held back ({stalled} of {MESSAGES} sent)");
    let handled = events.try_iter().filter(|seen| matches!(seen, Seen::Message(_))).count();
    assert!(handled <= stalled, "the handler saw only what was sent ({handled} of {stalled})");
    // Reading again lets everything through, in order.
    for i in 0..MESSAGES {
        match next_frame(&mut stream).await {
            Frame::Binary(data) => {
                assert_eq!(data.len(), SIZE);
                assert_eq!(data[..8], (i as u64).to_be_bytes(), "echo {i} in order");
            }
            other => panic!("expected echo {i}, got {other:?}"),
        }
    }
    let _sink = tokio::time::timeout(STEP, sender).await.expect("the sender finished").expect("no panic");
}

#[actix_web::test]
async fn a_plain_endpoint_accepts_only_its_listed_origins() {
    let (url, events) = recorder(Settings::default().allowed_origins(["https://app.example.com"]));
    assert_eq!(wamp_tests::upgrade_status(&url, None, Some("https://evil.example.net")).await, 403);
    assert_eq!(wamp_tests::upgrade_status(&url, None, Some("https://app.example.com")).await, 101);
    assert_eq!(next_seen(&events), Seen::Open, "only the accepted connection reaches the handler");
}
