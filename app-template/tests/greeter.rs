//! The greeter running as in production (embedded beside its own router),
//! called over WebSocket by a client, as any WAMP peer would.

use std::time::Duration;

use wamp::client::{Client, ConnectOptions};
use wamp::component::{HostConfig, RunningHost};
use {{crate_name}}::{GreeterClient, GreeterError};

/// The app's components on an embedded router at a free port, and a client of it.
async fn start() -> (RunningHost, GreeterClient<Client>) {
    let mut config = HostConfig::default();
    config.router.listen = "127.0.0.1:0".into();
    let running = {{crate_name}}::add_components(wamp::Host::new(config)).start().unwrap();
    let server = running.bind().expect("an embedded router").unwrap();
    let url = server.url();
    actix_web::rt::spawn(server.run());
    running.joined().await.unwrap();
    let client = Client::connect(ConnectOptions::new(url, "realm1")).await.unwrap();
    (running, GreeterClient::new(client))
}

#[actix_web::test]
async fn greets_by_name_and_refuses_an_empty_name() {
    let (running, greeter) = start().await;
    assert_eq!(greeter.greet("Ada".into()).await.unwrap(), "Hello, Ada!");
    let refused = greeter.greet(" ".into()).await.unwrap_err();
    assert_eq!(refused.decode::<GreeterError>(), Some(GreeterError::NoName));
    running.shutdown().await;
}

#[actix_web::test]
async fn remembers_the_notes_published_to_it() {
    let (running, greeter) = start().await;
    greeter.publish_note("first".into()).await.unwrap();
    greeter.publish_note("second".into()).await.unwrap();
    // Events are delivered after the publish returns: ask until both are in.
    let mut notes = Vec::new();
    for _ in 0..100 {
        notes = greeter.notes().await.unwrap();
        if notes.len() == 2 {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(notes, ["first", "second"]);
    running.shutdown().await;
}
