//! The typed client `#[wamp::component(client = "...")]` generates: the
//! component's procedures and topics as async methods with its own types,
//! through a remote `Client` and through a `Session` inside another
//! component, against our router (embedded and standalone) and
//! Crossbar.io.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use serde::{Deserialize, Serialize};
use wamp::client::{CallOptions, Client, ConnectOptions, PublishOptions, ReconnectPolicy};
use wamp::component::HostConfig;
use wamp::prelude::*;
use wamp_tests::crossbar::CrossbarRouter;
use wamp_tests::TestRouter;

#[derive(Debug, Clone, PartialEq, wamp::Error)]
#[wamp(prefix = "com.test.shop.error")]
enum ShopError {
    /// The shop does not sell it.
    UnknownItem(String),
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Delivery {
    express: bool,
    #[serde(default)]
    note: Option<String>,
}

/// The shop's stock in sum, as keyword arguments.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Inventory {
    lines: usize,
    units: u32,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Receipt {
    item: String,
    quantity: u32,
    express: bool,
}

struct Shop {
    stock: Vec<(String, u64, u32)>,
}

impl Default for Shop {
    fn default() -> Self {
        Shop { stock: vec![("lamp".into(), 30, 2), ("desk".into(), 120, 1)] }
    }
}

#[wamp::component(prefix = "com.test.shop", inventory = false, client = "ShopClient")]
impl Shop {
    /// The price of `item`.
    #[wamp::procedure("price")]
    fn price(&self, item: String) -> Result<u64, ShopError> {
        self.stock
            .iter()
            .find(|(name, ..)| *name == item)
            .map(|(_, price, _)| *price)
            .ok_or(ShopError::UnknownItem(item))
    }

    /// Orders `quantity` of `item` (one if not given).
    #[wamp::procedure("order")]
    fn order(&mut self, item: String, quantity: Option<u32>, #[wamp(kwargs)] delivery: Delivery) -> Receipt {
        Receipt { item, quantity: quantity.unwrap_or(1), express: delivery.express }
    }

    #[wamp::procedure("motto")]
    fn motto(&self) -> &'static str {
        "open every day"
    }

    #[wamp::procedure("items")]
    fn items(&self) -> Vec<String> {
        self.stock.iter().map(|(name, ..)| name.clone()).collect()
    }

    /// Answers with keyword arguments (`lines`, `units`).
    #[wamp::procedure("inventory")]
    fn inventory(&self) -> Kwargs<Inventory> {
        let units = self.stock.iter().map(|(.., count)| count).sum();
        Kwargs(Inventory { lines: self.stock.len(), units })
    }

    /// Answers after `ms` milliseconds.
    #[wamp::procedure("wait")]
    async fn wait(&self, ms: u64) -> u64 {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        ms
    }

    #[wamp::procedure("clear")]
    fn clear(&mut self, _session: &Session) {
        self.stock.clear();
    }

    /// New stock arrived.
    #[wamp::subscribe("restocked")]
    fn restocked(&mut self, item: String, count: u32) {
        match self.stock.iter_mut().find(|(name, ..)| *name == item) {
            Some(line) => line.2 += count,
            None => self.stock.push((item, 10, count)),
        }
    }

    /// Patterns have no one URI to call: left out of the client.
    #[wamp::subscribe("audit", match = "prefix")]
    fn audit(&self) {}
}

/// Buys through the shop's typed client over its own session.
#[derive(Default)]
struct Buyer;

#[wamp::component(prefix = "com.test.buyer", inventory = false)]
impl Buyer {
    #[wamp::procedure("cost")]
    async fn cost(&self, item: String, count: u64, session: &Session) -> Result<u64, Error> {
        let shop = ShopClient::new(session.clone());
        Ok(shop.price(item).await? * count)
    }
}

async fn check(url: &str, realm: &str) {
    let options = ConnectOptions { reconnect: ReconnectPolicy::off(), ..ConnectOptions::new(url, realm) };
    let client = Client::connect(options).await.unwrap();
    let _: Vec<String> = wamp_tests::call_when_registered(&client, "com.test.shop.items", ()).await;
    let shop = ShopClient::new(client.clone());

    fn assert_send<T: Send>(_: &T) {}
    let price = shop.price("lamp".into());
    assert_send(&price);
    assert_eq!(price.await.unwrap(), 30);

    let error = shop.price("sofa".into()).await.unwrap_err();
    assert_eq!(error.decode::<ShopError>(), Some(ShopError::UnknownItem("sofa".into())));

    let receipt = shop.order("desk".into(), Some(3), Delivery { express: true, note: None }).await.unwrap();
    assert_eq!(receipt, Receipt { item: "desk".into(), quantity: 3, express: true });
    let receipt = shop.order("lamp".into(), None, Delivery { express: false, note: Some("ring".into()) });
    assert_eq!(receipt.await.unwrap().quantity, 1);
    let motto: String = shop.motto().await.unwrap();
    assert_eq!(motto, "open every day", "a 'static reference is read back owned");
    let Kwargs(inventory) = shop.inventory().await.unwrap();
    assert_eq!(inventory, Inventory { lines: 2, units: 3 });
    let wire = client.call_with("com.test.shop.inventory", (), Default::default()).await.unwrap();
    assert!(wire.args.is_empty(), "keyword arguments only: {wire:?}");
    assert_eq!((wire.get_kw::<usize>("lines").unwrap(), wire.get_kw::<u32>("units").unwrap()), (2, 3));

    // Options for every call of a client, and every publication.
    let hasty =
        CallOptions { timeout: Some(std::time::Duration::from_millis(100)), ..CallOptions::default() };
    let error = shop.clone().with_call_options(hasty).wait(3_000).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert_eq!(shop.wait(1).await.unwrap(), 1, "the original keeps the defaults");
    let me = client.joined().await.unwrap().id;
    let nobody = PublishOptions { eligible: Some(vec![me]), ..PublishOptions::default() };
    shop.clone().with_publish_options(nobody).publish_restocked("stool".into(), 1).await.unwrap();

    shop.publish_restocked("chair".into(), 4).await.unwrap();
    let mut items = Vec::new();
    for _ in 0..200 {
        items = shop.items().await.unwrap();
        if items.len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(items, ["lamp", "desk", "chair"], "the event reached the shop, the one for nobody did not");

    // From inside another component, through its Session.
    let cost: u64 = wamp_tests::call_when_registered(&client, "com.test.buyer.cost", ("lamp", 3)).await;
    assert_eq!(cost, 90);
    let error = client.call::<u64>("com.test.buyer.cost", ("sofa", 1)).await.unwrap_err();
    assert_eq!(error.decode::<ShopError>(), Some(ShopError::UnknownItem("sofa".into())));

    shop.clear().await.unwrap();
    assert!(shop.items().await.unwrap().is_empty());
    client.leave().await;
}

fn host_config() -> HostConfig {
    let mut config = wamp_tests::embedded();
    config.reconnect = ReconnectPolicy::off();
    config
}

#[actix_web::test]
async fn over_the_embedded_router() {
    let running =
        wamp::Host::new(host_config()).add_component(Shop::default()).add_component(Buyer).start().unwrap();
    let url = wamp_tests::serve(&running).await;
    check(&url, "realm1").await;
    running.shutdown().await;
}

#[actix_web::test]
async fn over_a_standalone_router() {
    let router = TestRouter::start();
    let mut config = host_config();
    config.url = Some(router.url.clone());
    let running =
        wamp::Host::new(config).add_component(Shop::default()).add_component(Buyer).start().unwrap();
    running.joined().await.unwrap();
    check(&router.url, "realm1").await;
    running.shutdown().await;
}

#[test]
fn over_crossbar() {
    let crossbar = CrossbarRouter::start();
    let mut config = host_config();
    config.url = Some(crossbar.url.clone());
    config.realm = crossbar.realm.clone();
    actix_web::rt::System::new().block_on(async {
        let running =
            wamp::Host::new(config).add_component(Shop::default()).add_component(Buyer).start().unwrap();
        running.joined().await.unwrap();
        check(&crossbar.url, &crossbar.realm).await;
        running.shutdown().await;
    });
}
