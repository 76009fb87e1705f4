//! The service as a user runs it: REST routes and the WAMP endpoint on one
//! port; a REST request publishes an event a WAMP subscriber receives, and
//! another answers with what a procedure returned.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use wamp::client::{Client, ConnectOptions, SubscribeOptions};
use wamp_tests::{app_command, http_request, Process};

/// Starts the service on a free port; returns it with its `host:port`.
async fn start() -> (Process, String) {
    let mut service = Process::start(&mut app_command(env!("CARGO_BIN_EXE_embed-actix-web")));
    service.wait_for(&["url=", "component ready", "component ready"]).await;
    let addr = service.url().trim_start_matches("http://").trim_end_matches('/').to_owned();
    (service, addr)
}

#[actix_web::test]
async fn rest_requests_publish_and_call_over_wamp() {
    let (_service, addr) = start().await;
    let health = http_request(&addr, "GET", "/health", None).await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));

    // A WAMP peer on the same port as the REST routes.
    let peer = Client::connect(ConnectOptions::new(format!("ws://{addr}/ws"), "realm1")).await.unwrap();
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    peer.subscribe("com.example.notes.created", SubscribeOptions::default(), move |event, _| {
        let _ = events.send(event.get::<String>(0));
        async {}
    })
    .await
    .unwrap();

    let created = http_request(&addr, "POST", "/api/notes", Some(r#"{"text":"from REST"}"#)).await;
    assert_eq!(created.status, 202, "{}", created.body);
    let event =
        tokio::time::timeout(Duration::from_secs(10), received.recv()).await.expect("the event arrives");
    assert_eq!(event.unwrap().unwrap(), "from REST");

    // An event from a WAMP peer reaches the component too; the REST route
    // answers with what its procedure returns.
    peer.publish("com.example.notes.created", ("from WAMP",)).await.unwrap();
    let mut listed = String::new();
    for _ in 0..100 {
        let response = http_request(&addr, "GET", "/api/notes", None).await;
        assert_eq!(response.status, 200, "{}", response.body);
        listed = response.body;
        if listed.contains("from WAMP") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(listed, r#"["from REST","from WAMP"]"#);

    let malformed = http_request(&addr, "POST", "/api/notes", Some(r#"{"txt":1}"#)).await;
    assert_eq!(malformed.status, 400, "{}", malformed.body);
    peer.leave().await;
}
