//! Our client against the reference router, Crossbar.io (pinned, from
//! `tests/peers/install.sh`): calls with args and kwargs, errors,
//! publish and subscribe, for each serializer, reconnect after
//! Crossbar restarts, and authentication with ticket, WAMP-CRA (plain and
//! salted) and cryptosign.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use wamp::client::{
    Arguments, CallOptions, Client, ConnectOptions, Credentials, PublishOptions, ReconnectPolicy,
    RegisterOptions, SubscribeOptions,
};
use wamp::protocol::{errors, Dict, Payload, Serializer, Value};
use wamp::Error;
use wamp_tests::crossbar::CrossbarRouter;

/// Runs `f` on a thread of its own: the harness drives its own runtime,
/// which cannot run inside the test's.
fn blocking<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| s.spawn(f).join().expect("harness thread"))
}

#[test]
fn calls_errors_and_events_through_crossbar() {
    let crossbar = CrossbarRouter::start();
    actix_web::rt::System::new().block_on(async {
        for serializer in Serializer::ALL {
            let options = ConnectOptions {
                serializer,
                reconnect: ReconnectPolicy::off(),
                ..ConnectOptions::new(&crossbar.url, &crossbar.realm)
            };
            let callee = Client::connect(options.clone()).await.unwrap();
            let caller = Client::connect(options).await.unwrap();
            callee
                .register("com.test.scale", RegisterOptions::default(), |args, _| async move {
                    let x: f64 = args.get(0)?;
                    let factor: f64 = args.get_kw::<Option<f64>>("factor")?.unwrap_or(1.0);
                    Arguments::new().arg(x * factor)?.kwarg("unit", "cm")
                })
                .await
                .unwrap();
            callee
                .register("com.test.fail", RegisterOptions::default(), |_, _| async {
                    Err(Error::with_payload(
                        "com.test.oops",
                        vec![Value::from("bad"), Value::from(7)],
                        Dict::from([("why".to_owned(), Value::from("because"))]),
                    ))
                })
                .await
                .unwrap();
            let kwargs = Dict::from([("factor".to_owned(), Value::from(2.5))]);
            let result = caller
                .call_with(
                    "com.test.scale",
                    Payload::new(vec![Value::from(4)], kwargs),
                    CallOptions::default(),
                )
                .await
                .unwrap();
            assert_eq!(result.get::<f64>(0).unwrap(), 10.0, "{serializer}");
            assert_eq!(result.get_kw::<String>("unit").unwrap(), "cm");

            let err = caller.call::<()>("com.test.fail", ()).await.unwrap_err();
            assert_eq!(err.uri, "com.test.oops");
            assert_eq!(err.args, vec![Value::from("bad"), Value::from(7)]);
            assert_eq!(err.kwargs.get("why"), Some(&Value::from("because")));
            let err = caller.call::<()>("com.test.nothing", ()).await.unwrap_err();
            assert_eq!(err.uri, errors::NO_SUCH_PROCEDURE);

            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            callee
                .subscribe("com.test.topic", SubscribeOptions::default(), move |args, _| {
                    let _ = tx.send(args.get::<String>(0).unwrap_or_default());
                    async {}
                })
                .await
                .unwrap();
            let ack = PublishOptions { acknowledge: true, ..PublishOptions::default() };
            caller.publish_with("com.test.topic", Payload::args(vec![Value::from("hi")]), ack).await.unwrap();
            let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap();
            assert_eq!(got.as_deref(), Some("hi"));
            callee.leave().await;
            caller.leave().await;
        }
    });
}

#[test]
fn reconnect_after_crossbar_restarts_restores_everything() {
    let mut crossbar = CrossbarRouter::start();
    let url = crossbar.url.clone();
    let realm = crossbar.realm.clone();
    let system = actix_web::rt::System::new();
    let fast = ReconnectPolicy { initial_delay_ms: 100, max_delay_ms: 500, ..ReconnectPolicy::default() };
    let callee = system.block_on(async {
        let options = ConnectOptions { reconnect: fast, ..ConnectOptions::new(&url, &realm) };
        let callee = Client::connect(options).await.unwrap();
        callee
            .register("com.test.add2", RegisterOptions::default(), |args, _| async move {
                Arguments::new().arg(args.get::<i64>(0)? + args.get::<i64>(1)?)
            })
            .await
            .unwrap();
        callee
    });
    blocking(|| crossbar.restart());
    system.block_on(async {
        let options = ConnectOptions {
            serializer: Serializer::Json,
            reconnect: ReconnectPolicy::off(),
            ..ConnectOptions::new(&url, &realm)
        };
        let caller = Client::connect(options).await.unwrap();
        let sum: i64 = wamp_tests::call_when_registered(&caller, "com.test.add2", (40, 2)).await;
        assert_eq!(sum, 42, "the registration was restored on the restarted Crossbar");
        callee.leave().await;
        caller.leave().await;
    });
}

#[test]
fn our_client_authenticates_to_crossbar_with_ticket_wampcra_and_cryptosign() {
    let crossbar = CrossbarRouter::start();
    actix_web::rt::System::new().block_on(async {
        let key = wamp_tests::workspace_root().join("docs/examples/cs-user.key");
        for serializer in Serializer::ALL {
            let cases = [
                (Credentials::ticket("ticket-user", "ticket-secret"), "ticket-user", "ticket"),
                (Credentials::wampcra("cra-user", "cra-secret"), "cra-user", "wampcra"),
                (Credentials::wampcra("cra-salted", "salted-secret"), "cra-salted", "wampcra"),
                (
                    Credentials::cryptosign_key_file(Some("cs-user".into()), &key).unwrap(),
                    "cs-user",
                    "cryptosign",
                ),
            ];
            for (credentials, authid, method) in cases {
                let label = format!("{credentials:?} over {serializer}");
                let options = ConnectOptions {
                    serializer,
                    credentials,
                    reconnect: ReconnectPolicy::off(),
                    ..ConnectOptions::new(&crossbar.url, &crossbar.realm)
                };
                let client = Client::connect(options).await.unwrap_or_else(|e| panic!("{label}: {e}"));
                let info = client.joined().await.unwrap();
                assert_eq!(info.authid, authid, "{label}");
                assert_eq!(info.details.get("authmethod").and_then(Value::as_str), Some(method), "{label}");
                client.leave().await;
            }
            // A wrong secret ends the attempt with Crossbar's reason, at once,
            // although reconnecting is on.
            let options = ConnectOptions {
                serializer,
                credentials: Credentials::wampcra("cra-user", "wrong"),
                ..ConnectOptions::new(&crossbar.url, &crossbar.realm)
            };
            let error = tokio::time::timeout(Duration::from_secs(10), Client::connect(options))
                .await
                .expect("not retried")
                .expect_err("refused");
            // Crossbar says not_authorized where ours says authentication_failed.
            assert_eq!(error.uri, errors::NOT_AUTHORIZED, "{error}");
        }
    });
}
