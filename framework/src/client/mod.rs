//! The client: a WAMP session seen from the application's side.
//!
//! A session is driven by an actor of its own (the session actor). It
//! reaches its router through a link: in-process (straight to a realm
//! actor of the embedded router, no encoding) or over WebSocket (JSON or
//! MessagePack, with reconnect). Code running inside the session (procedure
//! handlers, event handlers, hooks) uses a [`Session`]; code anywhere else
//! uses a [`Client`], which is `Send`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wamp::Error> {
//! use wamp::client::{Client, ConnectOptions};
//!
//! let client = Client::connect(ConnectOptions::new("ws://127.0.0.1:8080/ws", "realm1")).await?;
//! let sum: i64 = client.call("com.example.add2", (2, 3)).await?;
//! client.publish("com.example.hello", ("Hello, world!",)).await?;
//! client.leave().await;
//! # Ok(()) }
//! ```

mod caller;
pub(crate) mod core;
mod credentials;
pub(crate) mod details;
pub(crate) mod driver;
mod features;
pub(crate) mod holding;
mod invocation;
pub(crate) mod link;
mod options;
pub(crate) mod payload;
pub(crate) mod pool_call;
mod progressive;
mod queue;
mod reply;
pub(crate) mod session;
mod tasks;
pub(crate) mod watchdog;
mod websocket;

use actix::{Actor, Addr};
use futures_util::future::{select, Either, LocalBoxFuture};
use serde::de::DeserializeOwned;

pub use crate::transport::proxy::Proxy;
pub use caller::Caller;
pub use credentials::{CredentialSettings, Credentials, KeyFileError, MAX_PBKDF2_ITERATIONS};
pub use details::{CallDetails, EventDetails, SessionInfo};
pub use invocation::{Interrupted, Interruption};
pub use options::{
    CallOptions, InvokePolicy, MatchPolicy, PublishOptions, RegisterOptions, SubscribeOptions,
};
pub use payload::{from_payload, to_payload, Arguments, IntoArguments, Kwargs};
pub use progressive::{CallProgress, CallStream, InputCall};
pub use session::{Registration, Session, Subscription, MAX_HANDLERS_IN_FLIGHT, ROUTER_TIMEOUT_GRACE};
pub use tasks::TaskHandle;

pub(crate) use driver::{Hooks, SessionActor, Start};
pub(crate) use holding::StateAccess;
pub(crate) use session::{EventFn, ProcedureFn};
pub(crate) use watchdog::DEFAULT_SLOW_HANDLER_MS;
pub use websocket::{ConnectOptions, ReconnectPolicy};

use crate::protocol::{Id, Uri};
use crate::Error;

/// A `Send` handle on a client session, usable from any thread.
#[derive(Clone, Debug)]
pub struct Client {
    actor: Addr<SessionActor>,
    /// The session's identity ([`Session::identity`]; 0 if unknown).
    session: usize,
}

/// The answers of a call made with [`Client::call_progressive`]: each
/// partial result, then the final result or an error, then the end.
///
/// What [`CallStream`] is for a [`Session`], usable on any thread (it is
/// `Send`): the client's session forwards the answers to it.
#[derive(Debug)]
pub struct ClientCallStream {
    receiver: tokio::sync::mpsc::Receiver<Result<CallProgress, Error>>,
}

impl ClientCallStream {
    /// Waits for the final result, skipping partial ones.
    pub async fn finish(mut self) -> Result<Arguments, Error> {
        while let Some(answer) = self.receiver.recv().await {
            if let CallProgress::Final(result) = answer? {
                return Ok(result);
            }
        }
        Err(Error::lost())
    }
}

impl futures_util::Stream for ClientCallStream {
    type Item = Result<CallProgress, Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.receiver.poll_recv(cx)
    }
}

fn gone(e: actix::MailboxError) -> Error {
    Error::transport(format!("the session has ended ({e})"))
}

impl Client {
    /// Connects to a router over WebSocket and joins; returns once joined
    /// (or once the reconnect policy gives up, or the router refuses).
    /// Must be called within an actix system.
    pub async fn connect(options: ConnectOptions) -> Result<Client, Error> {
        let timeout = options.call_timeout;
        let client = Client::start(SessionActor::new(Start::Remote(options), Hooks::default(), timeout));
        client.joined().await?;
        Ok(client)
    }

    /// Starts a session actor on the current arbiter.
    pub(crate) fn start(actor: SessionActor) -> Client {
        let session = actor.context().identity();
        Client { actor: actor.start(), session }
    }

    /// The session's identity ([`Session::identity`]; 0 if unknown).
    pub(crate) fn identity(&self) -> usize {
        self.session
    }

    /// Wraps the address of a running session actor.
    pub(crate) fn from_addr(actor: Addr<SessionActor>, session: usize) -> Client {
        Client { actor, session }
    }

    /// Whether the session is over for good (it left, or gave up
    /// reconnecting); a session that is reconnecting has not ended.
    pub fn has_ended(&self) -> bool {
        !self.actor.connected()
    }

    /// Waits until the session is joined and set up (a component's
    /// procedures and subscriptions are in place); returns what WELCOME
    /// said, or why the session could not join or be set up.
    pub async fn joined(&self) -> Result<SessionInfo, Error> {
        self.actor.send(driver::WaitJoined).await.map_err(gone)?
    }

    /// Runs `f` with the session's [`Session`] on the session's thread and
    /// waits for the future it returns: for what only code inside the
    /// session can do, from anywhere.
    ///
    /// ```no_run
    /// # async fn demo(client: wamp::client::Client) -> Result<(), wamp::Error> {
    /// let id = client.with_session(|session| async move { session.session_id() }).await?;
    /// # let _ = id; Ok(()) }
    /// ```
    pub async fn with_session<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(Session) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = T> + 'static,
    {
        let run = move |session: Session| -> LocalBoxFuture<'static, T> { Box::pin(f(session)) };
        self.actor.send(driver::WithSession::new(run)).await.map_err(gone)
    }

    /// Runs `f` with the session's [`Session`] on the session's thread,
    /// without waiting for it (nothing happens if the session has ended).
    pub(crate) fn with_session_detached<F>(&self, f: F)
    where
        F: FnOnce(Session) -> futures_util::future::LocalBoxFuture<'static, ()> + Send + 'static,
    {
        self.actor.do_send(driver::WithSession::new(f));
    }

    /// Calls a procedure (see [`Session::call`]).
    pub async fn call<T>(&self, procedure: impl Into<Uri>, args: impl IntoArguments) -> Result<T, Error>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let procedure = procedure.into();
        let payload = args.into_payload()?;
        let result = self.call_payload(procedure, payload, CallOptions::default()).await?;
        payload::result_as(result)
    }

    /// Calls a procedure with full control (see [`Session::call_with`]).
    /// Dropping the returned future gives the call up inside the session
    /// too (and cancels it at the router), as for [`Session::call_with`].
    pub async fn call_with(
        &self,
        procedure: impl Into<Uri>,
        args: impl IntoArguments,
        options: CallOptions,
    ) -> Result<Arguments, Error> {
        let procedure = procedure.into();
        let payload = args.into_payload()?;
        self.call_payload(procedure, payload, options).await.map(Arguments::from_payload)
    }

    /// [`Client::call_with`], the arguments and the result as payloads:
    /// arguments held as a Rust value go on as they are to a session in
    /// this process (see [`Session::call_with`]), and so may the result.
    pub(crate) async fn call_payload(
        &self,
        procedure: Uri,
        payload: crate::protocol::Payload,
        options: CallOptions,
    ) -> Result<crate::protocol::Payload, Error> {
        let (mut tx, rx) = tokio::sync::oneshot::channel();
        let run = driver::WithSession::new(move |ctx: Session| -> LocalBoxFuture<'static, ()> {
            Box::pin(async move {
                let call = std::pin::pin!(ctx.call_payload(procedure, payload, options));
                let outcome = match select(call, std::pin::pin!(tx.closed())).await {
                    Either::Left((outcome, _)) => Some(outcome),
                    // Nobody waits any more: dropping the call gives it up.
                    Either::Right(_) => None,
                };
                if let Some(outcome) = outcome {
                    let _ = tx.send(outcome);
                }
            })
        });
        self.actor.do_send(run);
        rx.await.map_err(|_| Error::transport("the session has ended"))?
    }

    /// Calls a procedure asking for progressive results (see
    /// [`Session::call_progressive`]); the answers come through a stream
    /// usable on any thread. Dropping it before its end cancels the call.
    pub fn call_progressive(
        &self,
        procedure: impl Into<Uri>,
        args: impl IntoArguments,
        options: CallOptions,
    ) -> ClientCallStream {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let payload = match args.into_payload() {
            Ok(payload) => payload,
            Err(e) => {
                // The stream yields the error, then ends.
                let _ = tx.try_send(Err(e));
                return ClientCallStream { receiver: rx };
            }
        };
        let procedure = procedure.into();
        let forward = driver::WithSession::new(
            move |ctx: Session| -> futures_util::future::LocalBoxFuture<'static, ()> {
                Box::pin(async move {
                    use futures_util::StreamExt as _;
                    let mut answers = ctx.call_progressive(procedure, payload, options);
                    loop {
                        let answer = tokio::select! {
                            answer = answers.next() => answer,
                            () = tx.closed() => return,
                        };
                        let Some(answer) = answer else { return };
                        if tx.send(answer).await.is_err() {
                            return;
                        }
                    }
                })
            },
        );
        // The session runs the forwarding as a task of its own; a session
        // that has ended drops it, which ends the stream.
        self.actor.do_send(forward);
        ClientCallStream { receiver: rx }
    }

    /// Publishes an event (see [`Session::publish`]).
    pub async fn publish(&self, topic: impl Into<Uri>, args: impl IntoArguments) -> Result<(), Error> {
        self.publish_with(topic, args, PublishOptions::default()).await.map(|_| ())
    }

    /// Publishes with full control (see [`Session::publish_with`]).
    pub async fn publish_with(
        &self,
        topic: impl Into<Uri>,
        args: impl IntoArguments,
        options: PublishOptions,
    ) -> Result<Option<Id>, Error> {
        let topic = topic.into();
        let payload = args.into_payload()?;
        self.with_session(move |ctx| Box::pin(async move { ctx.publish_with(topic, payload, options).await }))
            .await?
    }

    /// Subscribes a handler that may run on any thread.
    pub async fn subscribe<F, Fut>(
        &self,
        topic: impl Into<Uri>,
        options: SubscribeOptions,
        handler: F,
    ) -> Result<Subscription, Error>
    where
        F: Fn(Arguments, EventDetails) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + 'static,
    {
        let topic = topic.into();
        self.with_session(move |ctx| Box::pin(async move { ctx.subscribe(topic, options, handler).await }))
            .await?
    }

    /// Registers a procedure handler that may run on any thread.
    pub async fn register<F, Fut>(
        &self,
        procedure: impl Into<Uri>,
        options: RegisterOptions,
        handler: F,
    ) -> Result<Registration, Error>
    where
        F: Fn(Arguments, CallDetails) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Arguments, Error>> + 'static,
    {
        let procedure = procedure.into();
        self.with_session(move |ctx| Box::pin(async move { ctx.register(procedure, options, handler).await }))
            .await?
    }

    /// Ends a subscription.
    pub async fn unsubscribe(&self, subscription: Subscription) -> Result<(), Error> {
        self.with_session(move |ctx| Box::pin(async move { ctx.unsubscribe(subscription).await })).await?
    }

    /// Ends a registration.
    pub async fn unregister(&self, registration: Registration) -> Result<(), Error> {
        self.with_session(move |ctx| Box::pin(async move { ctx.unregister(registration).await })).await?
    }

    /// Leaves the realm for good (no reconnect, also while reconnecting)
    /// and returns once the session is over: over WebSocket, once the
    /// router answered GOODBYE or the link stopped waiting for it (two
    /// seconds).
    pub async fn leave(&self) {
        let _ = self.actor.send(driver::LeaveSession).await;
    }
}
