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
//! * [`router`]: the embeddable [`Router`] (realms, broker, dealer), mounted
//!   in any actix-web `App` with [`Router::websocket`];
//! * [`transport`]: a standalone [`Server`](transport::Server) for the
//!   router and the [`tls`](transport::tls) settings of both sides;
//! * [`websocket`]: plain WebSocket endpoints (no WAMP) on the same layer;
//! * [`auth`]: authentication (anonymous, ticket, WAMP-CRA, cryptosign) and
//!   authorization (roles with permissions per URI pattern);
//! * [`client`]: a session that joins any WAMP router, from the client side:
//!   [`Client`](client::Client) from anywhere, [`Session`] from code running
//!   inside the session;
//! * [`component`](mod@component): components and the [`Host`] that runs them beside the
//!   embedded router or against a remote one;
//! * [`config`]: layered settings (defaults, a TOML file, `WAMP_*` variables);
//! * [`prelude`]: what a component module usually imports (it can be
//!   glob-imported beside `actix::prelude`);
//! * [`guide`]: the long-form guides, with tested examples.
//!
//! Component authors need little beyond the prelude: see
//! [`guide::components`].
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

pub use client::Session;
pub use component::{Data, Host};
pub use config::RouterConfig;
pub use error::{ApplicationError, Error, ErrorKind};
pub use router::Router;

pub use wamp_macros::{component, message, procedure, subscribe, Error};

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals;

/// What a component module usually needs.
///
/// No name here is also a name in `actix::prelude`, so a module can glob
/// both and write an actor and a component side by side: `Context`,
/// `Handler` and `Message` are actix's, [`Session`] is the WAMP session a
/// handler runs in.
///
/// ```
/// use actix::prelude::*;
/// use wamp::prelude::*;
///
/// // An actix actor, with actix's names.
/// struct Counter(u64);
/// impl Actor for Counter {
///     type Context = Context<Self>;
/// }
/// #[derive(Message)]
/// #[rtype(result = "u64")]
/// struct Add(u64);
/// impl Handler<Add> for Counter {
///     type Result = u64;
///     fn handle(&mut self, msg: Add, _: &mut Context<Self>) -> u64 {
///         self.0 += msg.0;
///         self.0
///     }
/// }
///
/// // A WAMP component in the same module, with ours.
/// #[derive(Default)]
/// struct Greeter;
/// #[wamp::component(inventory = false)]
/// impl Greeter {
///     #[wamp::procedure("com.example.greet")]
///     fn greet(&self, name: String, call: &CallDetails) -> Result<Arguments, Error> {
///         Arguments::new().arg(format!("hello {name}"))?.kwarg("caller", call.caller)
///     }
///
///     #[wamp::subscribe("com.example.news")]
///     fn news(&self, text: String, details: EventDetails, session: &Session) {
///         let _ = (text, details.publication, session.session_id());
///     }
/// }
///
/// let _host: Host = Host::new(wamp::component::HostConfig::default()).add_component(Greeter);
/// # let system = System::new();
/// # let total = system.block_on(async { Counter(1).start().send(Add(2)).await.unwrap() });
/// # assert_eq!(total, 3);
/// ```
pub mod prelude {
    pub use crate::client::{Arguments, CallDetails, EventDetails};
    pub use crate::{component, message, procedure, subscribe, Data, Error, ErrorKind, Host, Session};
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
