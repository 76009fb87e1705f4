//! Progressive results, interruptions and progressive input between our
//! own client and components, through our router: over WebSocket and
//! in-process. A procedure streams partial results through its
//! `CallDetails`; a caller reads them as a stream; a caller that drops
//! the stream, or whose time runs out, gets the procedure interrupted; a
//! caller sends its input in pieces and the procedure reads them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use wamp::client::to_payload;
use wamp::client::{CallOptions, CallProgress, Client, ConnectOptions, ReconnectPolicy};
use wamp::prelude::*;
use wamp::protocol::{errors, Payload};

type Log = Arc<Mutex<Vec<String>>>;

struct Streams {
    log: Log,
}

/// Writes to the log when dropped: what a procedure whose future is
/// dropped leaves behind.
struct Dropped(Log, &'static str);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.lock().unwrap().push(self.1.to_owned());
    }
}

#[wamp::component(prefix = "com.test.stream", inventory = false)]
impl Streams {
    /// Counts to `n`: 1 .. n-1 as partial results, `n` as the result.
    #[wamp::procedure("count")]
    async fn count(&self, n: u32, details: CallDetails) -> Result<u32, Error> {
        for i in 1..n {
            details.send_progress(i)?;
        }
        Ok(n)
    }

    /// Says it started, then waits for its interruption and logs it.
    #[wamp::procedure("watch")]
    async fn watch(&self, details: CallDetails) -> Result<(), Error> {
        details.send_progress("started")?;
        let why = details.interrupted().await;
        self.log.lock().unwrap().push(format!("watch {} {}", why.mode, why.reason));
        Err(why.to_error())
    }

    /// Never answers and does not watch: dropped at its interruption.
    #[wamp::procedure("hang")]
    async fn hang(&self) -> Result<(), Error> {
        let _guard = Dropped(self.log.clone(), "hang dropped");
        std::future::pending::<()>().await;
        Ok(())
    }

    /// What was logged since the last call (a peer's checks each see
    /// only what happened after the previous one looked).
    #[wamp::procedure("log")]
    fn log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// Adds up its argument and every further input.
    #[wamp::procedure("sum")]
    async fn sum(&self, first: i64, details: CallDetails) -> Result<i64, Error> {
        let mut total = first;
        while let Some(n) = details.next_input::<i64>().await {
            total += n?;
        }
        Ok(total)
    }
}

async fn logged(log: &Log, entry: &str) {
    for _ in 0..200 {
        if log.lock().unwrap().iter().any(|e| e == entry) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("'{entry}' was never logged; the log: {:?}", log.lock().unwrap());
}

fn numbers(answers: Vec<Result<CallProgress, Error>>) -> Vec<(bool, u32)> {
    answers
        .into_iter()
        .map(|a| {
            let a = a.expect("an answer");
            (a.is_final(), a.into_result().get::<u32>(0).unwrap())
        })
        .collect()
}

/// A host with the `Streams` component, serving on a free port.
async fn host(log: &Log) -> (wamp::component::RunningHost, String) {
    let config = wamp_tests::embedded();
    let running = wamp::Host::new(config).add_component(Streams { log: log.clone() }).start().unwrap();
    let url = wamp_tests::serve(&running).await;
    (running, url)
}

#[actix_web::test]
async fn progressive_results_interruptions_and_input_work_between_our_client_and_components() {
    let log = Log::default();
    let (running, url) = host(&log).await;
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&url, "realm1") };
    let peer = Client::connect(options).await.unwrap();
    let count = || to_payload(&(3,)).unwrap();

    // Partial results, over WebSocket and in-process.
    let answers: Vec<_> =
        peer.call_progressive("com.test.stream.count", count(), CallOptions::default()).collect().await;
    assert_eq!(numbers(answers), [(false, 1), (false, 2), (true, 3)]);
    let local = running.clients()[0].clone();
    let answers = local
        .with_session(move |ctx| {
            Box::pin(async move {
                ctx.call_progressive("com.test.stream.count", count(), CallOptions::default())
                    .collect::<Vec<_>>()
                    .await
            })
        })
        .await
        .unwrap();
    assert_eq!(numbers(answers), [(false, 1), (false, 2), (true, 3)]);
    let total =
        peer.call_progressive("com.test.stream.count", to_payload(&(4,)).unwrap(), CallOptions::default());
    assert_eq!(total.finish().await.unwrap().get::<u32>(0).unwrap(), 4);
    let plain: u32 = peer.call("com.test.stream.count", (3,)).await.unwrap();
    assert_eq!(plain, 3, "a caller that takes no partial results gets the result alone");

    // Dropping the stream cancels the call: the procedure is interrupted.
    let mut answers =
        peer.call_progressive("com.test.stream.watch", Payload::default(), CallOptions::default());
    let first = answers.next().await.unwrap().unwrap();
    assert_eq!(first.into_result().get::<String>(0).unwrap(), "started");
    drop(answers);
    logged(&log, &format!("watch killnowait {}", errors::CANCELED)).await;

    // So does dropping a `Client::call` from outside the session.
    log.lock().unwrap().clear();
    let call = peer.call::<()>("com.test.stream.watch", ());
    assert!(tokio::time::timeout(Duration::from_millis(200), call).await.is_err(), "the call waits");
    logged(&log, &format!("watch killnowait {}", errors::CANCELED)).await;

    // The router times the call: the caller hears wamp.error.timeout, the
    // procedure is interrupted with that reason.
    let short = CallOptions { timeout: Some(Duration::from_millis(300)), ..CallOptions::default() };
    let mut answers = peer.call_progressive("com.test.stream.watch", Payload::default(), short.clone());
    assert!(!answers.next().await.unwrap().unwrap().is_final());
    let error = answers.next().await.unwrap().expect_err("the call times out");
    assert_eq!(error.uri, errors::TIMEOUT);
    assert!(answers.next().await.is_none(), "nothing after the error");
    logged(&log, &format!("watch killnowait {}", errors::TIMEOUT)).await;

    // A procedure that does not watch is dropped when interrupted.
    let error = peer.call_with("com.test.stream.hang", Payload::default(), short).await.expect_err("timeout");
    assert_eq!(error.uri, errors::TIMEOUT);
    logged(&log, "hang dropped").await;

    // Input in pieces, over WebSocket.
    let total = peer
        .with_session(|ctx| {
            Box::pin(async move {
                let sum =
                    ctx.call_with_input("com.test.stream.sum", to_payload(&(1,))?, CallOptions::default());
                sum.send(to_payload(&(2,))?)?;
                sum.send(to_payload(&(3,))?)?;
                sum.finish(to_payload(&(4,))?).await?.get::<i64>(0)
            })
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(total, 10);
    peer.leave().await;
    running.shutdown().await;
}

#[actix_web::test]
async fn autobahn_python_reads_partial_results_and_interrupts_a_component() {
    let log = Log::default();
    let (running, url) = host(&log).await;
    wamp_tests::python_checks("component_advanced_peer.py", &url, &[], 5).await;
    running.shutdown().await;
}

/// Asks AutobahnPython how many of its `wait` calls were canceled, until
/// it says `expected`.
async fn interrupted_in_python(client: &Client, expected: u32) {
    for _ in 0..200 {
        if client.call::<u32>("com.test.py.interrupted", ()).await.unwrap() == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("AutobahnPython never saw {expected} interrupted calls");
}

#[actix_web::test]
async fn our_client_reads_partial_results_and_interrupts_an_autobahn_python_callee() {
    use tokio::io::AsyncBufReadExt as _;

    let router = wamp_tests::TestRouter::start();
    let script = wamp_tests::workspace_root().join("tests/peers/python/callee_peer.py");
    for serializer in [wamp::protocol::Serializer::Json, wamp::protocol::Serializer::MsgPack] {
        let name = if serializer.is_binary() { "msgpack" } else { "json" };
        let mut callee = tokio::process::Command::new(wamp_tests::peer_python())
            .arg(&script)
            .args([router.url.as_str(), "realm1", name])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(callee.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
        assert!(matches!(ready, Ok(Ok(Some(ref line))) if line == "READY"), "AutobahnPython: {ready:?}");

        let options = ConnectOptions {
            reconnect: ReconnectPolicy::off(),
            serializer,
            ..ConnectOptions::new(&router.url, "realm1")
        };
        let client = Client::connect(options).await.unwrap();
        let answers: Vec<_> = client
            .call_progressive("com.test.py.count", to_payload(&(3,)).unwrap(), CallOptions::default())
            .collect()
            .await;
        assert_eq!(numbers(answers), [(false, 1), (false, 2), (true, 3)], "over {name}");

        // Dropping the stream cancels the call; AutobahnPython cancels its
        // coroutine.
        let mut answers =
            client.call_progressive("com.test.py.wait", Payload::default(), CallOptions::default());
        assert!(!answers.next().await.unwrap().unwrap().is_final());
        drop(answers);
        interrupted_in_python(&client, 1).await;

        // A timed call: the router answers wamp.error.timeout and
        // interrupts the callee.
        let short = CallOptions { timeout: Some(Duration::from_millis(300)), ..CallOptions::default() };
        let error =
            client.call_with("com.test.py.wait", Payload::default(), short).await.expect_err("timeout");
        assert_eq!(error.uri, errors::TIMEOUT, "over {name}");
        interrupted_in_python(&client, 2).await;

        client.call::<()>("com.test.py.done", ()).await.unwrap();
        let done = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await;
        assert!(matches!(done, Ok(Ok(Some(ref line))) if line == "DONE"), "AutobahnPython: {done:?}");
        assert!(callee.wait().await.unwrap().success());
        client.leave().await;
    }
}
