//! [`ComponentHandle`]: reaching a running component from anywhere, the
//! way an actix `Addr` reaches an actor: messages of the application's
//! own types, and closures over its state.

use std::marker::PhantomData;

use futures_util::future::LocalBoxFuture;

use super::{Component, ComponentState};
use crate::client::driver::effects::{contained, contained_future};
use crate::client::holding::{self, StateAccess};
use crate::client::session::OwedRead;
use crate::client::watchdog::{watched, OwnHandler, Watched};
use crate::client::{Client, Session};
use crate::protocol::errors;
use crate::Error;

/// A `Send` handle on a running component, its counterpart of an actix
/// `Addr`. Messages ([`send`](Self::send), handled by the component's
/// `#[wamp::message]` methods) and closures ([`read`](Self::read),
/// [`write`](Self::write)) run on the component's thread, under the
/// component's lock and in turn with its procedures and event handlers:
/// use it from an HTTP handler, another thread, spawned work or a test to
/// reach the component without going through WAMP.
///
/// Get one from [`RunningHost::component`](super::RunningHost::component),
/// or inside the component from [`Session::component`]. A message handler
/// or closure that panics gives `wamp.error.runtime_error`, as a procedure
/// would; once the component has stopped, every request fails with an
/// error of kind [`Transport`](crate::ErrorKind::Transport).
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

    /// Fails a request that a method of this same component makes and
    /// waits for, when the method holds the state in a way the request
    /// must wait for: it could never be answered. `Ok(true)` for a request
    /// between two `&self` sides, whose read the method's hold must let
    /// through ([`OwedRead`]).
    fn refuse_self_deadlock(&self, needs: StateAccess, what: impl FnOnce() -> String) -> Result<bool, Error> {
        match holding::held_by_session(self.client.identity()) {
            Some(held) if held.excludes(needs) => Err(Error::new(
                errors::CANCELED,
                format!(
                    "{what} needs {component}'s state as `{}`, and the `{}` method of {component} waiting \
                     for it holds the state until it returns: it could never be answered; send without \
                     waiting (`do_send`), wait in spawned work (`Session::spawn`), or call the method \
                     directly",
                    needs.receiver(),
                    held.receiver(),
                    what = what(),
                    component = C::name(),
                ),
            )
            .of_kind(crate::ErrorKind::Invalid)),
            Some(_) => Ok(true),
            None => Ok(false),
        }
    }

    /// The component's session, to call, publish or subscribe as it.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends `message` to the component's `#[wamp::message]` method for
    /// its type and waits for the method's answer, as `Addr::send` does.
    ///
    /// ```no_run
    /// # async fn demo(running: &wamp::component::RunningHost) -> Result<(), wamp::Error> {
    /// #[derive(Default)]
    /// struct Counter { hits: u64 }
    ///
    /// /// Sets the counter, answers the previous count.
    /// struct Reset(u64);
    ///
    /// #[wamp::component(inventory = false)]
    /// impl Counter {
    ///     #[wamp::message]
    ///     fn reset(&mut self, Reset(to): Reset) -> u64 {
    ///         std::mem::replace(&mut self.hits, to)
    ///     }
    /// }
    ///
    /// let counter = running.component::<Counter>().expect("the host runs a Counter");
    /// let before: u64 = counter.send(Reset(0)).await?;
    /// # Ok(()) }
    /// ```
    pub fn send<M, R>(&self, message: M) -> MessageReply<R>
    where
        C: Receive<M, Reply = R>,
        M: Send + 'static,
        R: Send + 'static,
    {
        // Checked when awaited, where the waiting happens (the future may
        // be made in a method and awaited in work it spawns).
        let handle = self.clone();
        MessageReply(Box::pin(async move {
            let owed = handle.refuse_self_deadlock(C::ACCESS, || {
                format!("the message `{}`", std::any::type_name::<M>())
            })?;
            handle
                .client
                .with_session(move |ctx| {
                    let owed = owed.then(|| OwedRead::new(&ctx.shared));
                    Box::pin(async move {
                        let answer = receive::<C, M>(ctx, message).await;
                        drop(owed);
                        answer
                    })
                })
                .await?
        }))
    }

    /// Sends `message` without waiting for the answer, as `Addr::do_send`
    /// does; a handler's error is logged. Nothing happens if the component
    /// has stopped.
    pub fn do_send<M>(&self, message: M)
    where
        C: Receive<M>,
        M: Send + 'static,
    {
        self.client.with_session_detached(move |ctx| {
            Box::pin(async move {
                if let Err(error) = receive::<C, M>(ctx, message).await {
                    tracing::warn!(component = C::name(), %error, "a message handler failed");
                }
            })
        });
    }

    /// Runs `f` with shared access to the state (beside `&self` methods).
    pub async fn read<R: Send + 'static>(
        &self,
        f: impl FnOnce(&C) -> R + Send + 'static,
    ) -> Result<R, Error> {
        let owed = self.refuse_self_deadlock(StateAccess::Read, || "`read`".to_owned())?;
        self.client
            .with_session(move |ctx| {
                let owed = owed.then(|| OwedRead::new(&ctx.shared));
                Box::pin(async move {
                    let state = state_of::<C>(&ctx)?;
                    let guard = crate::__private::read_owed(&state, &ctx).await;
                    drop(owed);
                    let name = OwnHandler { component: C::name(), what: "ComponentHandle::read" };
                    watched(&name, || contained(|| f(&guard)))
                })
            })
            .await?
    }

    /// Runs `f` with exclusive access to the state (between method calls).
    pub async fn write<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut C) -> R + Send + 'static,
    ) -> Result<R, Error> {
        // `Ok(true)` cannot come for a write.
        self.refuse_self_deadlock(StateAccess::Write, || "`write`".to_owned())?;
        self.client
            .with_session(move |ctx| {
                Box::pin(async move {
                    let state = state_of::<C>(&ctx)?;
                    let mut guard = state.write().await;
                    let name = OwnHandler { component: C::name(), what: "ComponentHandle::write" };
                    watched(&name, || contained(|| f(&mut guard)))
                })
            })
            .await?
    }
}

/// The answer of a component's message handler: the future
/// [`ComponentHandle::send`] returns. It is `Send` and `'static` (spawn it,
/// or keep it and await it later); nothing is sent until it is first
/// polled.
///
/// ```no_run
/// # async fn demo(running: &wamp::component::RunningHost) -> Result<(), wamp::Error> {
/// #[derive(Default)]
/// struct Counter { hits: u64 }
///
/// struct Hits;
///
/// #[wamp::component(inventory = false)]
/// impl Counter {
///     #[wamp::message]
///     fn hits(&self, _: Hits) -> u64 {
///         self.hits
///     }
/// }
///
/// let counter = running.component::<Counter>().expect("the host runs a Counter");
/// // Awaited on a task of its own, which needs a `Send + 'static` future.
/// let task = tokio::spawn(counter.send(Hits));
/// let hits: u64 = task.await.expect("the task ran")?;
/// # let _ = hits; Ok(()) }
/// ```
#[must_use = "the message is sent when the reply is awaited"]
pub struct MessageReply<R>(std::pin::Pin<Box<dyn std::future::Future<Output = Result<R, Error>> + Send>>);

impl<R> std::future::Future for MessageReply<R> {
    type Output = Result<R, Error>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl<R> std::fmt::Debug for MessageReply<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MessageReply")
    }
}

/// A component that handles messages of type `M`: implemented by
/// `#[wamp::component]` for each `#[wamp::message]` method, whose
/// parameter (besides `&Session` and `Data<T>`) is the message.
/// [`ComponentHandle::send`] delivers one.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `#[wamp::message]` method taking a `{M}`",
    label = "`{Self}` does not handle `{M}`",
    note = "add a method marked `#[wamp::message]` whose parameter (besides `&Session` and `Data<T>`) is \
            the message, in the component's `#[wamp::component]` impl block"
)]
pub trait Receive<M>: Component {
    /// What the method returns.
    type Reply;

    /// How the method takes the component's state (generated).
    #[doc(hidden)]
    const ACCESS: crate::client::StateAccess;

    /// Runs the method for `message` under the component's lock
    /// (generated).
    #[doc(hidden)]
    fn receive(
        state: ComponentState<Self>,
        message: M,
        session: Session,
    ) -> LocalBoxFuture<'static, Result<Self::Reply, Error>>;
}

impl Session {
    /// A `'static`, `Send` handle on this session's component if it is a
    /// `C`: for work a handler spawns or hands to another thread, which
    /// reaches the component again through messages or closures. `None`
    /// if the session runs no `C`, or has stopped.
    pub fn component<C: Component>(&self) -> Option<ComponentHandle<C>> {
        self.attached::<super::StateLock<C>>()?;
        self.client().map(ComponentHandle::new)
    }
}

/// Runs the component's handler of `message` on its thread, a panic
/// turned into an error.
async fn receive<C: Receive<M>, M>(ctx: Session, message: M) -> Result<C::Reply, Error> {
    let state = state_of::<C>(&ctx)?;
    let name = OwnHandler { component: C::name(), what: std::any::type_name::<M>() };
    contained_future(Watched::new(name, C::receive(state, message, ctx))).await?
}

fn state_of<C: Component>(ctx: &Session) -> Result<ComponentState<C>, Error> {
    ctx.attached::<super::StateLock<C>>().ok_or_else(|| {
        Error::new(errors::CANCELED, format!("the session does not run a {} component", C::name()))
            .of_kind(crate::ErrorKind::Invalid)
    })
}
