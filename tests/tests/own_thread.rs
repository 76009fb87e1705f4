//! `own_thread`: a component the host runs on a thread of its own holds
//! nobody up, whatever its handlers take, also those that cannot move to
//! the blocking pool (a component that is not `Send`, a handler taking the
//! `Session`). The host makes a registered component on that thread, so
//! it need not be `Send`; a component given by value goes there if it is.
//! Its messages still reach it from any thread, and its thread ends when
//! the host's components leave. Embedded and remote.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::Duration;

use wamp::client::{Client, ConnectOptions, ReconnectPolicy};
use wamp::component::HostConfig;
use wamp::Session;
use wamp_tests::{first_of, Mode, Pinger, TestHost};

fn thread_name(id: ThreadId) -> String {
    format!("{id:?}")
}

/// Not `Send`: the host makes it (with `Default`, from the inventory) on
/// the thread it runs on.
struct Stubborn {
    made_on: ThreadId,
    _not_send: Rc<()>,
}

impl Default for Stubborn {
    fn default() -> Self {
        Stubborn { made_on: std::thread::current().id(), _not_send: Rc::new(()) }
    }
}

#[wamp::component(prefix = "com.test.stubborn")]
impl Stubborn {
    /// Holds its thread for `ms`; cannot move to the pool.
    #[wamp::procedure("hold")]
    fn hold(&self, ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }

    /// The thread it runs on, and whether it was made there.
    #[wamp::procedure("home")]
    fn home(&self) -> (String, bool) {
        let here = std::thread::current().id();
        (thread_name(here), self.made_on == here)
    }
}

/// `Send`, given by value; its handlers take the `Session`, so none can
/// move to the pool.
struct Chatty {
    dropped: Arc<AtomicBool>,
}

impl Drop for Chatty {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

/// Asks [`Chatty`] for the thread its message handler runs on.
struct WhereAreYou;

#[wamp::component(prefix = "com.test.chatty", inventory = false)]
impl Chatty {
    /// Holds its thread for `ms`.
    #[wamp::procedure("hold")]
    fn hold(&self, ms: u64, session: &Session) -> u64 {
        assert!(session.session_id().is_some());
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }

    /// The thread it runs on.
    #[wamp::procedure("home")]
    fn home(&self, _session: &Session) -> String {
        thread_name(std::thread::current().id())
    }

    /// The thread its messages are handled on (`async`, so on the
    /// component's thread, never on trial on the pool).
    #[wamp::message]
    async fn where_are_you(&self, _: WhereAreYou) -> String {
        thread_name(std::thread::current().id())
    }
}

/// On the host's thread: the control, a handler that cannot move and
/// holds everyone up there.
#[derive(Default)]
struct Homebody;

#[wamp::component(prefix = "com.test.homebody", inventory = false)]
impl Homebody {
    /// Holds the host's thread for `ms`.
    #[wamp::procedure("hold")]
    fn hold(&self, ms: u64, _session: &Session) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }

    /// The host's thread.
    #[wamp::procedure("home")]
    fn home(&self, _session: &Session) -> String {
        thread_name(std::thread::current().id())
    }
}

async fn check(mode: Mode) {
    let dropped = Arc::new(AtomicBool::new(false));
    let chatty = Chatty { dropped: dropped.clone() };
    let host = TestHost::start(mode, |config| {
        let config = HostConfig { own_thread: vec!["stubborn".into(), "Chatty".into()], ..config };
        wamp::Host::new(config)
            .add_registered()
            .add_component(chatty)
            .add_component(Homebody)
            .add_component(Pinger)
    })
    .await;
    let options =
        ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&host.url, "realm1") };
    let client = Client::connect(options.clone()).await.unwrap();
    let pinger = Client::connect(options).await.unwrap();
    let host_thread: String = wamp_tests::call_when_registered(&client, "com.test.homebody.home", ()).await;

    let (stubborn_thread, made_there): (String, bool) =
        wamp_tests::call_when_registered(&client, "com.test.stubborn.home", ()).await;
    assert!(made_there, "the host made the component on its own thread");
    let chatty_thread: String = client.call("com.test.chatty.home", ()).await.unwrap();
    assert_ne!(stubborn_thread, host_thread);
    assert_ne!(chatty_thread, host_thread);
    assert_ne!(chatty_thread, stubborn_thread, "a thread for each");
    let handle = host.running.component::<Chatty>().unwrap();
    assert_eq!(handle.send(WhereAreYou).await.unwrap(), chatty_thread, "messages reach it there");

    let hold = |procedure: &'static str| client.call::<u64>(procedure, (700,));
    for round in 0..2 {
        let first = first_of(hold("com.test.stubborn.hold"), &pinger, "long call").await;
        assert_eq!(first, "ping", "round {round}: a component that is not Send holds nobody up");
        let first = first_of(hold("com.test.chatty.hold"), &pinger, "long call").await;
        assert_eq!(first, "ping", "round {round}: a handler taking the Session holds nobody up");
    }
    // The control: the same handler on the host's thread holds everyone
    // up there.
    assert_eq!(first_of(hold("com.test.homebody.hold"), &pinger, "long call").await, "long call");

    pinger.leave().await;
    client.leave().await;
    assert!(!dropped.load(Ordering::SeqCst));
    host.shutdown().await;
    let ended = wamp_tests::poll_until(|| std::future::ready(dropped.load(Ordering::SeqCst)), |d| *d).await;
    assert!(ended, "the component's thread did not end within ten seconds of the host's shutdown");
}

wamp_tests::embedded_and_remote!(check);

/// A component given by value that is not `Send` cannot go to a thread of
/// its own, and a name that is no component's is a mistake: the host
/// says so instead of starting.
#[actix_web::test]
async fn a_component_that_cannot_move_or_a_name_that_is_none_stops_the_host() {
    struct Rooted(Rc<()>);

    #[wamp::component(prefix = "com.test.rooted", inventory = false)]
    impl Rooted {
        #[wamp::procedure("count")]
        fn count(&self) -> usize {
            Rc::strong_count(&self.0)
        }
    }

    let config = HostConfig { own_thread: vec!["Rooted".into()], ..wamp_tests::embedded() };
    let refused = wamp::Host::new(config).add_component(Rooted(Rc::new(()))).start().err().unwrap();
    assert_eq!(refused.kind(), wamp::ErrorKind::Invalid);
    assert!(refused.to_string().contains("own_thread names the component Rooted"), "{refused}");
    assert!(refused.to_string().contains("not Send"), "{refused}");

    let config = HostConfig { own_thread: vec!["Pinegr".into()], ..wamp_tests::embedded() };
    let refused = wamp::Host::new(config).add_component(Pinger).start().err().unwrap();
    assert_eq!(refused.kind(), wamp::ErrorKind::Invalid);
    assert!(
        refused.to_string().contains("own_thread names Pinegr, which is not a component of this host"),
        "{refused}"
    );
}
