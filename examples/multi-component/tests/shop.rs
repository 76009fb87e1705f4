//! The shop binary as a user runs it: three components found by the
//! inventory, an order going from `Orders` to `Stock` and the events of
//! both reaching `Audit`; embedded, and joined to a separate router.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use wamp::client::{Client, ConnectOptions};
use wamp_tests::{app_command, Process, TestRouter};

/// Starts the binary (embedded on a free port unless `env` says
/// otherwise) and waits until its three components are ready.
async fn start(env: &[(&str, &str)]) -> Process {
    let mut shop =
        Process::start(app_command(env!("CARGO_BIN_EXE_multi-component")).envs(env.iter().copied()));
    shop.wait_for(&["component ready"; 3]).await;
    shop
}

async fn shop_works(url: &str) {
    let client = Client::connect(ConnectOptions::new(url, "realm1")).await.unwrap();
    assert_eq!(client.call::<u64>("com.example.shop.orders.place", ("lamp", 2)).await.unwrap(), 1);
    assert_eq!(client.call::<u64>("com.example.shop.orders.place", ("lamp", 2)).await.unwrap(), 2);

    // The stock's refusal reaches the caller of Orders unchanged.
    let refused = client.call::<u64>("com.example.shop.orders.place", ("lamp", 5)).await.unwrap_err();
    assert_eq!(refused.uri, "com.example.shop.stock.error.not_enough");
    let left: serde_json::Value =
        serde_json::to_value(refused.kwargs.get("left").expect("kwarg left")).unwrap();
    assert_eq!(left, serde_json::json!(2));
    let unknown = client.call::<u64>("com.example.shop.orders.place", ("sofa", 1)).await.unwrap_err();
    assert_eq!(unknown.uri, "com.example.shop.stock.error.unknown_item");
    assert_eq!(client.call::<u32>("com.example.shop.stock.level", ("lamp",)).await.unwrap(), 2);

    // Events of two publishers carry no order between them: compare sorted.
    let mut expected = vec!["low stock: lamp, 2 left", "order 1: 2 x lamp", "order 2: 2 x lamp"];
    expected.sort_unstable();
    let mut log = Vec::new();
    for _ in 0..100 {
        log = client.call::<Vec<String>>("com.example.shop.audit.log", ()).await.unwrap();
        log.sort_unstable();
        if log.len() >= expected.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(log, expected);
    client.leave().await;
}

#[actix_web::test]
async fn embedded_the_components_call_each_other_and_exchange_events() {
    let shop = start(&[]).await;
    shop_works(&shop.url()).await;
}

#[actix_web::test]
async fn remote_the_same_components_do_the_same_through_another_router() {
    let router = TestRouter::start();
    let _shop = start(&[("WAMP_URL", &router.url)]).await;
    shop_works(&router.url).await;
}
