//! The chat app: the page, AutobahnJS, the WAMP endpoint and the chat
//! component, on one actix-web server.
//!
//! ```text
//! (cd examples/chat/web && npm ci)   # once: the pinned AutobahnJS browser build
//! cargo run -p chat                  # then open http://127.0.0.1:8080/ in two tabs
//! ```

use actix_web::{App, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    wamp::logging::init();
    let autobahn = chat::autobahn_js();
    if !autobahn.exists() {
        tracing::error!(
            missing = %autobahn.display(),
            "AutobahnJS is not installed, so the page cannot connect: run `npm ci` in examples/chat/web"
        );
    }
    let host = wamp::Host::from_env()?;
    let listen = host.config().router.listen.clone();
    let path = host.config().router.path.clone();
    let running = chat::add_components(host).start()?;
    let router = running.router().cloned().ok_or_else(|| {
        std::io::Error::other("the chat serves its page beside its own router: unset WAMP_URL")
    })?;
    let server = HttpServer::new(move || App::new().configure(chat::pages).service(router.websocket(&path)))
        .bind(&listen)?;
    for addr in server.addrs() {
        tracing::info!(url = %format!("http://{addr}/"), "chat page served");
    }
    let served = server.run().await;
    running.shutdown().await;
    served
}
