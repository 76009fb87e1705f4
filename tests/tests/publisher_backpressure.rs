//! Our own sessions are slowed like any peer's connection: a component
//! (embedded beside the router, or remote) publishing in a loop to a
//! subscriber that stops reading waits in `publish` instead of queueing
//! without bound, and once the subscriber reads again it gets every
//! event, in order.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wamp::client::{Client, ConnectOptions, ReconnectPolicy};
use wamp::config::RealmConfig;
use wamp::protocol::{Dict, Payload, Serializer, Value, WampMessage};
use wamp::RouterConfig;
use wamp_tests::{RawClient, TestRouter};

const MIB: usize = 1024 * 1024;
const TOPIC: &str = "com.test.flood";
/// Events of 64 KiB: 64 MiB in all, far more than the subscriber's queue
/// (1 MiB), the gates (4 MiB each) and the sockets' buffers hold.
const SIZE: usize = 64 * 1024;
const COUNT: u64 = 1024;

/// A component that only publishes (from the test's code, in its session).
#[derive(Default)]
struct Publisher;

#[wamp::component(inventory = false)]
impl Publisher {}

fn numbered(seq: u64) -> Payload {
    Payload::args(vec![Value::from(seq), Value::Bytes(vec![7; SIZE])])
}

/// A realm whose subscribers' queues hold 1 MiB and are never given up
/// on during the test.
fn realm() -> RealmConfig {
    RealmConfig {
        max_queued_bytes: Some(MIB),
        stall_timeout_ms: Some(120_000),
        ..RealmConfig::named("realm1")
    }
}

/// A raw subscriber that reads nothing until told to.
async fn stalled_subscriber(url: &str) -> RawClient {
    let (mut client, _) = RawClient::join(url, Serializer::MsgPack, "realm1").await;
    client.send(&WampMessage::Subscribe { request: 1, options: Dict::new(), topic: TOPIC.into() }).await;
    assert!(matches!(client.recv().await, WampMessage::Subscribed { .. }), "SUBSCRIBED");
    client
}

/// While the subscriber reads nothing, the publisher gets only so far;
/// then the subscriber reads every event in order and the publisher
/// finishes.
async fn check_slowed(mut subscriber: RawClient, published: &AtomicU64) {
    tokio::time::sleep(Duration::from_secs(2)).await;
    let held_at = published.load(Ordering::SeqCst);
    eprintln!("published {held_at} of {COUNT} events of 64 KiB while the subscriber read nothing");
    assert!(
        held_at < COUNT / 2,
        "the publisher was not slowed: {held_at} of {COUNT} publications done while nobody read"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = published.load(Ordering::SeqCst);
    assert!(later < held_at + 8, "the publisher is held, not just slow: {held_at} then {later}");
    for expected in 0..COUNT {
        let message =
            tokio::time::timeout(Duration::from_secs(30), subscriber.recv()).await.expect("in time");
        match message {
            WampMessage::Event { payload, .. } => {
                assert_eq!(payload.args_list()[0].as_u64(), Some(expected), "in order, none lost")
            }
            other => panic!("expected EVENT {expected}, got {other:?}"),
        }
    }
    assert_eq!(published.load(Ordering::SeqCst), COUNT, "every publication went out");
}

#[actix_web::test]
async fn an_embedded_component_publishing_in_a_loop_waits_for_a_stalled_subscriber() {
    let mut config = wamp_tests::embedded();
    config.router.realms = vec![realm()];
    let running = wamp::Host::new(config).add_component(Publisher).start().unwrap();
    let url = wamp_tests::serve(&running).await;
    let subscriber = stalled_subscriber(&url).await;

    // The loop runs in the component's session, on the host's thread,
    // where nothing but `publish` itself can make it wait.
    let published = Arc::new(AtomicU64::new(0));
    let counter = published.clone();
    running.clients()[0]
        .with_session(move |session| {
            Box::pin(async move {
                actix_web::rt::spawn(async move {
                    for seq in 0..COUNT {
                        session.publish(TOPIC, numbered(seq)).await.unwrap();
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                });
            })
        })
        .await
        .unwrap();
    check_slowed(subscriber, &published).await;
    running.shutdown().await;
}

#[actix_web::test]
async fn a_remote_client_publishing_in_a_loop_waits_for_a_stalled_subscriber() {
    let router = TestRouter::with_config(RouterConfig { realms: vec![realm()], ..Default::default() });
    let subscriber = stalled_subscriber(&router.url).await;
    let options =
        ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&router.url, "realm1") };
    let client = Client::connect(options).await.unwrap();

    let published = Arc::new(AtomicU64::new(0));
    let counter = published.clone();
    let publisher = client.clone();
    actix_web::rt::spawn(async move {
        for seq in 0..COUNT {
            publisher.publish(TOPIC, numbered(seq)).await.unwrap();
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    check_slowed(subscriber, &published).await;
    client.leave().await;
}
