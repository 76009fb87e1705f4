//! The REST service with WAMP added: one actix-web server, one port, REST
//! routes and the WAMP endpoint side by side.
//!
//! ```text
//! cargo run -p embed-actix-web
//! curl -X POST localhost:8080/api/notes -H 'content-type: application/json' -d '{"text":"hi"}'
//! curl localhost:8080/api/notes
//! ```

use actix_web::{web, App, HttpServer};
use embed_actix_web::notes::NotesClient;
use embed_actix_web::rest::{self, Gateway};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    wamp::logging::init();
    // The settings of wamp.toml and WAMP_* variables; the router is
    // embedded (no `url`), its endpoint mounted below.
    let host = wamp::Host::from_env()?;
    let listen = host.config().router.listen.clone();
    let running = embed_actix_web::add_components(host).start()?;
    let router = running
        .router()
        .cloned()
        .ok_or_else(|| std::io::Error::other("this service embeds its router: unset WAMP_URL"))?;
    let gateway = running
        .component::<Gateway>()
        .ok_or_else(|| std::io::Error::other("the gateway component is missing"))?;
    let notes = web::Data::new(NotesClient::new(gateway.client().clone()));

    let server = HttpServer::new(move || {
        App::new()
            .route("/health", web::get().to(|| async { "ok" }))
            .app_data(notes.clone())
            .configure(rest::configure)
            .service(router.websocket("/ws"))
    })
    .bind(&listen)?;
    for addr in server.addrs() {
        tracing::info!(url = %format!("http://{addr}"), wamp = %format!("ws://{addr}/ws"), "service listening");
    }
    let served = server.run().await;
    running.shutdown().await;
    served
}
