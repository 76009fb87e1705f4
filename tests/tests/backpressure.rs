//! Back-pressure over real sockets: a peer that stops reading costs the
//! router bounded memory, slows only the producers feeding it, and is
//! handled by its realm's stall policy; every peer that keeps reading gets
//! every message, in order.
//!
//! These tests measure the process's memory, so they live in a test
//! binary of their own and run one at a time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wamp::config::{RealmConfig, StallPolicy};
use wamp::protocol::{Dict, Id, Payload, Serializer, Value, WampMessage};
use wamp::RouterConfig;
use wamp_tests::{RawClient, TestRouter};

const MSGPACK: Serializer = Serializer::MsgPack;
const MIB: usize = 1024 * 1024;

/// The tests of this file share the process's memory figures.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The process's resident memory, in bytes.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS line");
    let kib: u64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("a number");
    kib * 1024
}

/// Samples resident memory every 20 ms until dropped; keeps the peak.
struct PeakMemory {
    peak: Arc<AtomicU64>,
    running: Arc<AtomicBool>,
}

impl PeakMemory {
    fn start() -> Self {
        let peak = Arc::new(AtomicU64::new(resident_bytes()));
        let running = Arc::new(AtomicBool::new(true));
        let (p, r) = (peak.clone(), running.clone());
        std::thread::spawn(move || {
            while r.load(Ordering::Relaxed) {
                p.fetch_max(resident_bytes(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        PeakMemory { peak, running }
    }

    fn peak(&self) -> u64 {
        self.peak.fetch_max(resident_bytes(), Ordering::Relaxed).max(resident_bytes())
    }
}

impl Drop for PeakMemory {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
    }
}

async fn subscribe(client: &mut RawClient, topic: &str) -> Id {
    client.send(&WampMessage::Subscribe { request: 1, options: Dict::new(), topic: topic.into() }).await;
    match client.recv().await {
        WampMessage::Subscribed { subscription, .. } => subscription,
        other => panic!("expected SUBSCRIBED, got {other:?}"),
    }
}

async fn register(client: &mut RawClient, procedure: &str) {
    client
        .send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: procedure.into() })
        .await;
    assert!(matches!(client.recv().await, WampMessage::Registered { .. }), "REGISTERED");
}

/// A payload of a sequence number and `size` bytes.
fn numbered(seq: u64, size: usize) -> Payload {
    Payload::args(vec![Value::from(seq), Value::Bytes(vec![7; size])])
}

fn seq_of(payload: &Payload) -> u64 {
    payload.args_list()[0].as_u64().expect("a sequence number")
}

async fn publish(client: &mut RawClient, topic: &str, seq: u64, size: usize, acknowledge: bool) {
    let mut options = Dict::new();
    if acknowledge {
        options.insert("acknowledge".into(), Value::from(true));
    }
    client
        .send(&WampMessage::Publish {
            request: seq + 1,
            options,
            topic: topic.to_owned().into(),
            payload: numbered(seq, size),
        })
        .await;
}

/// Sends `count` calls of `procedure` with 64 KiB arguments each
/// (numbered 0, 1, 2, ...) without reading anything; gives the client back
/// once all are written.
fn call_many(
    mut client: RawClient,
    procedure: &'static str,
    count: u64,
) -> tokio::task::JoinHandle<RawClient> {
    tokio::spawn(async move {
        for seq in 0..count {
            let call = WampMessage::Call {
                request: seq + 1,
                options: Dict::new(),
                procedure: procedure.into(),
                payload: numbered(seq, 64 * 1024),
            };
            client.send(&call).await;
        }
        client
    })
}

/// Receives `count` events and checks they come numbered 0, 1, 2, ...
async fn receive_all_in_order(mut client: RawClient, count: u64) -> RawClient {
    for expected in 0..count {
        match client.recv().await {
            WampMessage::Event { payload, .. } => {
                assert_eq!(seq_of(&payload), expected, "events in order, none lost")
            }
            other => panic!("expected EVENT {expected}, got {other:?}"),
        }
    }
    client
}

/// Waits until the router has `open` connections.
async fn wait_for_connections(router: &TestRouter, open: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while router.router().connection_count() != open {
        assert!(
            Instant::now() < deadline,
            "expected {open} open connections within {within:?}, have {}",
            router.router().connection_count()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_costs_bounded_memory_and_the_fast_ones_get_every_event_in_order() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let config = RouterConfig { stall_timeout_ms: 2000, shutdown_grace_secs: 1, ..Default::default() };
    let router = TestRouter::with_config(config);
    let topic = "com.test.flood";
    let (mut stalled, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    subscribe(&mut stalled, topic).await;
    let mut fast = Vec::new();
    for _ in 0..3 {
        let (mut client, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
        subscribe(&mut client, topic).await;
        fast.push(client);
    }
    let (mut publisher, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;

    let size = 64 * 1024;
    let count = (200 * MIB / size) as u64;
    let memory = PeakMemory::start();
    let baseline = resident_bytes();
    let receivers: Vec<_> = fast.into_iter().map(|c| tokio::spawn(receive_all_in_order(c, count))).collect();
    for seq in 0..count {
        publish(&mut publisher, topic, seq, size, false).await;
    }
    let mut fast = Vec::new();
    for receiver in receivers {
        fast.push(
            tokio::time::timeout(Duration::from_secs(60), receiver)
                .await
                .expect("in time")
                .expect("all events"),
        );
    }
    let grown = memory.peak().saturating_sub(baseline);
    eprintln!("peak memory growth while publishing 200 MiB: {} MiB", grown / MIB as u64);
    assert!(
        grown < 100 * MIB as u64,
        "the router grew by {} MiB while 200 MiB were published",
        grown / MIB as u64
    );
    // The stalled subscriber was closed by the default policy; the four
    // others are still connected.
    wait_for_connections(&router, 4, Duration::from_secs(10)).await;
    drop(stalled);
    // And the publisher runs at full speed again.
    publish(&mut publisher, topic, count, 16, true).await;
    assert!(matches!(publisher.recv().await, WampMessage::Published { .. }), "PUBLISHED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callee_that_stops_reading_does_not_slow_a_healthy_caller_and_callee() {
    let _serial = ONE_AT_A_TIME.lock().await;
    // A stall timeout far beyond the test: only back-pressure acts here.
    let config = RouterConfig { stall_timeout_ms: 120_000, ..Default::default() };
    let router = TestRouter::with_config(config);
    let (mut stuck_callee, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    register(&mut stuck_callee, "com.test.stuck").await;
    let (mut callee, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    register(&mut callee, "com.test.healthy").await;
    let (mut caller, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;

    // A caller floods the callee that reads nothing: 64 MiB of calls, far
    // past its queue and the socket buffers, so the flooding caller ends
    // up held.
    let (flooder, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    let flood = call_many(flooder, "com.test.stuck", 1024);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!flood.is_finished(), "the flooding caller is held: its socket is no longer read");

    // Meanwhile the healthy pair goes on: 200 calls, one at a time.
    let started = Instant::now();
    for seq in 0..200u64 {
        let call = WampMessage::Call {
            request: seq + 1,
            options: Dict::new(),
            procedure: "com.test.healthy".into(),
            payload: numbered(seq, 100),
        };
        caller.send(&call).await;
        let WampMessage::Invocation { request, payload, .. } = callee.recv().await else {
            panic!("INVOCATION")
        };
        callee.send(&WampMessage::Yield { request, options: Dict::new(), payload }).await;
        match caller.recv().await {
            WampMessage::Result { request, payload, .. } => {
                assert_eq!((request, seq_of(&payload)), (seq + 1, seq))
            }
            other => panic!("expected RESULT, got {other:?}"),
        }
    }
    // Far below the stall timeout: nothing waited for the stuck callee.
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    assert!(!flood.is_finished(), "the flooding caller is still held");
    drop(stuck_callee);
    // The stuck callee is gone: the flooding caller is released, and its
    // calls fail (no callee) instead of waiting forever.
    let mut flooder = tokio::time::timeout(Duration::from_secs(20), flood).await.expect("released").unwrap();
    let mut answered = 0;
    while answered < 1024 {
        match flooder.recv().await {
            WampMessage::Error { .. } => answered += 1,
            other => panic!("expected ERROR, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_drop_policy_a_callee_that_reads_nothing_is_closed_once_its_calls_pass_twice_the_limit() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let lossy = RealmConfig {
        stall_policy: Some(StallPolicy::Drop),
        stall_timeout_ms: Some(300),
        max_queued_bytes: Some(MIB),
        ..RealmConfig::named("lossy")
    };
    let config = RouterConfig { realms: vec![lossy], shutdown_grace_secs: 1, ..Default::default() };
    let router = TestRouter::with_config(config);
    let (mut stuck_callee, _) = RawClient::join(&router.url, MSGPACK, "lossy").await;
    register(&mut stuck_callee, "com.test.stuck").await;
    let (caller, _) = RawClient::join(&router.url, MSGPACK, "lossy").await;
    // 32 MiB of calls to a callee that reads none: invocations cannot be
    // dropped, so its queue passes 2 MiB and the callee is closed.
    let count = 512u64;
    let calling = call_many(caller, "com.test.stuck", count);
    let mut caller = tokio::time::timeout(Duration::from_secs(30), calling)
        .await
        .expect("the caller is not held")
        .unwrap();
    wait_for_connections(&router, 1, Duration::from_secs(30)).await;
    // Every call is answered: canceled (its callee was closed) or, after
    // that, no such procedure.
    for _ in 0..count {
        match caller.recv().await {
            WampMessage::Error { error, .. } => {
                assert!(error == "wamp.error.canceled" || error == "wamp.error.no_such_procedure", "{error}")
            }
            other => panic!("expected ERROR, got {other:?}"),
        }
    }
    drop(stuck_callee);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_reads_none_of_its_results_is_closed_and_costs_bounded_memory() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let config = RouterConfig { stall_timeout_ms: 1000, shutdown_grace_secs: 1, ..Default::default() };
    let router = TestRouter::with_config(config);
    let (mut callee, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    register(&mut callee, "com.test.big").await;
    // Answers every call with 64 KiB, for as long as its connection lasts.
    let answering = tokio::spawn(async move {
        while let Some(frame) = callee.next_frame().await {
            let tokio_tungstenite::tungstenite::Message::Binary(data) = frame else { continue };
            if let Ok(WampMessage::Invocation { request, .. }) = MSGPACK.decode(&data) {
                let answer = WampMessage::Yield {
                    request,
                    options: Dict::new(),
                    payload: numbered(request, 64 * 1024),
                };
                callee.send(&answer).await;
            }
        }
    });
    let (mut caller, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    let memory = PeakMemory::start();
    let baseline = resident_bytes();
    // 2,000 calls whose results (125 MiB) the caller never reads: they stay
    // in its queue, counted, instead of piling up behind its socket.
    for request in 1..=2000u64 {
        let call = WampMessage::Call {
            request,
            options: Dict::new(),
            procedure: "com.test.big".into(),
            payload: numbered(request, 8),
        };
        caller.send(&call).await;
    }
    // The stall timeout closes it; the callee stays.
    wait_for_connections(&router, 1, Duration::from_secs(30)).await;
    let grown = memory.peak().saturating_sub(baseline);
    eprintln!("peak memory growth with 125 MiB of unread results: {} MiB", grown / MIB as u64);
    assert!(grown < 64 * MIB as u64, "the router grew by {} MiB", grown / MIB as u64);
    assert!(!answering.is_finished(), "the callee is still connected");
    answering.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_peer_is_closed_by_keepalive_while_its_writes_wait() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let config = RouterConfig {
        ping_interval_secs: 1,
        ping_timeout_secs: 1,
        stall_timeout_ms: 120_000,
        shutdown_grace_secs: 1,
        ..Default::default()
    };
    let router = TestRouter::with_config(config);
    let topic = "com.test.keepalive";
    let (mut stalled, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    subscribe(&mut stalled, topic).await;
    let (mut publisher, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    let started = Instant::now();
    // 32 MiB to a peer that reads nothing: its writes block, and the
    // publisher is held until keepalive closes the stalled peer.
    for seq in 0..512 {
        publish(&mut publisher, topic, seq, 64 * 1024, false).await;
    }
    wait_for_connections(&router, 1, Duration::from_secs(10)).await;
    let closed_after = started.elapsed();
    assert!(closed_after >= Duration::from_secs(2), "not before ping interval + timeout: {closed_after:?}");
    // The held publisher was not taken for silent, and works.
    publish(&mut publisher, topic, 512, 16, true).await;
    assert!(matches!(publisher.recv().await, WampMessage::Published { .. }), "PUBLISHED");
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_pings_and_reads_no_pongs_costs_one_pong() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let router = TestRouter::start();
    let (mut pinger, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    let (mut healthy, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    let before = resident_bytes();
    // 40 MiB of pings, far more than the socket buffers between the two
    // hold: each asks for a pong of its 125 bytes, and the router keeps
    // only the latest one unsent (as RFC 6455 allows), so it keeps reading
    // at no cost.
    let count = 300_000;
    for sent in 0..count {
        assert!(pinger.try_ping(vec![b'p'; 125], Duration::from_secs(5)).await, "ping {sent} was not read");
    }
    let grown = resident_bytes().saturating_sub(before);
    eprintln!("memory growth with {count} pings whose pongs are not read: {} KiB", grown / 1024);
    assert!(grown < 16 * MIB as u64, "the router grew by {} MiB", grown / MIB as u64);
    let topic = "com.test.still.working";
    subscribe(&mut healthy, topic).await;
    publish(&mut healthy, topic, 0, 16, true).await;
    assert!(matches!(healthy.recv().await, WampMessage::Published { .. }), "PUBLISHED");
    // The pinger is still a session: its last ping is answered once it
    // reads.
    publish(&mut pinger, topic, 1, 16, true).await;
    assert!(matches!(pinger.recv().await, WampMessage::Published { .. }), "PUBLISHED to the pinger");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drop_policy_keeps_a_stalled_subscriber_and_counts_what_it_missed() {
    let _serial = ONE_AT_A_TIME.lock().await;
    // The policy is set for one realm only.
    let lossy = RealmConfig {
        stall_policy: Some(StallPolicy::Drop),
        stall_timeout_ms: Some(300),
        ..RealmConfig::named("lossy")
    };
    let config = RouterConfig { realms: vec![RealmConfig::named("realm1"), lossy], ..Default::default() };
    let router = TestRouter::with_config(config);
    let topic = "com.test.lossy";
    let (mut stalled, _) = RawClient::join(&router.url, MSGPACK, "lossy").await;
    subscribe(&mut stalled, topic).await;
    let (mut fast, _) = RawClient::join(&router.url, MSGPACK, "lossy").await;
    subscribe(&mut fast, topic).await;
    let (mut publisher, _) = RawClient::join(&router.url, MSGPACK, "lossy").await;
    let count = 1024;
    let fast = tokio::spawn(receive_all_in_order(fast, count));
    for seq in 0..count {
        publish(&mut publisher, topic, seq, 64 * 1024, false).await;
    }
    let _fast =
        tokio::time::timeout(Duration::from_secs(60), fast).await.expect("in time").expect("every event");
    // The stalled subscriber is still there. Reading now, it gets events
    // in order with a gap where its queue was full, then new ones again
    // (published until one arrives).
    let reader = tokio::spawn(async move {
        let mut last: Option<u64> = None;
        let mut received = 0;
        loop {
            match stalled.recv().await {
                WampMessage::Event { payload, .. } => {
                    let seq = seq_of(&payload);
                    assert!(last.is_none_or(|l| seq > l), "in order");
                    last = Some(seq);
                    received += 1;
                    if seq >= count {
                        return (received, stalled);
                    }
                }
                other => panic!("expected EVENT, got {other:?}"),
            }
        }
    });
    let mut seq = count;
    while !reader.is_finished() {
        assert!(seq < count + 200, "the stalled subscriber never got events again");
        publish(&mut publisher, topic, seq, 16, true).await;
        assert!(matches!(publisher.recv().await, WampMessage::Published { .. }), "PUBLISHED");
        seq += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (received, _stalled) = reader.await.expect("in order");
    eprintln!("the stalled subscriber received {received} of {count} events");
    assert!(received < count, "some events were dropped ({received} of {count} arrived)");
    assert_eq!(router.router().connection_count(), 3, "nobody was closed");
}

/// A PUBLISH of about `size` bytes whose arguments are `count` nils.
fn nil_flood(count: usize) -> Vec<u8> {
    let mut data = vec![0x95, 16, 1, 0x80, 0xa8];
    data.extend_from_slice(b"com.nils");
    data.push(0xdd);
    data.extend_from_slice(&u32::try_from(count).unwrap().to_be_bytes());
    data.extend(std::iter::repeat_n(0xc0, count));
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_huge_messages_of_tiny_values_cost_memory_in_proportion_to_their_size() {
    let _serial = ONE_AT_A_TIME.lock().await;
    let router = TestRouter::start();
    let (mut subscriber, _) = RawClient::join(&router.url, MSGPACK, "realm1").await;
    subscribe(&mut subscriber, "com.nils").await;
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(RawClient::join(&router.url, MSGPACK, "realm1").await.0);
    }
    // 15 MiB each: far more values than a message may hold.
    let flood = nil_flood(15 * MIB);
    let memory = PeakMemory::start();
    let baseline = resident_bytes();
    let sends = clients.into_iter().map(|mut c| {
        let flood = flood.clone();
        tokio::spawn(async move {
            c.send_binary(flood).await;
            c.expect_ended_with(wamp::protocol::errors::PROTOCOL_VIOLATION).await;
        })
    });
    for send in sends.collect::<Vec<_>>() {
        send.await.expect("each flooder is told why it is closed");
    }
    let grown = memory.peak().saturating_sub(baseline);
    eprintln!("peak memory growth for four 15 MiB messages of nils: {} MiB", grown / MIB as u64);
    // The messages themselves are 60 MiB, plus this process's own copies as
    // their senders; decoded into values they took more than 1 GB.
    assert!(grown < 250 * MIB as u64, "grew by {} MiB", grown / MIB as u64);
    // The subscriber got nothing and is fine.
    publish(&mut subscriber, "com.nils", 0, 16, true).await;
    assert!(matches!(subscriber.recv().await, WampMessage::Event { .. } | WampMessage::Published { .. }));
}
