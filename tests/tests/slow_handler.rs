//! A handler that holds its thread past `slow_handler_ms` is named in a
//! warning (a sync handler's run, the poll of an `async` handler that
//! blocks after its first await, a message handler, a closure given to a
//! component's handle), embedded and remote; a handler that returns in
//! time is not. A sync handler that can move starts on trial on the
//! blocking pool: slow there, it stays, and the log says so instead.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::io::Write;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use wamp::client::{Client, ConnectOptions, PublishOptions};
use wamp::component::HostConfig;

/// Not `Send` (as a component holding an `Rc` is): its sync handlers
/// cannot move to another thread, so they run on its own from the first.
#[derive(Default)]
struct Slow(PhantomData<Rc<()>>);

#[wamp::component(prefix = "com.test.slow", inventory = false)]
impl Slow {
    /// Holds the thread for `ms` milliseconds.
    #[wamp::procedure("sync")]
    fn sync(&self, ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }

    /// Awaits once, then holds the thread (a blocking call inside `async`).
    #[wamp::procedure("after_await")]
    async fn after_await(&self, ms: u64) -> u64 {
        tokio::time::sleep(Duration::from_millis(1)).await;
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }

    /// An event handler that holds the thread.
    #[wamp::subscribe("event")]
    fn event(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    /// The application's own message, holding the thread.
    #[wamp::message]
    fn hold(&self, Hold(ms): Hold) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }
}

/// A message for [`Slow::hold`].
struct Hold(u64);

/// `Send`: its sync handler starts on trial on the blocking pool.
#[derive(Default)]
struct Trial;

#[wamp::component(prefix = "com.test.trial", inventory = false)]
impl Trial {
    /// Blocks its thread for `ms` milliseconds.
    #[wamp::procedure("sync")]
    fn sync(&self, ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }
}

/// Everything logged in this test binary.
static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        LOG.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(|| Capture).finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
}

/// The warning lines naming `handler` logged so far.
fn warnings_for(handler: &str) -> Vec<String> {
    let log = String::from_utf8_lossy(&LOG.lock().unwrap()).into_owned();
    let name = format!("handler={handler} held_ms=");
    log.lines().filter(|line| line.contains("WARN") && line.contains(&name)).map(str::to_owned).collect()
}

/// Waits up to five seconds for a warning naming `handler`.
async fn warned(handler: &str) -> String {
    let began = Instant::now();
    loop {
        if let Some(line) = warnings_for(handler).pop() {
            return line;
        }
        assert!(began.elapsed() < Duration::from_secs(5), "no warning names {handler}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The number a log line gives for `key`.
fn field(line: &str, key: &str) -> u64 {
    line.split(&format!("{key}="))
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

/// Runs the three slow handlers through `client` and checks each is
/// named, with a plausible duration; a quick run is not.
async fn check(client: &Client) {
    let quick: u64 = client.call("com.test.slow.sync", (1,)).await.unwrap();
    assert_eq!(quick, 1);
    let held: u64 = client.call("com.test.slow.sync", (200,)).await.unwrap();
    assert_eq!(held, 200);
    let line = warned("com.test.slow.sync").await;
    let held_ms = field(&line, "held_ms");
    assert!((100..=2_000).contains(&held_ms), "held 200 ms, reported {held_ms}: {line}");
    assert!(line.contains("blocking = true"), "the warning says what to do: {line}");
    assert_eq!(warnings_for("com.test.slow.sync").len(), 1, "the quick run is not reported");

    // A handler that can move (its component is `Send`) is slow on its
    // trial on the pool: it stays there, and says so; it never held its
    // thread, so the watchdog has nothing to say.
    let held: u64 = client.call("com.test.trial.sync", (200,)).await.unwrap();
    assert_eq!(held, 200);
    let began = Instant::now();
    let stays = loop {
        let log = String::from_utf8_lossy(&LOG.lock().unwrap()).into_owned();
        let line = log.lines().find(|line| {
            line.contains("a run of the handler on trial took longer than slow_handler_ms")
                && line.contains("handler=com.test.trial.sync")
        });
        if let Some(line) = line {
            break line.to_owned();
        }
        assert!(began.elapsed() < Duration::from_secs(5), "the stay on the pool is logged: {log}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took_ms = field(&stays, "took_ms");
    assert!(stays.contains("WARN") && (150..=2_000).contains(&took_ms), "ran 200 ms: {stays}");
    assert!(warnings_for("com.test.trial.sync").is_empty(), "it held no thread");

    let _: u64 = client.call("com.test.slow.after_await", (200,)).await.unwrap();
    warned("com.test.slow.after_await").await;

    client
        .publish_with(
            "com.test.slow.event",
            (200,),
            PublishOptions { acknowledge: true, ..Default::default() },
        )
        .await
        .unwrap();
    warned("com.test.slow.event").await;
}

#[actix_web::test]
async fn a_handler_that_holds_its_thread_is_named_embedded_and_remote() {
    capture_logs();
    let config = HostConfig { slow_handler_ms: 40, ..wamp_tests::embedded() };
    let running =
        wamp::Host::new(config).add_component(Slow::default()).add_component(Trial).start().unwrap();
    let url = wamp_tests::serve(&running).await;
    let client = Client::connect(ConnectOptions::new(&url, "realm1")).await.unwrap();
    check(&client).await;
    // The application's own messages, and closures given to the handle.
    let handle = running.component::<Slow>().unwrap();
    assert_eq!(handle.send(Hold(200)).await.unwrap(), 200);
    warned("Slow: slow_handler::Hold").await;
    handle.read(|_| std::thread::sleep(Duration::from_millis(200))).await.unwrap();
    warned("Slow: ComponentHandle::read").await;

    // The same component, remote: joined to another router over WebSocket.
    running.shutdown().await;
    LOG.lock().unwrap().clear();
    let router = wamp::Host::new(wamp_tests::embedded()).start().unwrap();
    let url = wamp_tests::serve(&router).await;
    let config = HostConfig { url: Some(url.clone()), slow_handler_ms: 40, ..HostConfig::default() };
    let remote = wamp::Host::new(config).add_component(Slow::default()).add_component(Trial).start().unwrap();
    remote.joined().await.unwrap();
    let client = Client::connect(ConnectOptions::new(&url, "realm1")).await.unwrap();
    check(&client).await;
}
