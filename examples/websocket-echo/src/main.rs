//! A plain WebSocket echo at `/echo` and the WAMP router at `/ws`, served
//! by one actix-web server.
//!
//! ```text
//! cargo run -p websocket-echo                             # on 127.0.0.1:8080
//! WAMP_LISTEN=127.0.0.1:9001 cargo run -p websocket-echo  # elsewhere
//! ```
//!
//! The router's settings (`wamp.toml`, `WAMP_*` variables) apply to both
//! endpoints: the listening address, the message size limit and the
//! keepalive.

use actix_web::{App, HttpServer};
use wamp::websocket::{self, Handler, Message, Socket};

/// Sends every message back as it came: text as text, binary as binary.
struct Echo;

impl Handler for Echo {
    fn on_message(&mut self, socket: &mut Socket, message: Message) {
        // Fails only once the connection is closing: nothing to echo to.
        let _ = socket.send(message);
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let config = wamp::RouterConfig::load(None).map_err(std::io::Error::other)?;
    let settings = websocket::Settings::default()
        .max_message_size(config.max_message_size)
        .keepalive(config.ping_interval(), config.ping_timeout());
    let router = wamp::Router::new(config.clone());
    let path = config.path.clone();
    let server = HttpServer::new(move || {
        App::new()
            .service(websocket::endpoint("/echo", settings.clone(), || Echo))
            .service(router.websocket(&path))
    })
    .tcp_nodelay(true)
    // A client that never completes its upgrade request is dropped.
    .client_request_timeout(config.hello_timeout())
    // Once a WebSocket's closing handshake is done the server closes the
    // TCP connection at once (RFC 6455, 7.1.1), instead of lingering for
    // the client to do it.
    .client_disconnect_timeout(std::time::Duration::ZERO)
    .bind(&config.listen)
    .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {}: {e}", config.listen)))?;
    for addr in server.addrs() {
        tracing::info!(echo = %format!("ws://{addr}/echo"), url = %format!("ws://{addr}{}", config.path), "listening");
    }
    server.run().await
}
