//! The macro options for match policy, invoke policy and caller disclosure
//! take effect against our router: a prefix procedure (two components
//! share it, the first answers) learns the concrete procedure and its
//! caller, a round-robin procedure is answered by both components in
//! turn, and a wildcard subscription hears the concrete topic. Our client
//! announces what it supports in HELLO.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wamp::client::{Client, ConnectOptions, PublishOptions, ReconnectPolicy, SubscribeOptions};
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
    let config = wamp_tests::embedded();
    let heard = Arc::new(Mutex::new(Vec::new()));
    let running = wamp::Host::new(config)
        .add_component(Directory { name: "one", heard: heard.clone() })
        .add_component(Directory { name: "two", heard: heard.clone() })
        .start()
        .unwrap();
    let url = wamp_tests::serve(&running).await;
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

/// A client of `url`'s realm1 that does not reconnect, once joined.
async fn joined_client(url: &str) -> Client {
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, "realm1") };
    Client::connect(options).await.unwrap()
}

type Heard = Arc<Mutex<Vec<(String, Option<u64>)>>>;

/// Subscribes `client` to `topic`, recording each event's first argument
/// and disclosed publisher.
async fn listen(client: &Client, topic: &'static str, options: SubscribeOptions) -> Heard {
    let heard = Heard::default();
    let sink = heard.clone();
    client
        .subscribe(topic, options, move |args, details| {
            sink.lock().unwrap().push((args.get::<String>(0).unwrap_or_default(), details.publisher));
            async {}
        })
        .await
        .unwrap();
    heard
}

async fn settle(heard: &[&Heard], total: usize) {
    for _ in 0..200 {
        if heard.iter().map(|h| h.lock().unwrap().len()).sum::<usize>() >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Anything that should not arrive would have by the time a further
    // acknowledged publication is through.
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[actix_web::test]
async fn publish_and_subscribe_options_of_our_client_take_effect() {
    let router = wamp_tests::TestRouter::start();
    let connect = || joined_client(&router.url);
    let (publisher, one, two) = (connect().await, connect().await, connect().await);
    let (me, first) = (publisher.joined().await.unwrap().id, one.joined().await.unwrap().id);
    let topic = "com.test.options.news";
    let (heard_one, heard_two) = (
        listen(&one, topic, SubscribeOptions::default()).await,
        listen(&two, topic, SubscribeOptions::default()).await,
    );
    let publish_to = |topic: &'static str, text: &'static str, options: PublishOptions| {
        let publisher = publisher.clone();
        async move {
            let options = PublishOptions { acknowledge: true, ..options };
            publisher.publish_with(topic, Payload::args(vec![Value::from(text)]), options).await.unwrap();
        }
    };
    let publish = |text, options| publish_to(topic, text, options);
    publish("for one", PublishOptions { eligible: Some(vec![first]), ..Default::default() }).await;
    publish("not for one", PublishOptions { exclude: vec![first], ..Default::default() }).await;
    publish(
        "from me",
        PublishOptions { disclose_me: true, eligible: Some(vec![first]), ..Default::default() },
    )
    .await;
    // Retained on a topic nobody subscribes to yet.
    let kept = "com.test.options.kept";
    publish_to(kept, "kept", PublishOptions { retain: true, ..Default::default() }).await;
    settle(&[&heard_one, &heard_two], 3).await;
    assert_eq!(
        *heard_one.lock().unwrap(),
        [("for one".to_owned(), None), ("from me".to_owned(), Some(me))],
        "the whitelist, the blacklist and disclosure"
    );
    assert_eq!(*heard_two.lock().unwrap(), [("not for one".to_owned(), None)]);

    // A later subscriber asks for the retained event.
    let late = connect().await;
    let retained = listen(&late, kept, SubscribeOptions { get_retained: true, ..Default::default() }).await;
    settle(&[&retained], 1).await;
    assert_eq!(*retained.lock().unwrap(), [("kept".to_owned(), None)]);
    for client in [publisher, one, two, late] {
        client.leave().await;
    }
}

#[actix_web::test]
async fn our_client_uses_the_meta_apis_and_testaments_as_ordinary_calls_and_events() {
    let router = wamp_tests::TestRouter::start();
    let connect = || joined_client(&router.url);
    let watcher = connect().await;
    let joined = Arc::new(Mutex::new(Vec::new()));
    let sink = joined.clone();
    watcher
        .subscribe("wamp.session.on_join", SubscribeOptions::default(), move |args, _| {
            sink.lock().unwrap().push(args.get::<std::collections::BTreeMap<String, Value>>(0).unwrap());
            async {}
        })
        .await
        .unwrap();
    let gone = listen(&watcher, "com.test.meta.gone", SubscribeOptions::default()).await;

    let late = connect().await;
    let id = late.joined().await.unwrap().id;
    assert_eq!(watcher.call::<u64>("wamp.session.count", ()).await.unwrap(), 2);
    let info: std::collections::BTreeMap<String, Value> =
        watcher.call("wamp.session.get", (id,)).await.unwrap();
    assert_eq!(info.get("session").and_then(Value::as_u64), Some(id));
    let named =
        || joined.lock().unwrap().iter().any(|d| d.get("session").and_then(Value::as_u64) == Some(id));
    for _ in 0..200 {
        if named() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(named(), "on_join named the late session: {:?}", joined.lock().unwrap());

    // The subscription meta API finds the watcher's subscription.
    let found: Option<u64> = watcher.call("wamp.subscription.lookup", ("com.test.meta.gone",)).await.unwrap();
    let found = found.expect("the subscription exists");
    assert_eq!(watcher.call::<u64>("wamp.subscription.count_subscribers", (found,)).await.unwrap(), 1);

    let no_kwargs = std::collections::BTreeMap::<String, Value>::new();
    late.call::<()>("wamp.session.add_testament", ("com.test.meta.gone", ("bye",), no_kwargs)).await.unwrap();
    late.leave().await;
    settle(&[&gone], 1).await;
    assert_eq!(*gone.lock().unwrap(), [("bye".to_owned(), None)], "the testament was published");
    watcher.leave().await;
}
