//! A handler that holds its thread past `slow_handler_ms` is named in a
//! warning (a sync handler's run, the poll of an `async` handler that
//! blocks after its first await, a message handler, a closure given to a
//! component's handle), embedded and remote; a handler that returns in
//! time is not.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use wamp::client::{Client, ConnectOptions, PublishOptions};
use wamp::component::HostConfig;

#[derive(Default)]
struct Slow;

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

/// Runs the three slow handlers through `client` and checks each is
/// named, with a plausible duration; a quick run is not.
async fn check(client: &Client) {
    let quick: u64 = client.call("com.test.slow.sync", (1,)).await.unwrap();
    assert_eq!(quick, 1);
    let held: u64 = client.call("com.test.slow.sync", (200,)).await.unwrap();
    assert_eq!(held, 200);
    let line = warned("com.test.slow.sync").await;
    let held_ms: u64 = line
        .split("held_ms=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no held_ms in {line}"));
    assert!((100..=2_000).contains(&held_ms), "held 200 ms, reported {held_ms}: {line}");
    assert!(line.contains("blocking = true"), "the warning says what to do: {line}");
    assert_eq!(warnings_for("com.test.slow.sync").len(), 1, "the quick run is not reported");
    // The handler can move (the component is `Send`): it does,
    // and says so.
    let log = String::from_utf8_lossy(&LOG.lock().unwrap()).into_owned();
    assert!(
        log.lines().any(|line| line.contains("later runs go to the blocking thread pool")
            && line.ends_with("handler=com.test.slow.sync")),
        "the move is logged: {log}"
    );

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
    let running = wamp::Host::new(config).add_component(Slow).start().unwrap();
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
    let remote = wamp::Host::new(config).add_component(Slow).start().unwrap();
    remote.joined().await.unwrap();
    let client = Client::connect(ConnectOptions::new(&url, "realm1")).await.unwrap();
    check(&client).await;
}
