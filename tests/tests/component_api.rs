//! The component API over the wire: a struct filled from keyword
//! arguments, parameters with wire names of their own, results with
//! keyword arguments, called with plain values, from a component running
//! embedded and remote.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use serde::{Deserialize, Serialize};
use wamp::client::{Client, ConnectOptions, ReconnectPolicy};
use wamp::component::HostConfig;
use wamp::prelude::*;
use wamp::protocol::errors;
use wamp_tests::TestRouter;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Filter {
    min_price: u32,
    #[serde(default)]
    category: Option<String>,
}

#[derive(Default)]
struct Shop;

#[wamp::component(prefix = "com.test.shop", inventory = false)]
impl Shop {
    #[wamp::procedure("find")]
    fn find(&self, query: String, #[wamp(kwargs)] filter: Filter) -> Result<Arguments, Error> {
        Arguments::new().arg(query)?.kwarg("min_price", filter.min_price)?.kwarg("category", filter.category)
    }

    #[wamp::procedure("route")]
    fn route(
        &self,
        #[wamp(name = "from")] origin: String,
        #[wamp(name = "to")] destination: String,
    ) -> String {
        format!("{origin}->{destination}")
    }
}

#[derive(Clone, Serialize)]
struct Route<'a> {
    from: &'a str,
    to: &'a str,
}

async fn check(url: &str) {
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, "realm1") };
    let caller = Client::connect(options).await.unwrap();
    let route: String = wamp_tests::call_when_registered(
        &caller,
        "com.test.shop.route",
        Route { from: "Berlin", to: "Paris" },
    )
    .await;
    assert_eq!(route, "Berlin->Paris");

    let asked = Arguments::new()
        .arg("lamp")
        .unwrap()
        .kwarg("min_price", 10)
        .unwrap()
        .kwarg("category", "light")
        .unwrap();
    let found = caller.call_with("com.test.shop.find", asked, Default::default()).await.unwrap();
    assert_eq!(found.get::<String>(0).unwrap(), "lamp");
    assert_eq!(found.get_kw::<u32>("min_price").unwrap(), 10);
    assert_eq!(found.get_kw::<Option<String>>("category").unwrap().as_deref(), Some("light"));

    // The query by name; the filter's optional field absent.
    #[derive(Serialize)]
    struct Query {
        query: &'static str,
        min_price: u32,
    }
    let found = caller
        .call_with("com.test.shop.find", Query { query: "desk", min_price: 5 }, Default::default())
        .await
        .unwrap();
    assert_eq!(
        (found.get::<String>(0).unwrap(), found.get_kw::<Option<String>>("category").unwrap()),
        ("desk".into(), None)
    );

    let missing = caller.call_with("com.test.shop.find", ("lamp",), Default::default()).await.unwrap_err();
    assert_eq!(missing.uri, errors::INVALID_ARGUMENT);
    assert!(missing.to_string().contains("min_price"), "{missing}");
    caller.leave().await;
}

#[actix_web::test]
async fn embedded() {
    let mut config = HostConfig::default();
    config.router.listen = "127.0.0.1:0".into();
    let running = wamp::Host::new(config).add_component(Shop).start().unwrap();
    let server = running.bind().expect("embedded").unwrap();
    let url = server.url();
    actix_web::rt::spawn(server.run());
    running.joined().await.unwrap();
    check(&url).await;
    running.shutdown().await;
}

#[actix_web::test]
async fn remote() {
    let router = TestRouter::start();
    let config = HostConfig { url: Some(router.url.clone()), ..HostConfig::default() };
    let running = wamp::Host::new(config).add_component(Shop).start().unwrap();
    running.joined().await.unwrap();
    check(&router.url).await;
    running.shutdown().await;
}
