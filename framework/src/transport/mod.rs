//! Transports: how sessions reach a realm.
//!
//! * [`Server`]: a standalone server for the router (`wamp router`),
//!   over TLS too ([`tls`]);
//! * the actix-web WebSocket endpoint (`wamp.2.json`, `wamp.2.msgpack`)
//!   that [`Router::websocket`](crate::Router::websocket) mounts into any
//!   actix-web `App`;
//! * `ws`: the WebSocket protocol under it (whole messages in, frames out,
//!   no channel between the connection and its socket), shared with the
//!   plain endpoints of [`crate::websocket`].
//!
//! Every transport decodes frames into [`WampMessage`](crate::protocol::WampMessage)s,
//! runs the session's state machine
//! (the router's `PeerSession`) and talks to the realm
//! actor; the realm cannot tell transports apart.

pub(crate) mod origin;
pub(crate) mod proxy;
pub(crate) mod server;
pub mod tls;
pub(crate) mod websocket;

pub use server::Server;
pub(crate) mod ws;
