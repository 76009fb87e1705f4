//! The macro options for match policy, invoke policy and caller disclosure
//! take effect against our router: a prefix procedure (two components
//! share it, the first answers) learns the concrete procedure and its
//! caller, a round-robin procedure is answered by both components in
//! turn, and a wildcard subscription hears the concrete topic. Our client
//! announces what it supports in HELLO.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wamp::client::{Client, ConnectOptions, PublishOptions, ReconnectPolicy};
use wamp::component::HostConfig;
use wamp::prelude::*;
use wamp::protocol::{Payload, Value};

struct Directory {
    name: &'static str,
    heard: Arc<Mutex<Vec<(String, String)>>>,
}

#[wamp::component(prefix = "com.test.dir", inventory = false)]
impl Directory {
    #[wamp::procedure("item.", match = "prefix", invoke = "first", disclose_caller = true)]
    fn item(&self, details: CallDetails) -> (Option<String>, Option<u64>) {
        (details.procedure, details.caller)
    }

    #[wamp::procedure("who", invoke = "roundrobin")]
    fn who(&self) -> String {
        self.name.to_owned()
    }

    #[wamp::subscribe("news..headline", match = "wildcard")]
    fn on_headline(&self, text: String, details: EventDetails) {
        if self.name == "one" {
            self.heard.lock().unwrap().push((details.topic.unwrap_or_default(), text));
        }
    }
}

#[actix_web::test]
async fn match_invoke_and_disclosure_options_take_effect_on_our_router() {
    let mut config = HostConfig::default();
    config.router.listen = "127.0.0.1:0".into();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let running = wamp::Host::new(config)
        .add_component(Directory { name: "one", heard: heard.clone() })
        .add_component(Directory { name: "two", heard: heard.clone() })
        .start()
        .unwrap();
    let server = running.bind().expect("embedded").unwrap();
    let url = server.url();
    actix_web::rt::spawn(server.run());
    running.joined().await.unwrap();
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(&url, "realm1") };
    let peer = Client::connect(options).await.unwrap();
    let me = peer.joined().await.unwrap().id;

    let (procedure, caller): (Option<String>, Option<u64>) =
        wamp_tests::call_when_registered(&peer, "com.test.dir.item.42", ()).await;
    assert_eq!(procedure.as_deref(), Some("com.test.dir.item.42"));
    assert_eq!(caller, Some(me), "the registration asked to learn its callers");

    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(wamp_tests::call_when_registered::<String>(&peer, "com.test.dir.who", ()).await);
    }
    answers.sort();
    assert_eq!(answers, ["one", "one", "two", "two"], "both components answer in turn");

    let ack = PublishOptions { acknowledge: true, ..PublishOptions::default() };
    for topic in
        ["com.test.dir.news.sport.headline", "com.test.dir.news.headline", "com.test.dir.news.tech.headline"]
    {
        peer.publish_with(topic, Payload::args(vec![Value::from(topic)]), ack.clone()).await.unwrap();
    }
    for _ in 0..100 {
        if heard.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let heard = heard.lock().unwrap().clone();
    assert_eq!(
        heard,
        [
            ("com.test.dir.news.sport.headline".to_owned(), "com.test.dir.news.sport.headline".to_owned()),
            ("com.test.dir.news.tech.headline".to_owned(), "com.test.dir.news.tech.headline".to_owned()),
        ]
    );
    peer.leave().await;
    running.shutdown().await;
}
