//! A typed client calling a component through the embedded router hands
//! its arguments over, and gets the result back, as the Rust values they
//! are: nothing is serialized. Over WebSocket the same calls go as WAMP
//! values, and a value WAMP cannot hold fails the call with a clear error.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize, Serializer};
use wamp::client::Client;
use wamp::prelude::*;
use wamp_tests::TestRouter;

/// How many times a [`Reading`] was serialized.
static SERIALIZED: AtomicUsize = AtomicUsize::new(0);

/// A value that counts its serializations.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(transparent)]
struct Reading(u32);

impl Serialize for Reading {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SERIALIZED.fetch_add(1, Ordering::SeqCst);
        serializer.serialize_u32(self.0)
    }
}

#[derive(Default)]
struct Meter;

#[wamp::component(prefix = "com.test.meter", inventory = false, client = "MeterClient")]
impl Meter {
    #[wamp::procedure("double")]
    fn double(&self, reading: Reading, label: String) -> (Reading, String) {
        (Reading(reading.0 * 2), label.to_uppercase())
    }

    /// A parameter that is not `Sync` cannot be shared between threads:
    /// it goes as values, in any process.
    #[wamp::procedure("bump")]
    fn bump(&self, count: Cell<u32>) -> u32 {
        count.get() + 1
    }

    /// Map keys WAMP cannot hold (a tuple), and no parameters at all.
    #[wamp::procedure("pairs")]
    fn pairs(&self, pairs: BTreeMap<(u8, u8), u8>) -> usize {
        pairs.len()
    }

    #[wamp::procedure("version")]
    fn version(&self) -> u32 {
        7
    }
}

/// Calls the meter through its typed client from inside the first
/// component's session; returns what came back and how many times a
/// `Reading` was serialized meanwhile.
async fn call_from(client: &Client) -> ((Reading, String), u32, u32, Result<usize, Error>, usize) {
    let before = SERIALIZED.load(Ordering::SeqCst);
    let (doubled, bumped, version, pairs) = client
        .with_session(|session| async move {
            let meter = MeterClient::new(session);
            let doubled = meter.double(Reading(21), "watts".into()).await.unwrap();
            let bumped = meter.bump(Cell::new(1)).await.unwrap();
            let version = meter.version().await.unwrap();
            let pairs = meter.pairs(BTreeMap::from([((1, 2), 3)])).await;
            (doubled, bumped, version, pairs)
        })
        .await
        .unwrap();
    (doubled, bumped, version, pairs, SERIALIZED.load(Ordering::SeqCst) - before)
}

/// Calls `double` with `Session::call` twice, asking for its own result
/// type and for another one; returns both results and how many times a
/// `Reading` was serialized meanwhile.
async fn untyped_calls(client: &Client) -> ((Reading, String), (u32, String), usize) {
    let before = SERIALIZED.load(Ordering::SeqCst);
    let (same, other) = client
        .with_session(|session| async move {
            let same: (Reading, String) =
                session.call("com.test.meter.double", (Reading(4), "amps")).await.unwrap();
            let other: (u32, String) =
                session.call("com.test.meter.double", (Reading(4), "amps")).await.unwrap();
            (same, other)
        })
        .await
        .unwrap();
    (same, other, SERIALIZED.load(Ordering::SeqCst) - before)
}

#[actix_web::test]
async fn values_stay_rust_values_only_within_the_process() {
    // One test, in sequence: the serialization count is shared.
    let running = wamp::Host::new(wamp_tests::embedded()).add_component(Meter).start().unwrap();
    running.joined().await.unwrap();
    let (doubled, bumped, version, pairs, serialized) = call_from(&running.clients()[0]).await;
    assert_eq!(doubled, (Reading(42), "WATTS".to_owned()));
    assert_eq!((bumped, version), (2, 7));
    assert_eq!(
        serialized, 0,
        "through the embedded router, the arguments and the result are handed over as they are"
    );
    assert_eq!(pairs.unwrap(), 1, "what WAMP cannot hold still reaches a callee through the embedded router");

    // The same through the cross-thread handle, from outside any session:
    // the values cross to the session's thread as they are.
    let before = SERIALIZED.load(Ordering::SeqCst);
    let meter = MeterClient::new(running.clients()[0].clone());
    assert_eq!(meter.double(Reading(5), "volts".into()).await.unwrap(), (Reading(10), "VOLTS".to_owned()));
    assert_eq!(meter.pairs(BTreeMap::from([((1, 2), 3), ((4, 5), 6)])).await.unwrap(), 2);
    assert_eq!(SERIALIZED.load(Ordering::SeqCst) - before, 0, "a `Client` hands Rust values over too");
    let (same, other, serialized) = untyped_calls(&running.clients()[0]).await;
    assert_eq!((same, other), ((Reading(8), "AMPS".to_owned()), (8, "AMPS".to_owned())));
    assert_eq!(
        serialized, 3,
        "Session::call sends its arguments as values (once per call); the result comes as it is to the \
         caller asking for its type, converted for the other"
    );
    running.shutdown().await;

    let router = TestRouter::start();
    let running =
        wamp_tests::start_joined(wamp::Host::new(wamp_tests::remote(&router.url)).add_component(Meter)).await;
    let (doubled, bumped, version, pairs, serialized) = call_from(&running.clients()[0]).await;
    assert_eq!(doubled, (Reading(42), "WATTS".to_owned()));
    assert_eq!((bumped, version), (2, 7));
    assert_eq!(serialized, 2, "over WebSocket: the argument and the result, once each");
    let error = pairs.unwrap_err();
    assert_eq!(error.uri, "wamp.error.invalid_argument");
    assert!(error.to_string().contains("key"), "the error says why: {error}");

    let before = SERIALIZED.load(Ordering::SeqCst);
    let meter = MeterClient::new(running.clients()[0].clone());
    assert_eq!(meter.double(Reading(5), "volts".into()).await.unwrap(), (Reading(10), "VOLTS".to_owned()));
    assert_eq!(SERIALIZED.load(Ordering::SeqCst) - before, 2, "a `Client` over WebSocket sends values");
    let (same, other, serialized) = untyped_calls(&running.clients()[0]).await;
    assert_eq!((same, other), ((Reading(8), "AMPS".to_owned()), (8, "AMPS".to_owned())));
    assert_eq!(serialized, 4, "over WebSocket: both arguments and both results");
    let error = meter.pairs(BTreeMap::from([((1, 2), 3)])).await.unwrap_err();
    assert_eq!(error.uri, "wamp.error.invalid_argument");
    running.shutdown().await;
}
