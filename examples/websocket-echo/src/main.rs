//! A plain WebSocket echo at `/echo` and the WAMP router at `/ws`, served
//! by one actix-web server.
//!
//! ```text
//! cargo run -p websocket-echo                             # on 127.0.0.1:8080
//! WAMP_LISTEN=127.0.0.1:9001 cargo run -p websocket-echo  # elsewhere
//! ```
//!
//! The router's settings (`wamp.toml`, `WAMP_*` variables) apply to both
//! endpoints: the listening address, the message size limit, the
//! keepalive, the allowed origins, permessage-deflate
//! (`WAMP_COMPRESSION=true`), and TLS (`WAMP_TLS_CERT` and
//! `WAMP_TLS_KEY`: both endpoints then serve `wss://`).

use actix_web::{App, HttpServer};
use wamp::websocket::{self, Socket, WebSocketHandler, WebSocketMessage};

/// Sends every message back as it came: text as text, binary as binary.
struct Echo;

impl WebSocketHandler for Echo {
    fn on_message(&mut self, socket: &mut Socket, message: WebSocketMessage) {
        // Fails only once the connection is closing: nothing to echo to.
        let _ = socket.send(message);
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    wamp::logging::init();
    let config = wamp::RouterConfig::load(None)?;
    let settings = websocket::Settings::default()
        .max_message_size(config.max_message_size)
        .keepalive(config.ping_interval(), config.ping_timeout())
        .allowed_origins(&config.allowed_origins)
        .compression(config.compression());
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(
            wamp::transport::tls::server_config(cert.as_ref(), key.as_ref())
                .map_err(std::io::Error::other)?,
        ),
        (None, None) => None,
        _ => return Err(std::io::Error::other(wamp::transport::tls::TlsError::Incomplete)),
    };
    let scheme = if tls.is_some() { "wss" } else { "ws" };
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
    .client_disconnect_timeout(std::time::Duration::ZERO);
    let cannot =
        |e: std::io::Error| std::io::Error::new(e.kind(), format!("cannot listen on {}: {e}", config.listen));
    let server = match tls {
        Some(tls) => server.bind_rustls_0_23(&config.listen, tls).map_err(cannot)?,
        None => server.bind(&config.listen).map_err(cannot)?,
    };
    for addr in server.addrs() {
        let (echo, url) = (format!("{scheme}://{addr}/echo"), format!("{scheme}://{addr}{}", config.path));
        tracing::info!(%echo, %url, "listening");
    }
    server.run().await
}
