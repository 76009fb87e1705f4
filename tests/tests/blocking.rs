//! `blocking = true`: a sync handler that blocks runs on a worker thread,
//! so the realm keeps routing other sessions' calls meanwhile. Without
//! the option, a handler that can move starts on trial on a worker thread:
//! slow there, it stays, so it never holds anyone up (procedures, event
//! and message handlers); quick, it comes to its own thread after 32 runs,
//! where a slow run holds everyone up once and moves it back, until its
//! runs there have been quick for a while; slow on its thread a second
//! time, it moves for good. A handler whose component cannot move to
//! another thread holds everyone up each time (the control). A handler on
//! the pool takes its call's details (partial results, the caller, the
//! interruption) or its event's. Embedded and remote.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use futures_util::StreamExt as _;
use wamp::client::{
    CallDetails, CallOptions, Client, ConnectOptions, EventDetails, PublishOptions, ReconnectPolicy,
};
use wamp::component::{ComponentHandle, HostConfig};
use wamp::Error;
use wamp::Session;
use wamp_tests::{first_of, Mode, Pinger, TestHost};

/// Not `Default` (made with its arguments, as a component given a pool
/// would be): it moves all the same.
struct Cruncher {
    runs: u64,
    /// The thread `noted` last ran on, and its event's publication.
    noted: Option<(String, u64)>,
}

#[wamp::component(prefix = "com.test.cruncher", inventory = false)]
impl Cruncher {
    /// Blocks its thread for `ms`, on a worker thread.
    #[wamp::procedure("crunch", blocking = true)]
    fn crunch(&mut self, ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        self.runs += 1;
        self.runs
    }

    /// The same, on the component's thread.
    #[wamp::procedure("crunch_inline")]
    fn crunch_inline(&mut self, ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        self.runs += 1;
        self.runs
    }

    /// The application's own message, blocking the thread for its `ms`.
    #[wamp::message]
    fn crunch_message(&mut self, Crunch(ms): Crunch) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        self.runs += 1;
        self.runs
    }

    /// An event handler that blocks its thread for `ms`, with `&self`.
    #[wamp::subscribe("crunched")]
    fn crunched(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    /// Blocks its thread for `ms`, and names the thread that ran it.
    #[wamp::procedure("thread")]
    fn thread(&mut self, ms: u64) -> String {
        std::thread::sleep(Duration::from_millis(ms));
        format!("{:?}", std::thread::current().id())
    }

    /// Notes the thread it runs on and its event's publication: the
    /// details go along to the pool.
    #[wamp::subscribe("noted")]
    fn noted(&mut self, details: &EventDetails) {
        self.noted = Some((format!("{:?}", std::thread::current().id()), details.publication));
    }

    /// What `noted` noted last.
    #[wamp::procedure("last_noted")]
    fn last_noted(&self, _session: &Session) -> Option<(String, u64)> {
        self.noted.clone()
    }

    /// Names the component's own thread (taking the session, it cannot
    /// move).
    #[wamp::procedure("home")]
    fn home(&self, _session: &Session) -> String {
        format!("{:?}", std::thread::current().id())
    }

    /// Reads the state on a worker thread; panics when asked to.
    #[wamp::procedure("runs", blocking = true)]
    fn runs(&self, fail: bool) -> u64 {
        assert!(!fail, "asked to fail");
        self.runs
    }
}

/// Asks one of its own procedures while it holds the state.
#[derive(Default)]
struct Lookup;

#[wamp::component(prefix = "com.test.lookup", inventory = false)]
impl Lookup {
    /// Holds its thread for `ms`: slow once, it moves to the pool.
    #[wamp::procedure("find")]
    fn find(&self, ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }

    /// Calls `find` through the router, holding the state (`&self`) until
    /// the answer comes.
    #[wamp::procedure("ask")]
    async fn ask(&self, ms: u64, session: &Session) -> Result<u64, wamp::Error> {
        session.call("com.test.lookup.find", (ms,)).await
    }
}

/// Reports on its call from a worker thread: its details go along.
#[derive(Default)]
struct Reporter {
    /// The interruption `wait` saw last.
    seen: Option<String>,
    /// The thread `told` ran on, and its event's publication.
    told: Option<(String, u64)>,
}

#[wamp::component(prefix = "com.test.reporter", inventory = false)]
impl Reporter {
    /// Counts to `n` on a worker thread: 1 .. n-1 as partial results (more
    /// than wait for the session's thread at once), `n` as the result.
    #[wamp::procedure("count", blocking = true)]
    fn count(&self, n: u64, details: CallDetails) -> Result<u64, Error> {
        for i in 1..n {
            details.send_progress(i)?;
        }
        Ok(n)
    }

    /// Names its thread and its caller, after a partial result: on trial
    /// on the pool, with its details.
    #[wamp::procedure("who", disclose_caller = true)]
    fn who(&self, details: &CallDetails) -> Result<(String, Option<u64>), Error> {
        details.send_progress("on the way")?;
        Ok((format!("{:?}", std::thread::current().id()), details.caller))
    }

    /// Says it started, then waits on a worker thread until its call is
    /// interrupted (five seconds at most), and keeps the interruption.
    #[wamp::procedure("wait", blocking = true)]
    fn wait(&mut self, details: CallDetails) -> Result<(), Error> {
        details.send_progress("started")?;
        let began = std::time::Instant::now();
        while began.elapsed() < Duration::from_secs(5) {
            if let Some(why) = details.interruption() {
                let refused = details.send_progress("after").is_err();
                self.seen = Some(format!("{} {} refused={refused}", why.mode, why.reason));
                return Err(why.to_error());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.seen = Some("not interrupted".into());
        Ok(())
    }

    /// What `wait` saw last.
    #[wamp::procedure("seen")]
    fn seen(&self) -> Option<String> {
        self.seen.clone()
    }

    /// Notes its thread and its event's publication, on a worker thread.
    #[wamp::subscribe("told", blocking = true)]
    fn told(&mut self, details: EventDetails) {
        self.told = Some((format!("{:?}", std::thread::current().id()), details.publication));
    }

    /// What `told` noted.
    #[wamp::procedure("last_told")]
    fn last_told(&self) -> Option<(String, u64)> {
        self.told.clone()
    }

    /// Names the component's own thread (taking the session, it cannot
    /// move).
    #[wamp::procedure("home")]
    fn home(&self, _session: &Session) -> String {
        format!("{:?}", std::thread::current().id())
    }
}

/// A message for [`Cruncher::crunch_message`].
struct Crunch(u64);

/// Cannot move to a worker thread: not `Send`.
struct Pinned {
    runs: std::rc::Rc<std::cell::Cell<u64>>,
}

#[wamp::component(prefix = "com.test.pinned", inventory = false)]
impl Pinned {
    /// Blocks its thread for `ms`, always on the component's thread.
    #[wamp::procedure("hold")]
    fn hold(&self, ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        self.runs.set(self.runs.get() + 1);
        self.runs.get()
    }
}

/// Calls `procedure` every 5 ms until it answers something: what a
/// handler running elsewhere noted, once it has run.
async fn once_noted<T: serde::de::DeserializeOwned + Send + 'static>(
    client: &Client,
    procedure: &'static str,
) -> T {
    loop {
        if let Some(noted) = client.call::<Option<T>>(procedure, ()).await.unwrap() {
            return noted;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Which answer comes first: a 700 ms call's, or a ping sent while it runs.
async fn first_answer(client: &Client, pinger: &Client, procedure: &'static str) -> &'static str {
    first_of(client.call::<u64>(procedure, (700,)), pinger, "long call").await
}

/// Which comes first: the answer to a 700 ms message sent to `handle`,
/// or a ping sent while it runs.
async fn first_of_message(handle: &ComponentHandle<Cruncher>, pinger: &Client) -> &'static str {
    first_of(handle.send(Crunch(700)), pinger, "message").await
}

/// How long a ping sent 150 ms after the event (whose handler runs
/// 700 ms) takes to come back, counted from the publication: the clients,
/// the router and the component may share a thread, so a handler that
/// holds it holds up the sleep too.
async fn ping_after_event(client: &Client, pinger: &Client) -> Duration {
    let began = std::time::Instant::now();
    // Not acknowledged: the acknowledgement would wait for a handler that
    // holds the router's thread.
    client.publish("com.test.cruncher.crunched", (700,)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(pinger.call::<String>("com.test.pinger.ping", ()).await.unwrap(), "pong");
    let took = began.elapsed();
    // Let the handler finish before the next round.
    tokio::time::sleep(Duration::from_millis(800)).await;
    took
}

async fn check(url: &str, handle: ComponentHandle<Cruncher>) {
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, "realm1") };
    let client = Client::connect(options.clone()).await.unwrap();
    let pinger = Client::connect(options).await.unwrap();
    let _: String = wamp_tests::call_when_registered(&pinger, "com.test.pinger.ping", ()).await;
    let _: u64 = wamp_tests::call_when_registered(&client, "com.test.cruncher.runs", (false,)).await;

    assert_eq!(first_answer(&client, &pinger, "com.test.cruncher.crunch").await, "ping", "not held up");
    assert_eq!(
        client.call::<u64>("com.test.cruncher.runs", (false,)).await.unwrap(),
        1,
        "the state came back"
    );

    let error = client.call::<u64>("com.test.cruncher.runs", (true,)).await.unwrap_err();
    assert_eq!(error.uri, wamp::protocol::errors::RUNTIME_ERROR, "{error}");
    assert!(error.to_string().contains("asked to fail"), "{error}");
    assert_eq!(
        client.call::<u64>("com.test.cruncher.runs", (false,)).await.unwrap(),
        1,
        "kept after a panic"
    );

    // Without the option: slow on its trial on the pool, the handler stays
    // there, with the state; nobody is held up.
    assert_eq!(first_answer(&client, &pinger, "com.test.cruncher.crunch_inline").await, "ping", "on trial");
    assert_eq!(first_answer(&client, &pinger, "com.test.cruncher.crunch_inline").await, "ping", "stays");
    assert_eq!(
        client.call::<u64>("com.test.cruncher.runs", (false,)).await.unwrap(),
        3,
        "one state throughout"
    );

    // The same for an event handler.
    for run in 0..2 {
        let took = ping_after_event(&client, &pinger).await;
        assert!(took < Duration::from_millis(450), "run {run} holds nobody up: {took:?}");
    }

    // The same for a message handler.
    for run in 0..2 {
        assert_eq!(first_of_message(&handle, &pinger).await, "ping", "run {run} of the message handler");
    }
    assert_eq!(
        client.call::<u64>("com.test.cruncher.runs", (false,)).await.unwrap(),
        5,
        "one state throughout"
    );

    // An event handler taking its details moves: they are plain data.
    let home: String = client.call("com.test.cruncher.home", ()).await.unwrap();
    let publication = client
        .publish_with(
            "com.test.cruncher.noted",
            (),
            PublishOptions { acknowledge: true, ..Default::default() },
        )
        .await
        .unwrap();
    let noted: (String, u64) = once_noted(&client, "com.test.cruncher.last_noted").await;
    assert_ne!(noted.0, home, "on trial on the pool");
    assert_eq!(Some(noted.1), publication, "with its details");

    // Quick on its trial, a handler comes to its own thread after 32 runs.
    // Slow there once (a first run that fills a cache, a pause of the
    // machine), it holds everyone up that once and moves to the pool; back
    // on its thread after its runs there have been quick for a while
    // (`BACK_AFTER`, 32; docs/components.md), and slow there again, it
    // stays on the pool.
    let thread = |ms: u64| client.call::<String>("com.test.cruncher.thread", (ms,));
    for run in 0..32 {
        assert_ne!(thread(0).await.unwrap(), home, "run {run} is on trial on the pool");
    }
    assert_eq!(thread(0).await.unwrap(), home, "trusted: on its thread");
    assert_eq!(thread(300).await.unwrap(), home, "slow on its thread");
    for run in 0..32 {
        assert_ne!(thread(0).await.unwrap(), home, "run {run} after the move is on the pool");
    }
    assert_eq!(thread(0).await.unwrap(), home, "back on its thread");
    assert_eq!(thread(300).await.unwrap(), home, "slow on its thread once more");
    for run in 0..64 {
        assert_ne!(thread(0).await.unwrap(), home, "run {run} after the second move is on the pool");
    }

    // A component that cannot move holds everyone up each time.
    assert_eq!(first_answer(&client, &pinger, "com.test.pinned.hold").await, "long call");
    assert_eq!(first_answer(&client, &pinger, "com.test.pinned.hold").await, "long call", "cannot move");

    pinger.leave().await;
    client.leave().await;
}

fn host(config: HostConfig) -> wamp::Host {
    wamp::Host::new(config)
        .add_component(Cruncher { runs: 0, noted: None })
        .add_component(Pinger)
        .add_component(Pinned { runs: Default::default() })
}

wamp_tests::embedded_and_remote!(run);

async fn run(mode: Mode) {
    let host = TestHost::start(mode, host).await;
    check(&host.url, host.running.component::<Cruncher>().unwrap()).await;
    host.shutdown().await;
}

/// A `&self` method that moved runs beside a `&self` method of its own
/// component that holds the state and waits for it, instead of waiting
/// for the state to itself (which would never come).
async fn ask_itself(mode: Mode) {
    let host = TestHost::start(mode, |config| wamp::Host::new(config).add_component(Lookup)).await;
    let options =
        ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&host.url, "realm1") };
    let client = Client::connect(options).await.unwrap();
    let moved: u64 = wamp_tests::call_when_registered(&client, "com.test.lookup.find", (300,)).await;
    assert_eq!(moved, 300, "slow once: moved");
    let asked = tokio::time::timeout(Duration::from_secs(5), client.call::<u64>("com.test.lookup.ask", (1,)));
    assert_eq!(asked.await.expect("answered, not stuck").unwrap(), 1);
    client.leave().await;
    host.shutdown().await;
}

wamp_tests::embedded_and_remote!(
    ask_itself => a_moved_method_answers_its_own_component_embedded,
    a_moved_method_answers_its_own_component_remote
);

/// A handler on a worker thread, `blocking` or on trial, takes its call
/// details: it sends partial results, which reach the caller before the
/// result and in order, also more of them than the queue to the
/// session's thread holds; it sees who called; it learns that the caller
/// canceled, and a partial result it sends then fails. A `blocking` event
/// handler takes its event's details along.
async fn details_go_along(mode: Mode) {
    let host =
        TestHost::start(mode, |config| wamp::Host::new(config).add_component(Reporter::default())).await;
    let options =
        ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&host.url, "realm1") };
    let client = Client::connect(options).await.unwrap();
    let home: String = wamp_tests::call_when_registered(&client, "com.test.reporter.home", ()).await;

    let count = |n: u64| client.call_progressive("com.test.reporter.count", (n,), CallOptions::default());
    let answers: Vec<(bool, u64)> = count(40)
        .map(|answer| {
            let answer = answer.expect("an answer");
            (answer.is_final(), answer.into_result().get::<u64>(0).unwrap())
        })
        .collect()
        .await;
    let expected: Vec<(bool, u64)> = (1..=40).map(|i| (i == 40, i)).collect();
    assert_eq!(answers, expected, "every partial result, in order, then the result");
    let plain: u64 = client.call("com.test.reporter.count", (40,)).await.unwrap();
    assert_eq!(plain, 40, "a caller that takes no partial results gets the result alone");

    let mut answers = client.call_progressive("com.test.reporter.who", (), CallOptions::default());
    let first = answers.next().await.unwrap().unwrap();
    assert!(!first.is_final());
    assert_eq!(first.into_result().get::<String>(0).unwrap(), "on the way");
    let last = answers.next().await.unwrap().unwrap();
    assert!(last.is_final());
    let (thread, caller) = last.into_result().get::<(String, Option<u64>)>(0).unwrap();
    assert_ne!(thread, home, "on trial on the pool");
    let me = client.joined().await.unwrap().id;
    assert_eq!(caller, Some(me), "the caller, disclosed");

    let mut answers = client.call_progressive("com.test.reporter.wait", (), CallOptions::default());
    let first = answers.next().await.unwrap().unwrap();
    assert_eq!(first.into_result().get::<String>(0).unwrap(), "started");
    drop(answers);
    let seen: String = once_noted(&client, "com.test.reporter.seen").await;
    assert_eq!(seen, format!("killnowait {} refused=true", wamp::protocol::errors::CANCELED));

    let acknowledged = PublishOptions { acknowledge: true, ..Default::default() };
    let publication = client.publish_with("com.test.reporter.told", (), acknowledged).await.unwrap();
    let told: (String, u64) = once_noted(&client, "com.test.reporter.last_told").await;
    assert_ne!(told.0, home, "a blocking event handler runs on the pool");
    assert_eq!(Some(told.1), publication, "with its details");

    client.leave().await;
    host.shutdown().await;
}

wamp_tests::embedded_and_remote!(
    details_go_along => call_details_go_along_to_the_pool_embedded,
    call_details_go_along_to_the_pool_remote
);
