//! # wamp: WAMP v2 components, router and client on actix
//!
//! WAMP gives applications two messaging patterns over one connection:
//! publish & subscribe (a *broker* routes events from publishers to
//! subscribers) and remote procedure calls (a *dealer* routes calls from
//! callers to the callee that registered the procedure).
//!
//! This crate holds:
//! * [`protocol`]: every WAMP v2 message, the payload types
//!   [`Value`](protocol::Value) and [`Dict`](protocol::Dict), and the JSON
//!   and MessagePack serializers, free of I/O;
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
//! * `logging` (feature `logging`, on by default): `logging::init()`, the
//!   one call an application's `main` makes to print the framework's
//!   `tracing` records, filtered by `RUST_LOG`;
//! * [`prelude`]: what a component module usually imports (it can be
//!   glob-imported beside `actix::prelude`);
//! * [`guide`]: the long-form guides, with tested examples.
//!
//! Component authors need little beyond the prelude: see
//! [`guide::components`].
//!
//! ## A tour
//!
//! A component is a struct with a `#[wamp::component]` impl block. Its
//! methods become procedures (`#[wamp::procedure]`), event handlers
//! (`#[wamp::subscribe]`) and handlers of the application's own messages
//! (`#[wamp::message]`); arguments and results go through serde. The
//! [`Host`] runs it beside the embedded [`Router`] or against any remote
//! router, unchanged; `client = "..."` also generates a typed client for
//! its callers.
//!
//! ```no_run
//! use wamp::prelude::*;
//!
//! /// What the counter can fail with, one error URI per variant.
//! #[derive(Debug, PartialEq, wamp::Error)]
//! #[wamp(prefix = "com.example.counter.error")]
//! enum CounterError {
//!     #[wamp(message = "the step must be positive")]
//!     ZeroStep,
//! }
//!
//! /// Sent by the application itself, not over WAMP.
//! struct Reset;
//!
//! #[derive(Default)]
//! struct Counter {
//!     count: u64,
//! }
//!
//! #[wamp::component(prefix = "com.example.counter", client = "CounterClient")]
//! impl Counter {
//!     /// `com.example.counter.add(step)`: the new count.
//!     #[wamp::procedure("add")]
//!     fn add(&mut self, step: u64) -> Result<u64, CounterError> {
//!         if step == 0 {
//!             return Err(CounterError::ZeroStep);
//!         }
//!         self.count += step;
//!         Ok(self.count)
//!     }
//!
//!     /// Events on `com.example.counter.cleared`.
//!     #[wamp::subscribe("cleared")]
//!     fn cleared(&mut self) {
//!         self.count = 0;
//!     }
//!
//!     /// `ComponentHandle::send(Reset)`: the count before.
//!     #[wamp::message]
//!     fn reset(&mut self, _: Reset) -> u64 {
//!         std::mem::take(&mut self.count)
//!     }
//!
//!     /// Once, before the first join: publish the count every minute.
//!     fn on_start(&self, session: &Session) {
//!         session.run_interval(std::time::Duration::from_secs(60), |session| async move {
//!             let _ = session.publish("com.example.counter.tick", ()).await;
//!         });
//!     }
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     // Settings from wamp.toml and WAMP_* variables; the embedded router
//!     // unless `url` names a remote one.
//!     let host = Host::from_env()?.add_registered();
//!     let running = host.start()?;
//!     running.joined().await?;
//!
//!     // A typed caller, through any session.
//!     let counter = CounterClient::new(running.clients()[0].clone());
//!     let count = counter.add(5).await?;
//!     match counter.add(0).await {
//!         Err(e) => assert_eq!(e.decode::<CounterError>(), Some(CounterError::ZeroStep)),
//!         Ok(_) => unreachable!("a zero step is refused"),
//!     }
//!
//!     // The component itself, from anywhere, like an actor's address.
//!     let handle = running.component::<Counter>().expect("the host runs a Counter");
//!     assert_eq!(handle.send(Reset).await?, count);
//!     running.shutdown().await;
//!     Ok(())
//! }
//! ```
//!
//! Where to look next:
//!
//! | to                                             | see |
//! |------------------------------------------------|-----|
//! | start: the protocol, then a new app with `wamp new` | [`guide::wamp`], [`guide::quickstart`] |
//! | write components: attributes, parameters, results, hooks | [`guide::components`], [`macro@component`] |
//! | take keyword arguments as a struct (`#[wamp(kwargs)]`), rename a parameter (`#[wamp(name = "...")]`), answer with keyword arguments (`Kwargs<T>`, or `Arguments` with positional ones too) | [`guide::components`], [`client::Kwargs`], [`client::Arguments`] |
//! | call and publish with options (a timeout, `exclude_me`, acknowledgement) | [`Session::call_with`], [`Session::publish_with`], [`client::CallOptions`], [`client::PublishOptions`]; a typed client's `with_call_options` and `with_publish_options` ([`guide::components`]) |
//! | make a component with arguments (`factory = "..."`); run several instances of one type | [`macro@component`], [`Host::add_instance`] |
//! | handlers that take long: `blocking`, `concurrency`, `timeout_ms`, `own_thread` | [`guide::components`], [`component::HostConfig`] |
//! | test components                                 | [`guide::testing`] |
//! | fail with typed errors, and tell failures apart | [`Error`](struct@Error), [`ErrorKind`], [`derive(Error)`](macro@Error) |
//! | reach a component from other code; timers       | [`ComponentHandle`](component::ComponentHandle), [`Session::run_interval`] |
//! | call and subscribe from outside a component; reconnect | [`client::Client`], [`client::ConnectOptions`], [`guide::client`] |
//! | share a pool or settings between handlers       | [`Data`], [`Host::app_data`] |
//! | run the router: realms, limits, auth, TLS       | [`guide::router`], [`RouterConfig`], [`guide::security`] |
//! | add WAMP to your actix-web service             | [`guide::embedding`] |
//! | serve plain WebSocket beside WAMP              | [`websocket`], [`guide::websocket`] |
//! | copy from a complete example                    | [`guide::examples`] |
//! | see how it fits together                        | [`guide::architecture`] |
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
#[cfg(feature = "logging")]
pub mod logging;
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
/// handler runs in. The same holds for the wire layer's names
/// ([`protocol`]): its message type is `WampMessage`.
///
/// ```
/// use actix::prelude::*;
/// use wamp::prelude::*;
/// use wamp::protocol::*;
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
///
/// // A WAMP message, as the wire layer has it.
/// let goodbye = WampMessage::Goodbye { details: Dict::new(), reason: "wamp.close.normal".into() };
/// assert_eq!(Serializer::Json.encode(&goodbye).unwrap(), br#"[6,{},"wamp.close.normal"]"#);
/// # let system = System::new();
/// # let total = system.block_on(async { Counter(1).start().send(Add(2)).await.unwrap() });
/// # assert_eq!(total, 3);
/// ```
pub mod prelude {
    pub use crate::client::{Arguments, CallDetails, EventDetails, Kwargs};
    pub use crate::{component, message, procedure, subscribe, Data, Error, ErrorKind, Host, Session};
}

/// The guide: long-form documentation, kept in the repository's `docs/`
/// folder and compiled here so its examples are tested.
pub mod guide {
    #[doc = include_str!("../../docs/introduction.md")]
    pub mod introduction {}
    #[doc = include_str!("../../docs/wamp.md")]
    pub mod wamp {}
    #[doc = include_str!("../../docs/quickstart.md")]
    pub mod quickstart {}
    #[doc = include_str!("../../docs/client.md")]
    pub mod client {}
    #[doc = include_str!("../../docs/testing.md")]
    pub mod testing {}
    #[doc = include_str!("../../docs/embedding.md")]
    pub mod embedding {}
    #[doc = include_str!("../../docs/examples.md")]
    pub mod examples {}
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
