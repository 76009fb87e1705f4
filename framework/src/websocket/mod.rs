//! Plain WebSocket endpoints and clients: whole messages in and out, no
//! WAMP.
//!
//! A [`WebSocketHandler`] is given each connection's events (the upgrade request,
//! the opening, every message, the closing) and answers through a
//! [`Socket`]; [`endpoint`] mounts it in any actix-web `App`, beside the
//! WAMP endpoint of [`Router::websocket`](crate::Router::websocket), and
//! [`connect`] runs one on a connection to a server. All run on the same
//! WebSocket layer (the WAMP client too), so what holds for one holds for
//! the others: fragments are joined into whole messages, text is checked for
//! UTF-8 as it arrives (1007), a message or frame over the size limit
//! ends the connection (1009), pings are answered and a silent peer is
//! closed.
//!
//! Back-pressure rather than buffering: the connection reads its peer's
//! next message only once what was written to it has been handed to
//! actix-web (up to a high-water mark), so a peer that sends without
//! reading slows itself down instead of filling the server's memory.
//! Other tasks write through a [`SocketHandle`], whose
//! [`send`](SocketHandle::send) waits while the connection is behind.
//!
//! ```no_run
//! use actix_web::{App, HttpServer};
//! use wamp::websocket::{self, WebSocketHandler, WebSocketMessage, Socket};
//!
//! /// Sends every message back.
//! struct Echo;
//!
//! impl WebSocketHandler for Echo {
//!     fn on_message(&mut self, socket: &mut Socket, message: WebSocketMessage) {
//!         let _ = socket.send(message);
//!     }
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let settings = websocket::Settings::default();
//!     HttpServer::new(move || App::new().service(websocket::endpoint("/echo", settings.clone(), || Echo)))
//!         .bind("127.0.0.1:8080")?
//!         .run()
//!         .await
//! }
//! ```

mod client;
mod connection;
mod handler;
mod socket;

pub use crate::transport::proxy::Proxy;
pub use crate::transport::ws::{Compression, ConnectError};
pub use client::{connect, ClientConnection, ClientOptions};
pub use connection::{endpoint, Settings};
pub use handler::{Accept, Closed, WebSocketHandler, WebSocketMessage};
pub use socket::{Socket, SocketClosed, SocketHandle, TrySendError};
