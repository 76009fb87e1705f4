//! Transports: how sessions reach a realm.
//!
//! * [`server`]: a standalone server for the router (`wamp router`),
//!   over TLS too ([`tls`]);
//! * [`websocket`]: the actix-web WebSocket endpoint (`wamp.2.json`,
//!   `wamp.2.msgpack`), mounted into any actix-web `App`;
//! * `ws`: the WebSocket protocol under it (whole messages in, frames out,
//!   no channel between the connection and its socket), shared with the
//!   plain endpoints of [`crate::websocket`].
//!
//! Every transport decodes frames into [`Message`](crate::protocol::Message)s,
//! runs the session's state machine
//! ([`PeerSession`](crate::router::PeerSession)) and talks to the realm
//! actor; the realm cannot tell transports apart.

pub mod origin;
pub mod server;
pub mod tls;
pub mod websocket;
pub(crate) mod ws;
