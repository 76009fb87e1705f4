//! The component API over the wire: application data, a struct filled from keyword
//! arguments, parameters with wire names of their own, results with
//! keyword arguments (built as `Arguments`, or a struct as `Kwargs<T>`),
//! called with plain values, from a component running embedded and
//! remote.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use serde::{Deserialize, Serialize};
use wamp::client::{Client, ConnectOptions, ReconnectPolicy};
use wamp::component::HostConfig;
use wamp::config::RealmConfig;
use wamp::prelude::*;
use wamp::protocol::errors;
use wamp::Data;
use wamp::RouterConfig;
use wamp_tests::{Mode, TestHost};

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

    /// The filter back, as keyword arguments (a `Kwargs<T>` parameter
    /// takes the keyword arguments as `#[wamp(kwargs)]` does).
    #[wamp::procedure("filter")]
    fn filter(&self, filter: Kwargs<Filter>) -> Result<Kwargs<Filter>, Error> {
        Ok(filter)
    }

    /// A `Kwargs` of a value that is not a map: the caller gets the error.
    #[wamp::procedure("count")]
    fn count(&self) -> Kwargs<u32> {
        Kwargs(3)
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

    // A result of keyword arguments, read back as the struct.
    let asked = Filter { min_price: 7, category: Some("desk".into()) };
    let filter = caller.call_with("com.test.shop.filter", &asked, Default::default()).await.unwrap();
    assert!(filter.args.is_empty(), "{filter:?}");
    assert_eq!(filter.get_kw::<u32>("min_price").unwrap(), 7);
    let Kwargs(read): Kwargs<Filter> = caller.call("com.test.shop.filter", &asked).await.unwrap();
    assert_eq!(read, asked);
    let plain: Filter = caller.call("com.test.shop.filter", &asked).await.unwrap();
    assert_eq!(plain, asked, "keyword arguments alone read as the struct itself too");
    let not_a_map = caller.call::<u32>("com.test.shop.count", ()).await.unwrap_err();
    assert!(not_a_map.to_string().contains("must serialize to a map"), "{not_a_map}");

    let missing = caller.call_with("com.test.shop.find", ("lamp",), Default::default()).await.unwrap_err();
    assert_eq!(missing.uri, errors::INVALID_ARGUMENT);
    assert!(missing.to_string().contains("min_price"), "{missing}");
    caller.leave().await;
}

wamp_tests::embedded_and_remote!(run);

async fn run(mode: Mode) {
    let host = TestHost::start(mode, |config| wamp::Host::new(config).add_component(Shop)).await;
    check(&host.url).await;
    host.shutdown().await;
}

/// What two components share through the host: the number of calls made.
#[derive(Default)]
struct Hits(std::sync::atomic::AtomicU64);

/// The settings the application gives its components.
struct Greeting(String);

#[derive(Default)]
struct Greeter;

#[wamp::component(prefix = "com.test.data", inventory = false)]
impl Greeter {
    #[wamp::procedure("greet")]
    fn greet(&self, name: String, greeting: Data<Greeting>, hits: Data<Hits>) -> String {
        hits.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{} {name}", greeting.0)
    }

    #[wamp::procedure("shout", blocking = true)]
    fn shout(&self, name: String, greeting: Data<Greeting>, hits: Data<Hits>) -> String {
        hits.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{} {name}", greeting.0).to_uppercase()
    }
}

#[derive(Default)]
struct Counter;

#[wamp::component(prefix = "com.test.data", inventory = false)]
impl Counter {
    #[wamp::procedure("hits")]
    async fn hits(&self, hits: Data<Hits>, session: &Session) -> Result<u64, Error> {
        // The same value through the session, for code that is not a
        // parameter list.
        let same: Data<Hits> = session.app_data().ok_or_else(|| Error::new("com.test.none", "no hits"))?;
        assert!(std::sync::Arc::ptr_eq(&hits.clone().into_inner(), &same.into_inner()));
        Ok(hits.0.load(std::sync::atomic::Ordering::Relaxed))
    }
}

wamp_tests::embedded_and_remote!(data_for_all => application_data_embedded, application_data_remote);

/// Application data is shared by the host with every component: in sync,
/// `async` and `blocking` handlers, and through the session.
async fn data_for_all(mode: Mode) {
    let hits = Data::new(Hits::default());
    let given = hits.clone();
    let host = TestHost::start(mode, move |config| {
        wamp::Host::new(config)
            .app_data(Data::new(Greeting("Hello".into())))
            .app_data(given)
            .add_component(Greeter)
            .add_component(Counter)
    })
    .await;
    let caller = join(&host.url, "realm1").await;
    let greeting: String = wamp_tests::call_when_registered(&caller, "com.test.data.greet", ("Ada",)).await;
    assert_eq!(greeting, "Hello Ada");
    let shout: String = caller.call("com.test.data.shout", ("Grace",)).await.unwrap();
    assert_eq!(shout, "HELLO GRACE", "on the blocking pool too");
    let counted: u64 = wamp_tests::call_when_registered(&caller, "com.test.data.hits", ()).await;
    assert_eq!(counted, 2, "both components see the one value");
    assert_eq!(hits.0.load(std::sync::atomic::Ordering::Relaxed), 2, "and so does the application");
    caller.leave().await;
    host.shutdown().await;
}

/// Refused before anything starts, embedded and remote alike (the
/// remote router here is never reached: nothing listens there).
#[actix_web::test]
async fn a_host_missing_a_components_data_does_not_start() {
    for config in [HostConfig::default(), wamp_tests::remote("ws://127.0.0.1:9/ws")] {
        let error = wamp::Host::new(config)
            .app_data(Data::new(Hits::default()))
            .add_component(Greeter)
            .start()
            .err()
            .expect("refused");
        assert_eq!(error.kind(), wamp::ErrorKind::Invalid);
        assert!(
            error.to_string().contains("component Greeter takes Data<component_api::Greeting>"),
            "{error}"
        );
    }
}

/// A component with constructor arguments, listed in the inventory
/// through a factory.
struct Priced {
    rate: u64,
}

impl Priced {
    fn from_settings() -> Self {
        Priced { rate: 7 }
    }
}

#[wamp::component(prefix = "com.test.priced", factory = "Priced::from_settings")]
impl Priced {
    #[wamp::procedure("rate")]
    fn rate(&self) -> u64 {
        self.rate
    }
}

wamp_tests::embedded_and_remote!(made_by_its_factory => factory_made_embedded, factory_made_remote);

async fn made_by_its_factory(mode: Mode) {
    // Every other component of this test binary stays out of the inventory.
    let host = TestHost::start(mode, |config| wamp::Host::new(config).add_registered()).await;
    assert_eq!(host.running.clients().len(), 1);
    let caller = join(&host.url, "realm1").await;
    let rate: u64 = wamp_tests::call_when_registered(&caller, "com.test.priced.rate", ()).await;
    assert_eq!(rate, 7, "made by the factory");
    caller.leave().await;
    host.shutdown().await;
}

/// A caller joining `realm` at `url`.
async fn join(url: &str, realm: &str) -> Client {
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, realm) };
    Client::connect(options).await.unwrap()
}

/// A till per shop: two instances of one type, one per realm.
#[derive(Default)]
struct Till {
    sales: u64,
}

#[wamp::component(prefix = "com.test.till", inventory = false)]
impl Till {
    #[wamp::procedure("sell")]
    fn sell(&mut self) -> u64 {
        self.sales += 1;
        self.sales
    }
}

wamp_tests::embedded_and_remote!(side_by_side => named_instances_embedded, named_instances_remote);

async fn side_by_side(mode: Mode) {
    let realms = RouterConfig {
        realms: vec![RealmConfig::named("eu"), RealmConfig::named("us")],
        ..RouterConfig::default()
    };
    let host = TestHost::with_router(mode, realms, |config| {
        wamp::Host::new(config).add_instance("till-eu", Some("eu"), Till::default()).add_instance(
            "till-us",
            Some("us"),
            Till { sales: 100 },
        )
    })
    .await;
    let (eu, us) = (join(&host.url, "eu").await, join(&host.url, "us").await);
    assert_eq!(wamp_tests::call_when_registered::<u64>(&eu, "com.test.till.sell", ()).await, 1);
    assert_eq!(eu.call::<u64>("com.test.till.sell", ()).await.unwrap(), 2);
    assert_eq!(wamp_tests::call_when_registered::<u64>(&us, "com.test.till.sell", ()).await, 101);

    let running = &host.running;
    let till_eu = running.component_named::<Till>("till-eu").expect("named");
    let till_us = running.component_named::<Till>("till-us").expect("named");
    assert_eq!(till_eu.read(|t| t.sales).await.unwrap(), 2);
    assert_eq!(till_us.read(|t| t.sales).await.unwrap(), 101);
    assert!(running.component_named::<Till>("Till").is_none(), "instances go by their own names");
    let me = till_eu.client().joined().await.unwrap();
    assert_eq!(me.realm, "eu");
    if mode == Mode::Embedded {
        // A remote router gives the authid its authentication decides.
        assert_eq!(me.authid, "till-eu");
    }
    eu.leave().await;
    us.leave().await;
    host.shutdown().await;
}
