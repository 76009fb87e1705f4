//! # wamp: WAMP v2 components, router and client on actix
//!
//! WAMP gives applications two messaging patterns over one connection:
//! publish & subscribe (a *broker* routes events from publishers to
//! subscribers) and remote procedure calls (a *dealer* routes calls from
//! callers to the callee that registered the procedure).
//!
//! This crate holds:
//! * [`protocol`]: every WAMP v2 message, the payload [`Value`](protocol::Value)
//!   type and the JSON and MessagePack serializers, free of I/O;
//! * [`router`]: an embeddable router (realms, broker, dealer) whose routing
//!   core is plain Rust driven by actors;
//! * [`transport`]: the actix-web WebSocket endpoint that serves the router;
//! * [`websocket`]: plain WebSocket endpoints (no WAMP) on the same layer;
//! * [`auth`]: authentication (anonymous, ticket, WAMP-CRA, cryptosign) and
//!   authorization (roles with permissions per URI pattern);
//! * [`client`]: a session that joins any WAMP router, from the client side;
//! * [`component`](mod@component): components and the [`Host`] that runs them beside the
//!   embedded router or against a remote one;
//! * [`config`]: layered settings (defaults, a TOML file, `WAMP_*` variables).
//!
//! ## Embedding the router in an actix-web application
//! ```no_run
//! use actix_web::{App, HttpServer};
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let router = wamp::Router::new(wamp::RouterConfig::default());
//!     HttpServer::new(move || App::new().service(router.websocket("/ws")))
//!         .bind("127.0.0.1:8080")?
//!         .run()
//!         .await
//! }
//! ```

pub mod auth;
pub mod client;
pub mod component;
pub mod config;
mod error;
pub mod protocol;
pub mod router;
#[cfg(test)]
mod test_support;
pub mod transport;
pub mod websocket;

pub use client::Context;
pub use component::Host;
pub use config::RouterConfig;
pub use error::Error;
pub use router::Router;

pub use wamp_macros::{component, procedure, subscribe};

/// Re-exported for the code `#[wamp::component]` generates, so applications
/// need no dependency of their own on it.
#[doc(hidden)]
pub use inventory;

/// What a component module usually needs.
pub mod prelude {
    pub use crate::client::{CallDetails, CallResult, EventDetails};
    pub use crate::{component, procedure, subscribe, Context, Error, Host};
}

/// The guide: long-form documentation, kept in the repository's `docs/`
/// folder and compiled here so its examples are tested.
pub mod guide {
    #[doc = include_str!("../../docs/components.md")]
    pub mod components {}
    #[doc = include_str!("../../docs/router.md")]
    pub mod router {}
    #[doc = include_str!("../../docs/architecture.md")]
    pub mod architecture {}
    #[doc = include_str!("../../docs/interoperability.md")]
    pub mod interoperability {}
    #[doc = include_str!("../../docs/websocket.md")]
    pub mod websocket {}
    #[doc = include_str!("../../docs/security.md")]
    pub mod security {}
}
