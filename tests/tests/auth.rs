//! Authentication and authorization on our router, configured with the
//! example file the security guide explains (docs/examples/auth.toml):
//! AutobahnPython and our client (directly, and as a host of remote
//! components configured by a settings file) authenticate with every
//! method and meet every permission; dynamic authenticators (a remote
//! session, an embedded component) and a dynamic authorizer decide for
//! what the file does not say; a brute-force loop is refused; a peer that
//! never answers its CHALLENGE is closed.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use wamp::client::{Client, ConnectOptions, Credentials, ReconnectPolicy};
use wamp::component::HostConfig;
use wamp::protocol::{errors, Dict, Serializer, Value, WampMessage};
use wamp::RouterConfig;
use wamp_tests::{python_checks, workspace_root, RawClient, TestRouter};

/// The example configuration, read as `wamp router --config` reads it.
fn example() -> RouterConfig {
    RouterConfig::load(Some(&workspace_root().join("docs/examples/auth.toml"))).expect("the example loads")
}

#[actix_web::test]
async fn autobahn_python_authenticates_with_every_method_and_meets_every_permission() {
    // The script's own wrong answers would otherwise use up the address's
    // failures (the brute-force test below checks that limit).
    let router = TestRouter::with_config(RouterConfig { max_auth_failures: 0, ..example() });
    python_checks("auth_peer.py", &router.url, &[], 9).await;
}

#[actix_web::test]
async fn a_brute_force_loop_is_refused_once_the_address_failed_too_often() {
    let router = TestRouter::with_config(RouterConfig { max_auth_failures: 5, ..example() });
    python_checks("auth_peer.py", &router.url, &[("BRUTE_FORCE", "5")], 1).await;
    // Anonymous realms are not affected: nothing there can fail.
    let (mut client, _) = RawClient::join(&router.url, Serializer::Json, "realm1").await;
    client.send(&WampMessage::Goodbye { details: Dict::new(), reason: errors::CLOSE_NORMAL.into() }).await;
}

fn ticket_hello(authid: &str) -> WampMessage {
    let WampMessage::Hello { realm, mut details } = wamp_tests::hello("authrealm") else {
        unreachable!("hello() makes a HELLO")
    };
    details.insert("authmethods".into(), Value::List(vec!["ticket".into()]));
    details.insert("authid".into(), authid.into());
    WampMessage::Hello { realm, details }
}

#[actix_web::test]
async fn a_peer_that_never_answers_its_challenge_is_closed_after_the_hello_timeout() {
    let router = TestRouter::with_config(RouterConfig { hello_timeout_secs: 1, ..example() });
    let mut client = RawClient::connect(&router.url, Serializer::Json).await;
    client.send(&ticket_hello("ticket-user")).await;
    assert!(matches!(client.recv().await, WampMessage::Challenge { .. }));
    let started = std::time::Instant::now();
    client.expect_ended_with(errors::TIMEOUT).await;
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[actix_web::test]
async fn authenticate_out_of_turn_is_a_protocol_violation() {
    let router = TestRouter::with_config(example());
    let mut client = RawClient::connect(&router.url, Serializer::MsgPack).await;
    client.send(&WampMessage::Authenticate { signature: "ticket-secret".into(), extra: Dict::new() }).await;
    client.expect_ended_with(errors::PROTOCOL_VIOLATION).await;
    // After a CHALLENGE, anything but AUTHENTICATE is one too.
    let mut client = RawClient::connect(&router.url, Serializer::MsgPack).await;
    client.send(&ticket_hello("ticket-user")).await;
    assert!(matches!(client.recv().await, WampMessage::Challenge { .. }));
    client.send(&wamp_tests::hello("authrealm")).await;
    client.expect_ended_with(errors::PROTOCOL_VIOLATION).await;
}

#[test]
fn invalid_authentication_settings_are_refused_when_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("router.toml");
    std::fs::write(
        &file,
        "[[realms]]\nname = \"r\"\nauthmethods = [\"ticket\"]\n\
         [[realms.principals]]\nauthid = \"u\"\nmethod = \"ticket\"\nsecret_env = \"WAMP_TEST_NOT_SET_ANYWHERE\"\nrole = \"x\"\n",
    )
    .unwrap();
    let error = RouterConfig::load(Some(&file)).unwrap_err().to_string();
    assert!(error.contains("WAMP_TEST_NOT_SET_ANYWHERE") && error.contains("'u'"), "{error}");
    // A misspelt key in a principal is an error too, not a missing secret.
    std::fs::write(
        &file,
        "[[realms]]\nname = \"r\"\nauthmethods = [\"ticket\"]\n\
         [[realms.principals]]\nauthid = \"u\"\nmethod = \"ticket\"\nsecrte = \"s\"\nrole = \"x\"\n",
    )
    .unwrap();
    let error = RouterConfig::load(Some(&file)).unwrap_err().to_string();
    assert!(error.contains("secrte"), "{error}");
}

fn client_options(router: &TestRouter, serializer: Serializer, credentials: Credentials) -> ConnectOptions {
    ConnectOptions {
        serializer,
        credentials,
        reconnect: ReconnectPolicy::off(),
        ..ConnectOptions::new(&router.url, "authrealm")
    }
}

fn example_key(authid: Option<&str>) -> Credentials {
    let file = workspace_root().join("docs/examples/cs-user.key");
    Credentials::cryptosign_key_file(authid.map(str::to_owned), &file).unwrap()
}

#[actix_web::test]
async fn our_client_authenticates_with_every_method() {
    let router = TestRouter::with_config(RouterConfig { max_auth_failures: 0, ..example() });
    for serializer in Serializer::ALL {
        let cases = [
            (Credentials::ticket("ticket-user", "ticket-secret"), "ticket-user", "ticket"),
            (Credentials::wampcra("cra-user", "cra-secret"), "cra-user", "wampcra"),
            (Credentials::wampcra("cra-salted", "salted-secret"), "cra-salted", "wampcra"),
            (example_key(Some("cs-user")), "cs-user", "cryptosign"),
            (example_key(None), "cs-user", "cryptosign"),
        ];
        for (credentials, authid, method) in cases {
            let label = format!("{credentials:?} over {serializer}");
            let client = Client::connect(client_options(&router, serializer, credentials)).await.unwrap();
            let info = client.joined().await.unwrap();
            assert_eq!((info.authid.as_str(), info.authrole.as_str()), (authid, "full"), "{label}");
            assert_eq!(info.details.get("authmethod").and_then(Value::as_str), Some(method), "{label}");
            // The role's permissions apply: `full` may use the meta API.
            assert!(client.call::<u64>("wamp.session.count", ()).await.unwrap() >= 1, "{label}");
            client.leave().await;
        }
    }
}

#[actix_web::test]
async fn a_refused_client_gets_the_routers_reason_at_once_and_does_not_retry() {
    let router = TestRouter::with_config(RouterConfig { max_auth_failures: 0, ..example() });
    let cases = [
        (Credentials::ticket("ticket-user", "wrong"), errors::AUTHENTICATION_FAILED),
        (Credentials::wampcra("cra-salted", "wrong"), errors::AUTHENTICATION_FAILED),
        (Credentials::Anonymous, errors::NO_AUTH_METHOD),
    ];
    for (credentials, reason) in cases {
        let mut options = client_options(&router, Serializer::Json, credentials);
        // Reconnecting on: an authentication failure must still end it.
        options.reconnect = ReconnectPolicy::default();
        let started = std::time::Instant::now();
        let error = tokio::time::timeout(Duration::from_secs(10), Client::connect(options))
            .await
            .expect("a refusal is not retried")
            .expect_err("refused");
        assert_eq!(error.uri, reason, "{error}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

/// A component that answers one procedure, to run remotely.
#[derive(Default)]
struct Doubler;

#[wamp::component]
impl Doubler {
    #[wamp::procedure("com.auth.double")]
    fn double(&self, x: i64) -> i64 {
        x * 2
    }
}

#[actix_web::test]
async fn a_host_authenticates_its_remote_components_from_its_settings() {
    let router = TestRouter::with_config(example());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wamp.toml");
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "cra-secret\n").unwrap();
    let settings = format!(
        "url = \"{}\"\nrealm = \"authrealm\"\n[auth]\nmethod = \"wampcra\"\nauthid = \"cra-user\"\nsecret_file = \"{}\"\n",
        router.url,
        secret.display()
    );
    std::fs::write(&file, settings).unwrap();
    let config = HostConfig::load(Some(&file)).unwrap();
    let running = wamp::Host::new(config).add_component(Doubler).start().unwrap();
    running.joined().await.unwrap();
    // The component's session is cra-user's, as the meta API shows to a
    // role that may use it.
    let operator = Client::connect(client_options(
        &router,
        Serializer::Json,
        Credentials::ticket("ticket-user", "ticket-secret"),
    ))
    .await
    .unwrap();
    let mut authids = Vec::new();
    for id in operator.call::<Vec<u64>>("wamp.session.list", ()).await.unwrap() {
        let session: Dict = operator.call("wamp.session.get", (id,)).await.unwrap();
        authids.push(session.get("authid").and_then(Value::as_str).unwrap_or_default().to_owned());
    }
    authids.sort();
    assert_eq!(authids, ["cra-user", "ticket-user"]);
    operator.leave().await;
    let caller = Client::connect(client_options(
        &router,
        Serializer::MsgPack,
        Credentials::ticket("ticket-caller", "caller-secret"),
    ))
    .await
    .unwrap();
    assert_eq!(wamp_tests::call_when_registered::<i64>(&caller, "com.auth.double", (21,)).await, 42);
    // The caller role may call, and may not register.
    let denied = caller
        .register("com.auth.mine", Default::default(), |_, _| async { Ok(wamp::client::Arguments::new()) })
        .await
        .unwrap_err();
    assert_eq!(denied.uri, errors::NOT_AUTHORIZED);
    caller.leave().await;
    running.shutdown().await;
}

#[actix_web::test]
async fn embedded_components_join_with_the_role_the_settings_give_them() {
    for (role, allowed) in [(None, true), (Some("full"), true), (Some("caller"), false)] {
        let mut config = HostConfig { realm: "authrealm".into(), router: example(), ..HostConfig::default() };
        config.router.listen = "127.0.0.1:0".into();
        if let Some(role) = role {
            // Lower case, as a WAMP_COMPONENT_ROLES__DOUBLER variable gives it.
            config.component_roles.insert("doubler".into(), role.into());
        }
        assert_eq!(config.role_of("Doubler"), role);
        let running = wamp::Host::new(config).add_component(Doubler).start().unwrap();
        let joined = running.joined().await;
        if allowed {
            joined.unwrap_or_else(|e| panic!("as {role:?}: {e}"));
        } else {
            let error = joined.expect_err("the caller role may not register");
            assert_eq!(error.uri, errors::NOT_AUTHORIZED, "{error}");
        }
        running.shutdown().await;
    }
}

/// The example with a dynamic authenticator for authrealm, registered in
/// realm1.
fn with_authenticator() -> RouterConfig {
    let mut config = RouterConfig { max_auth_failures: 0, ..example() };
    let authrealm = config.realms.iter_mut().find(|r| r.name == "authrealm").unwrap();
    authrealm.authenticator = Some("com.example.authenticate".into());
    authrealm.authenticator_realm = Some("realm1".into());
    config
}

/// A client of realm1 that registered the authenticator
/// ([`register_authenticator`]); it serves while kept.
async fn authenticator_in_realm1(router: &TestRouter) -> Client {
    let authenticator = Client::connect(ConnectOptions {
        reconnect: ReconnectPolicy::off(),
        ..ConnectOptions::new(&router.url, "realm1")
    })
    .await
    .unwrap();
    register_authenticator(&authenticator).await;
    authenticator
}

/// What the authenticator component answers: a role for the ticket of
/// `dyn-user`, a WAMP-CRA secret for `dyn-cra`, a role for any key of
/// `dyn-cs`, and `wamp.error.not_authorized` for anyone else.
async fn register_authenticator(client: &Client) {
    client
        .register("com.example.authenticate", Default::default(), |args, _| async move {
            let (realm, authid, details): (String, Option<String>, Dict) =
                (args.get(0)?, args.get(1)?, args.get(2)?);
            assert_eq!(realm, "authrealm");
            let method = details.get("authmethod").and_then(Value::as_str).unwrap_or_default().to_owned();
            let ticket = details.get("ticket").and_then(Value::as_str).map(str::to_owned);
            match (method.as_str(), authid.as_deref(), ticket.as_deref()) {
                ("ticket", Some("dyn-user"), Some("dyn-secret")) => {
                    wamp::client::Arguments::new().arg("caller")
                }
                ("wampcra", Some("dyn-cra"), _) => wamp::client::Arguments::new().arg(Dict::from([
                    ("secret".to_owned(), Value::from("dyn-cra-secret")),
                    ("role".to_owned(), Value::from("full")),
                ])),
                ("cryptosign", Some("dyn-cs"), _) => {
                    wamp::client::Arguments::new().arg(Dict::from([("role".to_owned(), Value::from("full"))]))
                }
                _ => Err(wamp::Error::new(errors::NOT_AUTHORIZED, "unknown")),
            }
        })
        .await
        .unwrap();
}

#[actix_web::test]
async fn an_authenticator_that_cannot_be_asked_does_not_count_against_the_peers_address() {
    let router = TestRouter::with_config(RouterConfig { max_auth_failures: 2, ..with_authenticator() });
    let dyn_ticket = || Credentials::ticket("dyn-user", "dyn-secret");
    // Nobody registered the authenticator: five refusals, none the peer's
    // doing.
    for _ in 0..5 {
        let error =
            Client::connect(client_options(&router, Serializer::Json, dyn_ticket())).await.unwrap_err();
        assert_eq!(error.uri, errors::AUTHENTICATION_FAILED, "{error}");
        assert!(error.to_string().contains("could not be asked"), "{error}");
    }
    let _authenticator = authenticator_in_realm1(&router).await;
    // The address is not throttled: the right ticket gets in.
    let client = Client::connect(client_options(&router, Serializer::Json, dyn_ticket())).await.unwrap();
    client.leave().await;
    // Its refusals do count: two wrong tickets, and the third try is
    // throttled whatever it carries.
    for _ in 0..2 {
        let wrong = Credentials::ticket("dyn-user", "wrong");
        let error = Client::connect(client_options(&router, Serializer::Json, wrong)).await.unwrap_err();
        assert!(!error.to_string().contains("too many"), "{error}");
    }
    let error = Client::connect(client_options(&router, Serializer::Json, dyn_ticket())).await.unwrap_err();
    assert!(error.to_string().contains("too many failed authentications"), "{error}");
}

#[actix_web::test]
async fn a_dynamic_authenticator_component_vouches_for_users_the_file_does_not_list() {
    let router = TestRouter::with_config(with_authenticator());
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("dyn-cs.key");
    std::fs::write(&key_file, "07".repeat(32)).unwrap();
    let dyn_ticket = || Credentials::ticket("dyn-user", "dyn-secret");
    // Nobody registered the authenticator yet: refused, not hung.
    let error = Client::connect(client_options(&router, Serializer::Json, dyn_ticket())).await.unwrap_err();
    assert_eq!(error.uri, errors::AUTHENTICATION_FAILED, "{error}");

    let authenticator = authenticator_in_realm1(&router).await;
    for serializer in Serializer::ALL {
        let cases = [
            (dyn_ticket(), "dyn-user", "caller", "ticket"),
            (Credentials::wampcra("dyn-cra", "dyn-cra-secret"), "dyn-cra", "full", "wampcra"),
            (
                Credentials::cryptosign_key_file(Some("dyn-cs".into()), &key_file).unwrap(),
                "dyn-cs",
                "full",
                "cryptosign",
            ),
            // Principals of the file are still checked there.
            (Credentials::ticket("ticket-user", "ticket-secret"), "ticket-user", "full", "ticket"),
        ];
        for (credentials, authid, role, method) in cases {
            let label = format!("{credentials:?} over {serializer}");
            let client = Client::connect(client_options(&router, serializer, credentials))
                .await
                .unwrap_or_else(|e| panic!("{label}: {e}"));
            let info = client.joined().await.unwrap();
            assert_eq!((info.authid.as_str(), info.authrole.as_str()), (authid, role), "{label}");
            assert_eq!(info.details.get("authmethod").and_then(Value::as_str), Some(method), "{label}");
            let provider = if authid.starts_with("dyn-") { "dynamic" } else { "static" };
            assert_eq!(info.details.get("authprovider").and_then(Value::as_str), Some(provider), "{label}");
            client.leave().await;
        }
        let refused = [
            Credentials::ticket("dyn-user", "wrong"),
            Credentials::ticket("stranger", "dyn-secret"),
            Credentials::wampcra("dyn-cra", "wrong"),
            Credentials::wampcra("stranger", "dyn-cra-secret"),
        ];
        for credentials in refused {
            let label = format!("{credentials:?} over {serializer}");
            let error = Client::connect(client_options(&router, serializer, credentials)).await.unwrap_err();
            assert_eq!(error.uri, errors::AUTHENTICATION_FAILED, "{label}: {error}");
        }
    }
    authenticator.leave().await;
}

#[actix_web::test]
async fn a_dynamic_authorizer_component_decides_and_its_answers_are_cached() {
    let mut config = RouterConfig { max_auth_failures: 0, ..example() };
    let authrealm = config.realms.iter_mut().find(|r| r.name == "authrealm").unwrap();
    authrealm.authorizer = Some("com.example.authorize".into());
    authrealm.authorizer_realm = Some("realm1".into());
    let router = TestRouter::with_config(config);

    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String, String)>::new()));
    let authorizer = Client::connect(ConnectOptions {
        reconnect: ReconnectPolicy::off(),
        ..ConnectOptions::new(&router.url, "realm1")
    })
    .await
    .unwrap();
    let log = asked.clone();
    authorizer
        .register("com.example.authorize", Default::default(), move |args, _| {
            let log = log.clone();
            async move {
                let (session, uri, action): (Dict, String, String) =
                    (args.get(0)?, args.get(1)?, args.get(2)?);
                let authid = session.get("authid").and_then(Value::as_str).unwrap_or_default().to_owned();
                log.lock().unwrap().push((authid, action.clone(), uri.clone()));
                if uri == "com.slow.one" && action == "call" {
                    tokio::time::sleep(SLOW_ANSWER).await;
                }
                let answer = if uri.starts_with("com.secret.") {
                    Value::Bool(false)
                } else if uri.starts_with("com.nocache.") {
                    Value::Dict(Dict::from([
                        ("allow".to_owned(), Value::Bool(true)),
                        ("cache".to_owned(), Value::Bool(false)),
                    ]))
                } else {
                    Value::Bool(true)
                };
                wamp::client::Arguments::new().arg(answer)
            }
        })
        .await
        .unwrap();

    let user = Client::connect(client_options(
        &router,
        Serializer::MsgPack,
        Credentials::ticket("ticket-user", "ticket-secret"),
    ))
    .await
    .unwrap();
    let echo = |_, _| async { wamp::client::Arguments::new().arg(1) };
    user.register("com.auth.one", Default::default(), echo).await.unwrap();
    user.register("com.nocache.one", Default::default(), echo).await.unwrap();
    let denied = user.register("com.secret.one", Default::default(), echo).await.unwrap_err();
    assert_eq!(denied.uri, errors::NOT_AUTHORIZED);
    assert!(denied.message().unwrap_or_default().contains("com.secret.one"), "{denied}");
    for _ in 0..3 {
        assert_eq!(user.call::<i64>("com.auth.one", ()).await.unwrap(), 1);
        assert_eq!(user.call::<i64>("com.nocache.one", ()).await.unwrap(), 1);
    }
    let asked = asked.lock().unwrap().clone();
    let count = |action: &str, uri: &str| asked.iter().filter(|(_, a, u)| a == action && u == uri).count();
    assert_eq!(count("call", "com.auth.one"), 1, "cached after the first call: {asked:?}");
    assert_eq!(count("call", "com.nocache.one"), 3, "asked every time when it says so: {asked:?}");
    assert_eq!(count("register", "com.secret.one"), 1);
    assert!(asked.iter().all(|(authid, _, _)| authid == "ticket-user"), "{asked:?}");

    // While the authorizer thinks about one of its calls, the session
    // still receives what is sent to it.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    user.subscribe("com.auth.events", Default::default(), move |_, _| {
        if let Some(tx) = tx.lock().unwrap().take() {
            let _ = tx.send(std::time::Instant::now());
        }
        async {}
    })
    .await
    .unwrap();
    user.register("com.slow.one", Default::default(), echo).await.unwrap();
    let publisher = Client::connect(client_options(
        &router,
        Serializer::Json,
        Credentials::ticket("ticket-user", "ticket-secret"),
    ))
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let slow_call = user.call::<i64>("com.slow.one", ());
    let event = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        publisher.publish("com.auth.events", (1,)).await.unwrap();
        rx.await.unwrap()
    };
    let (answer, event_at) = futures_util::future::join(slow_call, event).await;
    assert_eq!(answer.unwrap(), 1);
    let answered_after = started.elapsed();
    assert!(answered_after >= SLOW_ANSWER, "the call waited for the authorizer: {answered_after:?}");
    assert!(
        event_at.duration_since(started) < SLOW_ANSWER,
        "the event arrived while the authorizer was still thinking ({:?} after the call)",
        event_at.duration_since(started)
    );
    publisher.leave().await;
    user.leave().await;
    authorizer.leave().await;
}

#[actix_web::test]
async fn a_session_that_reads_none_of_its_refusals_is_read_no_more_and_closed_after_the_stall_timeout() {
    let mut config = RouterConfig { max_auth_failures: 0, stall_timeout_ms: 1_000, ..example() };
    let authrealm = config.realms.iter_mut().find(|r| r.name == "authrealm").unwrap();
    authrealm.authorizer = Some("com.example.authorize".into());
    authrealm.authorizer_realm = Some("realm1".into());
    let router = TestRouter::with_config(config);
    let authorizer = Client::connect(ConnectOptions {
        reconnect: ReconnectPolicy::off(),
        ..ConnectOptions::new(&router.url, "realm1")
    })
    .await
    .unwrap();
    authorizer
        .register("com.example.authorize", Default::default(), |_, _| async {
            wamp::client::Arguments::new().arg(false)
        })
        .await
        .unwrap();
    let mut refused = RawClient::connect(&router.url, Serializer::Json).await;
    refused.send(&ticket_hello("ticket-user")).await;
    assert!(matches!(refused.recv().await, WampMessage::Challenge { .. }));
    refused.send(&WampMessage::Authenticate { signature: "ticket-secret".into(), extra: Dict::new() }).await;
    assert!(matches!(refused.recv().await, WampMessage::Welcome { .. }));
    // Each CALL is refused by the connection itself (the authorizer's
    // answer is cached), with an ERROR the peer never reads. Once the
    // socket buffers are full, the connection keeps a bounded number of
    // refusals and stops reading; without that bound it would read every
    // CALL and hold every refusal.
    let mut sent = 0u64;
    let mut stopped = false;
    while sent < 2_000_000 {
        let call = WampMessage::Call {
            request: sent + 1,
            options: Dict::new(),
            procedure: "com.secret.thing".into(),
            payload: Default::default(),
        };
        if !refused.try_send(&call, Duration::from_secs(2)).await {
            stopped = true;
            break;
        }
        sent += 1;
    }
    assert!(stopped, "the router read all {sent} calls and queued their refusals");
    // Left unread for the stall timeout, the connection is closed; the
    // authorizer's session is not touched.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while router.router().connection_count() > 1 {
        assert!(std::time::Instant::now() < deadline, "the refused session is still open");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!authorizer.has_ended(), "the other session is still there");
    assert!(!authorizer.call::<bool>("com.example.authorize", ()).await.unwrap(), "and works");
    authorizer.leave().await;
}

/// How long the test authorizer thinks about one call.
const SLOW_ANSWER: Duration = Duration::from_millis(1500);

/// A dynamic authenticator written as a component: it knows one ticket.
#[derive(Default)]
struct Gatekeeper;

#[wamp::component(inventory = false)]
impl Gatekeeper {
    #[wamp::procedure("com.example.authenticate")]
    fn authenticate(
        &self,
        realm: String,
        authid: Option<String>,
        details: Dict,
    ) -> Result<String, wamp::Error> {
        let ticket = details.get("ticket").and_then(Value::as_str);
        match (realm.as_str(), authid.as_deref(), ticket) {
            ("authrealm", Some("dyn-user"), Some("dyn-secret")) => Ok("caller".into()),
            _ => Err(wamp::Error::new(errors::NOT_AUTHORIZED, "unknown user")),
        }
    }
}

#[actix_web::test]
async fn an_embedded_component_can_be_the_dynamic_authenticator() {
    let mut config = HostConfig { router: with_authenticator(), ..HostConfig::default() };
    config.router.listen = "127.0.0.1:0".into();
    let running = wamp::Host::new(config).add_component(Gatekeeper).start().unwrap();
    let url = wamp_tests::serve(&running).await;
    let options = |credentials| ConnectOptions {
        credentials,
        reconnect: ReconnectPolicy::off(),
        ..ConnectOptions::new(&url, "authrealm")
    };
    let client = Client::connect(options(Credentials::ticket("dyn-user", "dyn-secret"))).await.unwrap();
    let info = client.joined().await.unwrap();
    assert_eq!((info.authid.as_str(), info.authrole.as_str()), ("dyn-user", "caller"));
    client.leave().await;
    let error = Client::connect(options(Credentials::ticket("dyn-user", "guess"))).await.unwrap_err();
    assert_eq!(error.uri, errors::AUTHENTICATION_FAILED);
    running.shutdown().await;
}
