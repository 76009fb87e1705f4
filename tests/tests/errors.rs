//! Errors as a caller sees them: each failure has its kind (an application
//! error, a timeout, a cancellation, an unreachable router, a refused
//! session, a session the router ends, a result that does not convert),
//! and an application's own
//! error enum (`#[derive(wamp::Error)]`) crosses the wire and is decoded
//! back into the enum, from a component running embedded, remote against
//! our router, and remote against Crossbar.io.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use wamp::client::{CallOptions, Client, ConnectOptions, ReconnectPolicy};
use wamp::component::HostConfig;
use wamp::prelude::*;
use wamp::protocol::errors;
use wamp::ErrorKind;
use wamp_tests::crossbar::CrossbarRouter;
use wamp_tests::TestRouter;

#[derive(Debug, Clone, PartialEq, wamp::Error)]
#[wamp(prefix = "com.test.bank.error")]
enum BankError {
    #[wamp(message = "not enough money on the account")]
    InsufficientFunds {
        needed: u64,
        available: u64,
    },
    UnknownAccount(String),
    #[wamp(uri = "com.test.bank.frozen")]
    Frozen,
}

#[derive(Default)]
struct Bank;

#[wamp::component(prefix = "com.test.bank", inventory = false)]
impl Bank {
    #[wamp::procedure("withdraw")]
    fn withdraw(&self, account: String, amount: u64) -> Result<u64, BankError> {
        match account.as_str() {
            "frozen" => Err(BankError::Frozen),
            "poor" => Err(BankError::InsufficientFunds { needed: amount, available: 20 }),
            "rich" => Ok(1_000 - amount),
            _ => Err(BankError::UnknownAccount(account)),
        }
    }

    #[wamp::procedure("slow")]
    async fn slow(&self) -> u64 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        1
    }

    #[wamp::procedure("give_up")]
    fn give_up(&self) -> Result<u64, Error> {
        Err(Error::new(errors::CANCELED, "the callee gave up"))
    }
}

fn host_config() -> HostConfig {
    let mut config = wamp_tests::embedded();
    config.reconnect = ReconnectPolicy::off();
    config
}

/// What a caller at `url` sees of each of the bank's answers.
async fn check_typed_errors(url: &str, realm: &str) {
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, realm) };
    let caller = Client::connect(options).await.unwrap();
    let left: u64 = wamp_tests::call_when_registered(&caller, "com.test.bank.withdraw", ("rich", 100)).await;
    assert_eq!(left, 900);

    let poor = caller.call::<u64>("com.test.bank.withdraw", ("poor", 50)).await.unwrap_err();
    assert_eq!(poor.uri, "com.test.bank.error.insufficient_funds");
    assert_eq!(poor.kind(), ErrorKind::Application);
    assert_eq!(poor.message(), Some("not enough money on the account"));
    assert_eq!(poor.decode::<BankError>(), Some(BankError::InsufficientFunds { needed: 50, available: 20 }));

    let unknown = caller.call::<u64>("com.test.bank.withdraw", ("nobody", 5)).await.unwrap_err();
    assert_eq!(unknown.decode::<BankError>(), Some(BankError::UnknownAccount("nobody".into())));
    let frozen = caller.call::<u64>("com.test.bank.withdraw", ("frozen", 5)).await.unwrap_err();
    assert_eq!(
        (frozen.uri.as_str(), frozen.decode::<BankError>()),
        ("com.test.bank.frozen", Some(BankError::Frozen))
    );

    // Not one of the bank's errors: nothing to decode.
    let missing = caller.call::<u64>("com.test.bank.nothing", ()).await.unwrap_err();
    assert_eq!((missing.uri.as_str(), missing.kind()), (errors::NO_SUCH_PROCEDURE, ErrorKind::Application));
    assert_eq!(missing.decode::<BankError>(), None);
    caller.leave().await;
}

#[actix_web::test]
async fn typed_errors_cross_the_wire_from_an_embedded_component() {
    let running = wamp::Host::new(host_config()).add_component(Bank).start().unwrap();
    let url = wamp_tests::serve(&running).await;
    check_typed_errors(&url, "realm1").await;
    running.shutdown().await;
}

#[actix_web::test]
async fn typed_errors_cross_the_wire_from_a_remote_component() {
    let router = TestRouter::start();
    let mut config = host_config();
    config.url = Some(router.url.clone());
    let running = wamp::Host::new(config).add_component(Bank).start().unwrap();
    running.joined().await.unwrap();
    check_typed_errors(&router.url, "realm1").await;
    running.shutdown().await;
}

#[test]
fn typed_errors_cross_crossbar() {
    let crossbar = CrossbarRouter::start();
    let mut config = host_config();
    config.url = Some(crossbar.url.clone());
    config.realm = crossbar.realm.clone();
    actix_web::rt::System::new().block_on(async {
        let running = wamp::Host::new(config).add_component(Bank).start().unwrap();
        running.joined().await.unwrap();
        check_typed_errors(&crossbar.url, &crossbar.realm).await;
        running.shutdown().await;
    });
}

#[actix_web::test]
async fn each_failure_has_its_kind() {
    let running = wamp::Host::new(host_config()).add_component(Bank).start().unwrap();
    let server = running.bind().expect("embedded").unwrap();
    let (url, listening) = (server.url(), server.handle());
    actix_web::rt::spawn(server.run());
    running.joined().await.unwrap();
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&url, "realm1") };
    let caller = Client::connect(options.clone()).await.unwrap();
    let _: u64 = wamp_tests::call_when_registered(&caller, "com.test.bank.withdraw", ("rich", 1)).await;

    // The router times the call and says so.
    let timed = CallOptions { timeout: Some(Duration::from_millis(100)), ..CallOptions::default() };
    let slow = caller.call_with("com.test.bank.slow", (), timed).await;
    let slow = slow.unwrap_err();
    assert_eq!((slow.uri.as_str(), slow.kind()), (errors::TIMEOUT, ErrorKind::Timeout));

    // The callee answers wamp.error.canceled.
    let gave_up = caller.call::<u64>("com.test.bank.give_up", ()).await.unwrap_err();
    assert_eq!((gave_up.uri.as_str(), gave_up.kind()), (errors::CANCELED, ErrorKind::Canceled));

    // The answer does not convert to the type asked for.
    let wrong = caller.call::<String>("com.test.bank.withdraw", ("rich", 1)).await.unwrap_err();
    assert_eq!((wrong.uri.as_str(), wrong.kind()), (errors::INVALID_ARGUMENT, ErrorKind::Invalid));

    // The router refuses the session.
    let refused =
        ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&url, "no such realm") };
    let refused = Client::connect(refused).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Aborted, "{refused}");

    // The callee goes away before answering: the router cancels the call.
    let call = {
        let caller = caller.clone();
        actix_web::rt::spawn(async move { caller.call::<u64>("com.test.bank.slow", ()).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    running.shutdown().await;
    let left = call.await.unwrap().unwrap_err();
    assert_eq!((left.uri.as_str(), left.kind()), (errors::CANCELED, ErrorKind::Canceled), "{left}");

    // Nobody listens any more.
    listening.stop(false).await;
    let unreachable = Client::connect(options).await.unwrap_err();
    assert_eq!((unreachable.uri.as_str(), unreachable.kind()), (errors::CANCELED, ErrorKind::Transport));
}

#[actix_web::test]
async fn a_call_lost_with_the_connection_is_a_transport_error_not_a_cancellation() {
    let router = TestRouter::start();
    let relay = wamp_tests::Relay::start(&router).await;
    let mut config = host_config();
    config.url = Some(router.url.clone());
    let running = wamp::Host::new(config).add_component(Bank).start().unwrap();
    running.joined().await.unwrap();
    let options =
        ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&relay.url, "realm1") };
    let caller = Client::connect(options).await.unwrap();
    let _: u64 = wamp_tests::call_when_registered(&caller, "com.test.bank.withdraw", ("rich", 1)).await;

    let call = {
        let caller = caller.clone();
        actix_web::rt::spawn(async move { caller.call::<u64>("com.test.bank.slow", ()).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    // The connection drops: no GOODBYE, no ERROR.
    relay.cut();
    let lost = call.await.unwrap().unwrap_err();
    assert_eq!((lost.uri.as_str(), lost.kind()), (errors::CANCELED, ErrorKind::Transport), "{lost}");
    running.shutdown().await;
}

/// A component that only makes calls, through its client.
#[derive(Default)]
struct Teller;

#[wamp::component(prefix = "com.test.teller", inventory = false)]
impl Teller {}

wamp_tests::embedded_and_remote!(ended_by_the_router => a_session_the_router_ends_embedded, a_session_the_router_ends_remote);

/// The router ends a session with a call in flight (`wamp.session.kill`,
/// a GOODBYE with the reason and message given): the call fails of kind
/// `Aborted` with the router's reason, for a session in the router's
/// process (embedded) and over WebSocket (remote) alike.
async fn ended_by_the_router(mode: wamp_tests::Mode) {
    let router = wamp::RouterConfig { allow_session_kill: true, ..wamp::RouterConfig::default() };
    let host = wamp_tests::TestHost::with_router(mode, router, |config| {
        wamp::Host::new(config).add_component(Bank).add_component(Teller)
    })
    .await;
    let teller = host.running.component::<Teller>().unwrap().client().clone();
    let _: u64 = wamp_tests::call_when_registered(&teller, "com.test.bank.withdraw", ("rich", 1)).await;
    let victim = teller.joined().await.unwrap().id;
    let call = {
        let teller = teller.clone();
        actix_web::rt::spawn(async move { teller.call::<u64>("com.test.bank.slow", ()).await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;

    let options =
        ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&host.url, "realm1") };
    let admin = Client::connect(options).await.unwrap();
    let kill = Arguments::new().arg(victim).unwrap().kwarg("reason", "com.test.banned").unwrap();
    let kill = kill.kwarg("message", "go away").unwrap();
    admin.call_with("wamp.session.kill", kill, CallOptions::default()).await.unwrap();

    let ended = tokio::time::timeout(Duration::from_secs(5), call).await.unwrap().unwrap().unwrap_err();
    assert_eq!((ended.uri.as_str(), ended.kind()), ("com.test.banned", ErrorKind::Aborted), "{ended}");
    assert!(ended.to_string().contains("go away"), "{ended}");
    admin.leave().await;
    host.shutdown().await;
}
