//! [`ComponentHandle`]: reaching a running component's state from
//! anywhere, the way an actix `Addr` reaches an actor.

use std::marker::PhantomData;

use super::{Component, ComponentState};
use crate::client::driver::effects::contained;
use crate::client::{Client, Session};
use crate::protocol::errors;
use crate::Error;

/// A `Send` handle on a running component. Closures given to it run on the
/// component's thread, under the component's lock and in turn with its
/// procedures and event handlers, like messages to an actor: use it from
/// an HTTP handler, another thread, or a test to read or change the
/// component's state without going through WAMP.
///
/// Get one from [`RunningHost::component`](super::RunningHost::component).
/// A closure that panics gives `wamp.error.runtime_error`, as a handler
/// would.
///
/// ```no_run
/// # async fn demo(running: &wamp::component::RunningHost) -> Result<(), wamp::Error> {
/// #[derive(Default)]
/// struct Counter { hits: u64 }
///
/// #[wamp::component(inventory = false)]
/// impl Counter {
///     #[wamp::procedure("com.example.hit")]
///     fn hit(&mut self) -> u64 {
///         self.hits += 1;
///         self.hits
///     }
/// }
///
/// let counter = running.component::<Counter>().expect("the host runs a Counter");
/// counter.write(|c| c.hits = 0).await?;
/// let hits = counter.read(|c| c.hits).await?;
/// # Ok(()) }
/// ```
pub struct ComponentHandle<C> {
    client: Client,
    _component: PhantomData<fn() -> C>,
}

impl<C> Clone for ComponentHandle<C> {
    fn clone(&self) -> Self {
        ComponentHandle { client: self.client.clone(), _component: PhantomData }
    }
}

impl<C> std::fmt::Debug for ComponentHandle<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentHandle").field("component", &std::any::type_name::<C>()).finish()
    }
}

impl<C: Component> ComponentHandle<C> {
    pub(crate) fn new(client: Client) -> Self {
        ComponentHandle { client, _component: PhantomData }
    }

    /// The component's session, to call, publish or subscribe as it.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs `f` with shared access to the state (beside `&self` methods).
    pub async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&C) -> R + Send + 'static,
    ) -> Result<R, Error> {
        self.client
            .with_context(move |ctx| {
                Box::pin(async move {
                    let state = state_of::<C>(&ctx)?;
                    let guard = state.read().await;
                    contained(|| f(&guard))
                })
            })
            .await?
    }

    /// Runs `f` with exclusive access to the state (between method calls).
    pub async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut C) -> R + Send + 'static,
    ) -> Result<R, Error> {
        self.client
            .with_context(move |ctx| {
                Box::pin(async move {
                    let state = state_of::<C>(&ctx)?;
                    let mut guard = state.write().await;
                    contained(|| f(&mut guard))
                })
            })
            .await?
    }
}

fn state_of<C: Component>(ctx: &Session) -> Result<ComponentState<C>, Error> {
    ctx.attached::<super::StateLock<C>>().ok_or_else(|| {
        Error::new(errors::CANCELED, format!("the session does not run a {} component", C::name()))
            .of_kind(crate::ErrorKind::Invalid)
    })
}
