//! The WAMP endpoint and in-process components added to an actix-web
//! service of the application's own, beside its REST routes: a REST handler
//! publishes an event that a remote WAMP subscriber receives, and remote
//! peers call the embedded component.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use wamp::client::{Client, ConnectOptions, ReconnectPolicy, SubscribeOptions};
use wamp::component::HostConfig;

#[derive(Default)]
struct Clock;

#[wamp::component(prefix = "com.test.clock", inventory = false)]
impl Clock {
    #[wamp::procedure("twice")]
    fn twice(&self, n: i64) -> i64 {
        2 * n
    }
}

async fn announce(path: web::Path<String>, wamp: web::Data<Client>) -> HttpResponse {
    match wamp.publish("com.test.clock.announced", (path.into_inner(),)).await {
        Ok(()) => HttpResponse::Accepted().finish(),
        Err(e) => HttpResponse::BadGateway().body(e.to_string()),
    }
}

#[actix_web::test]
async fn rest_routes_and_the_wamp_endpoint_share_one_app() {
    let running = wamp::Host::new(HostConfig::default()).add_component(Clock).start().unwrap();
    running.joined().await.unwrap();
    let publisher = web::Data::new(running.clients()[0].clone());
    let router = running.router().cloned().unwrap();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(publisher.clone())
            .route("/health", web::get().to(|| async { "ok" }))
            .route("/announce/{what}", web::post().to(announce))
            .service(router.websocket("/ws"))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    actix_web::rt::spawn(server.run());

    let options = ConnectOptions {
        reconnect: ReconnectPolicy::off(),
        ..ConnectOptions::new(format!("ws://{addr}/ws"), "realm1")
    };
    let peer = Client::connect(options).await.unwrap();
    assert_eq!(peer.call::<i64>("com.test.clock.twice", (21,)).await.unwrap(), 42);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    peer.subscribe("com.test.clock.announced", SubscribeOptions::default(), move |args, _| {
        let _ = tx.send(args.get::<String>(0).unwrap_or_default());
        async {}
    })
    .await
    .unwrap();

    // Plain HTTP on the same port: the REST routes still work, and one of
    // them publishes through the embedded component's session.
    let http = |path: &str, method: &str| {
        let (addr, path, method) = (addr, path.to_owned(), method.to_owned());
        async move {
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let request = format!(
                "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            response
        }
    };
    let health = http("/health", "GET").await;
    assert!(health.starts_with("HTTP/1.1 200") && health.ends_with("ok"), "{health}");
    let announced = http("/announce/noon", "POST").await;
    assert!(announced.starts_with("HTTP/1.1 202"), "{announced}");
    let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap();
    assert_eq!(got.as_deref(), Some("noon"));
    peer.leave().await;
    running.shutdown().await;
}
