//! Components: application code that joins a realm and offers procedures
//! and subscriptions, written as annotated methods.
//!
//! A component is a type with a `#[wamp::component]` impl block (see
//! [`macro@crate::component`]). The macro implements [`Component`], which
//! tells the host the component's procedures and subscriptions (as
//! handlers over the component's shared state) and its lifecycle hooks;
//! nothing of it is written by hand. The [`Host`] runs each component in
//! a session of its own (driven by an actor), in-process beside an
//! embedded router or over WebSocket to any router: the component cannot
//! tell which.
//!
//! The state sits behind an async read-write lock: methods
//! taking `&self` run concurrently, methods taking `&mut self` one at a
//! time, in the order their calls arrived. A call from a method into its
//! own component that would wait for the lock the caller holds (from a
//! `&mut self` method, or to a `&mut self` procedure) fails at once with
//! `wamp.error.canceled` instead of waiting for itself.

pub(crate) mod args;
pub(crate) mod blocking;
pub(crate) mod data;
pub(crate) mod description;
mod handle;
mod host;
mod host_config;
pub(crate) mod registry;
pub(crate) mod state;

use std::rc::Rc;

use futures_util::future::LocalBoxFuture;

pub use data::Data;
use data::DataNeed;
pub(crate) use description::{ComponentState, Description};
pub use handle::{ComponentHandle, MessageReply, Receive};
pub use host::{Host, RunningHost};
pub use host_config::HostConfig;
use state::StateLock;

use crate::auth::Identity;
use crate::client::driver::{HookFn, Hooks, SessionActor, Start};
use crate::client::Session;
use crate::Error;

/// A WAMP component: what `#[wamp::component]` implements for the type of
/// its impl block, and what the [`Host`] runs. Its hidden methods belong
/// to the macro; implementing the trait by hand is not supported.
pub trait Component: Sized + 'static {
    /// The component's name, for logs.
    fn name() -> &'static str;

    /// The realm it joins; the host's default realm when `None`.
    fn realm() -> Option<&'static str> {
        None
    }

    /// The application data its handlers take (generated).
    #[doc(hidden)]
    fn data_needs() -> Vec<DataNeed> {
        Vec::new()
    }

    /// Describes the component over its shared state (generated).
    #[doc(hidden)]
    fn describe(state: ComponentState<Self>) -> Description;

    /// How the host builds the component's session: on any thread if the
    /// component is `Send` (generated, see `registry::SendProbe`).
    #[doc(hidden)]
    fn starter(self) -> registry::Starter {
        registry::Starter::Here(Box::new(move |start, timeout| session(self, start, timeout)))
    }
}

/// Builds the session actor that runs `component` over `start` (where the
/// realm to join is already chosen).
pub(crate) fn session<C: Component>(
    component: C,
    start: Start,
    call_timeout: Option<std::time::Duration>,
) -> SessionActor {
    let state: ComponentState<C> = Rc::new(StateLock::new(component));
    let description = C::describe(state.clone());
    SessionActor::new(start, hooks(C::name(), description), call_timeout).attach(state)
}

/// The session hooks for a description: the setup registers every
/// declared procedure and subscription (a repeat after a reconnect finds
/// them restored); the component's own hooks follow.
fn hooks(name: &'static str, description: Description) -> Hooks {
    let Description { procedures, subscriptions, hooks } = description;
    let procedures = Rc::new(procedures);
    let subscriptions = Rc::new(subscriptions);
    let setup: HookFn = Rc::new(move |ctx: Session| -> LocalBoxFuture<'static, Result<(), Error>> {
        let procedures = procedures.clone();
        let subscriptions = subscriptions.clone();
        Box::pin(async move {
            for p in procedures.iter() {
                let registered = ctx.register_method(&p.uri, p.options.clone(), p.access, p.handler.clone());
                registered.await.map_err(|e| {
                    Error::new(e.uri.clone(), format!("component {name} cannot register '{}': {e}", p.uri))
                })?;
            }
            for s in subscriptions.iter() {
                ctx.subscribe_handler(&s.uri, s.options.clone(), s.handler.clone()).await.map_err(|e| {
                    Error::new(
                        e.uri.clone(),
                        format!("component {name} cannot subscribe to '{}': {e}", s.uri),
                    )
                })?;
            }
            tracing::info!(component = name, session = ctx.session_id(), "component ready");
            Ok(())
        })
    });
    Hooks { setup: Some(setup), ..hooks }
}

/// How an in-process component identifies itself to the realm.
pub(crate) fn local_identity(name: &str) -> Identity {
    Identity {
        authid: name.to_owned(),
        authrole: "trusted".into(),
        authmethod: "trusted".into(),
        authprovider: "static".into(),
    }
}
