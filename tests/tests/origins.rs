//! Allowed origins on the WAMP endpoint: a browser page from an origin
//! the router does not list is refused with 403 before anything else;
//! listed origins, and clients that send no `Origin`, are accepted. (The
//! plain endpoints' check is in `websocket_api.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use wamp::RouterConfig;
use wamp_tests::{upgrade_status, TestRouter};

#[actix_web::test]
async fn the_wamp_endpoint_accepts_only_the_listed_origins() {
    let router = TestRouter::with_config(RouterConfig {
        allowed_origins: vec!["https://app.example.com".into(), "http://localhost:*".into()],
        ..RouterConfig::default()
    });
    let json = Some("wamp.2.json");
    assert_eq!(upgrade_status(&router.url, json, Some("https://evil.example.net")).await, 403);
    assert_eq!(upgrade_status(&router.url, json, Some("https://app.example.com.evil.net")).await, 403);
    assert_eq!(upgrade_status(&router.url, json, Some("https://app.example.com")).await, 101);
    assert_eq!(upgrade_status(&router.url, json, Some("http://localhost:5173")).await, 101);
    assert_eq!(upgrade_status(&router.url, json, None).await, 101, "no Origin: not a browser");
}

#[actix_web::test]
async fn by_default_every_origin_is_accepted() {
    let router = TestRouter::start();
    assert_eq!(
        upgrade_status(&router.url, Some("wamp.2.msgpack"), Some("https://anywhere.example")).await,
        101
    );
}
