//! [`Session`]: what a component's handlers and hooks use to act on their
//! session.

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use super::core::{ClientCore, Outcome};
use super::details::{CallDetails, EventDetails, IncomingCall, SessionInfo};
use super::holding::{self, StateAccess};
use super::invocation::InvocationState;
use super::link::LinkSender;
use super::options::{CallOptions, PublishOptions, RegisterOptions, SubscribeOptions};
use super::payload::{result_as, Arguments};
use super::progressive::{CallStream, InputCall};
use super::queue::CallQueue;
use super::reply::{self, ReplyReceiver, ReplySender, Unanswered};
use super::IntoArguments;
use crate::protocol::{errors, Dict, Id, Payload, Uri, Value, WampMessage};
use crate::{Error, ErrorKind};

/// A registered procedure's handler.
pub type ProcedureFn = Rc<dyn Fn(Payload, IncomingCall, Session) -> Completion<Result<Payload, Error>>>;

/// A subscription's handler.
pub type EventFn = Rc<dyn Fn(Payload, EventDetails, Session) -> Completion<()>>;

/// What a handler gives back: its outcome at once (a handler that did not
/// have to wait, with nothing boxed), or a future of it.
pub enum Completion<T> {
    /// Finished.
    Now(T),
    /// Still running; the session polls it (and answers when it ends).
    Later(LocalBoxFuture<'static, T>),
}

impl<T> Completion<T> {
    /// A future's outcome: `Now` if it finishes on its first poll.
    pub fn of(future: impl Future<Output = T> + 'static) -> Self {
        let mut future: LocalBoxFuture<'static, T> = Box::pin(future);
        match futures_util::FutureExt::now_or_never(&mut future) {
            Some(value) => Completion::Now(value),
            None => Completion::Later(future),
        }
    }
}

/// Awaiting a completion gives its outcome, whenever it comes.
impl<T: 'static> std::future::IntoFuture for Completion<T> {
    type Output = T;
    type IntoFuture = futures_util::future::Either<std::future::Ready<T>, LocalBoxFuture<'static, T>>;

    fn into_future(self) -> Self::IntoFuture {
        match self {
            Completion::Now(value) => futures_util::future::Either::Left(std::future::ready(value)),
            Completion::Later(future) => futures_util::future::Either::Right(future),
        }
    }
}

impl<T> std::fmt::Debug for Completion<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Completion::Now(_) => "Completion::Now",
            Completion::Later(_) => "Completion::Later",
        })
    }
}

/// The handler of a subscription or registration.
#[derive(Clone)]
pub enum Handler {
    /// Answers INVOCATIONs of the procedure named second.
    Procedure(ProcedureFn, Rc<str>),
    /// Receives EVENTs of the topic named second.
    Event(EventFn, Rc<str>),
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Handler::Procedure(..) => "Handler::Procedure",
            Handler::Event(..) => "Handler::Event",
        })
    }
}

pub(crate) type Reply = ReplySender<Outcome>;

/// State shared by a session's driver and every [`Session`] of it. All on
/// the driver's thread: no locks.
pub(crate) struct SessionState {
    pub(crate) core: RefCell<ClientCore<Reply, Handler>>,
    pub(crate) link: RefCell<Option<LinkSender>>,
    pub(crate) info: RefCell<Option<SessionInfo>>,
    pub(crate) call_timeout: Option<Duration>,
    /// The procedures this session registered for its component's methods,
    /// and how each takes the component's state.
    pub(crate) methods: RefCell<crate::router::FastMap<String, StateAccess>>,
    /// Calls in flight from a `&self` method of this session's component
    /// (holding its state) to a `&self` procedure of the same component:
    /// while there are any, that procedure's read goes past waiting
    /// writers ([`StateLock::try_read_past_waiting_writers`]).
    ///
    /// [`StateLock::try_read_past_waiting_writers`]: crate::component::state::StateLock::try_read_past_waiting_writers
    pub(crate) reads_owed: std::cell::Cell<u32>,
    /// What the session runs for, if anything (a component's state).
    pub(crate) attached: std::cell::OnceCell<Rc<dyn std::any::Any>>,
    /// Handler tasks still running: past a limit the session takes no
    /// more deliveries (see [`HandlerGate`]).
    pub(crate) handlers: HandlerGate,
    /// Where the partial results of this session's progressive calls go,
    /// by CALL request id.
    pub(crate) partials: RefCell<crate::router::IdMap<Rc<CallQueue<Payload>>>>,
    /// The invocations this session's procedures are still answering, by
    /// INVOCATION request id (only those that did not finish at once).
    pub(crate) invocations: RefCell<crate::router::FastMap<Id, InvocationState>>,
    /// The invocation (request, session) whose handler is running for the
    /// first time, inside the delivery of its INVOCATION.
    pub(crate) first_run: std::cell::Cell<Option<(Id, Id)>>,
    /// The application data of the host that runs the session.
    pub(crate) app_data: std::cell::OnceCell<crate::component::data::AppData>,
    /// The tasks the session's code started ([`Session::spawn`]).
    pub(crate) tasks: super::tasks::Tasks,
    /// The session's actor, once started (for handles on it made inside).
    pub(crate) address: std::cell::OnceCell<actix::WeakAddr<super::SessionActor>>,
}

/// Counts a session's handler tasks. While [`MAX_HANDLERS_IN_FLIGHT`] run,
/// a session takes no more deliveries but answers to its own requests:
/// in-process they wait in its bounded queue, whose producers the realm
/// slows down, as for a peer that stops reading; remote they wait in its
/// connection's window, and the connection then stops reading.
#[derive(Default)]
pub(crate) struct HandlerGate {
    running: std::cell::Cell<usize>,
    /// Call queues that are full (see [`super::queue`]).
    held: std::cell::Cell<usize>,
    /// The delivery stream, waiting for room.
    waiter: RefCell<Option<std::task::Waker>>,
}

/// How much longer than a call's timeout a session waits when the router
/// times the call too (`call_timeout`): the router's answer comes first.
pub const ROUTER_TIMEOUT_GRACE: Duration = Duration::from_millis(500);

/// How many `async` handler calls one session runs at once before it stops
/// taking deliveries.
pub const MAX_HANDLERS_IN_FLIGHT: usize = 1024;

impl HandlerGate {
    /// Whether the session takes deliveries.
    pub(crate) fn has_room(&self) -> bool {
        self.running.get() < MAX_HANDLERS_IN_FLIGHT && self.held.get() == 0
    }

    /// A call queue is full: no deliveries until it is released.
    pub(crate) fn hold(&self) {
        self.held.set(self.held.get() + 1);
    }

    /// A full call queue was read down.
    pub(crate) fn release(&self) {
        self.held.set(self.held.get().saturating_sub(1));
        self.wake_if_room();
    }

    fn wake_if_room(&self) {
        if self.has_room() {
            if let Some(waker) = self.waiter.borrow_mut().take() {
                waker.wake();
            }
        }
    }

    /// Like [`HandlerGate::has_room`], remembering `waker` to wake when room
    /// is made.
    pub(crate) fn poll_room(&self, waker: &std::task::Waker) -> bool {
        if self.has_room() {
            return true;
        }
        *self.waiter.borrow_mut() = Some(waker.clone());
        false
    }
}

impl SessionState {
    /// A handler task started; the returned guard ends it when dropped
    /// (finished, panicked or canceled).
    pub(crate) fn handler_started(self: &Rc<Self>) -> HandlerRunning {
        self.handlers.running.set(self.handlers.running.get() + 1);
        HandlerRunning { shared: self.clone() }
    }
}

/// One running handler task of a session.
pub(crate) struct HandlerRunning {
    shared: Rc<SessionState>,
}

impl Drop for HandlerRunning {
    fn drop(&mut self) {
        let gate = &self.shared.handlers;
        gate.running.set(gate.running.get().saturating_sub(1));
        gate.wake_if_room();
    }
}

impl SessionState {
    /// The state of a session that has not joined yet.
    pub(crate) fn new(call_timeout: Option<Duration>) -> Self {
        SessionState {
            core: RefCell::new(ClientCore::new()),
            link: RefCell::new(None),
            info: RefCell::new(None),
            call_timeout,
            methods: RefCell::default(),
            reads_owed: std::cell::Cell::new(0),
            attached: std::cell::OnceCell::new(),
            handlers: HandlerGate::default(),
            partials: RefCell::default(),
            invocations: RefCell::default(),
            first_run: std::cell::Cell::new(None),
            app_data: std::cell::OnceCell::new(),
            tasks: Default::default(),
            address: std::cell::OnceCell::new(),
        }
    }
}

/// A subscription made through a [`Session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription {
    /// The router's subscription id (of the session that made it).
    pub id: Id,
}

/// A registration made through a [`Session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    /// The router's registration id (of the session that made it).
    pub id: Id,
}

/// A handle on a session for the code that runs inside it: procedures,
/// event handlers and lifecycle hooks. Cheap to clone; it lives on the
/// session's thread (use [`Client`](super::Client) from elsewhere).
///
/// Every request fails rather than waits forever: when the session ends,
/// when it is not connected, and (for calls) after the call timeout.
#[derive(Clone)]
pub struct Session {
    pub(crate) shared: Rc<SessionState>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("session", &self.session_id()).finish()
    }
}

impl Session {
    /// A handle that belongs to no session: every request fails with
    /// `wamp.error.canceled`. For calling a component's handlers directly
    /// in unit tests.
    pub fn detached() -> Self {
        Session { shared: Rc::new(SessionState::new(None)) }
    }

    /// The session's id, while joined.
    /// The application data of type `T` that the host running this
    /// session was given ([`Host::app_data`](crate::Host::app_data)).
    pub fn app_data<T: 'static>(&self) -> Option<crate::Data<T>> {
        self.shared.app_data.get().and_then(|data| data.get::<T>())
    }

    /// The session's id, while joined.
    pub fn session_id(&self) -> Option<Id> {
        self.shared.info.borrow().as_ref().map(|i| i.id)
    }

    /// The session as the router's WELCOME described it, while joined.
    pub fn info(&self) -> Option<SessionInfo> {
        self.shared.info.borrow().clone()
    }

    /// The realm, while joined.
    pub fn realm(&self) -> Option<String> {
        self.shared.info.borrow().as_ref().map(|i| i.realm.clone())
    }

    /// The authid, while joined.
    pub fn authid(&self) -> Option<String> {
        self.shared.info.borrow().as_ref().map(|i| i.authid.clone())
    }

    /// The authrole, while joined.
    pub fn authrole(&self) -> Option<String> {
        self.shared.info.borrow().as_ref().map(|i| i.authrole.clone())
    }

    /// A `Send` handle on this session, for work on other threads; `None`
    /// once the session's actor has stopped, and for a detached session.
    pub fn client(&self) -> Option<super::Client> {
        self.shared.address.get()?.upgrade().map(|addr| super::Client::from_addr(addr, self.identity()))
    }

    /// What the session runs for, if it is a `T` (see
    /// [`SessionActor::attach`](super::SessionActor::attach)).
    pub(crate) fn attached<T: std::any::Any>(&self) -> Option<Rc<T>> {
        self.shared.attached.get().cloned()?.downcast::<T>().ok()
    }

    /// Tells sessions apart (the address of their shared state).
    pub(crate) fn identity(&self) -> usize {
        Rc::as_ptr(&self.shared) as usize
    }

    /// Fails a call that could never be answered: one from a method of this
    /// session's component to a procedure of the same component, when the
    /// caller holds the state in a way the procedure must wait for.
    /// `Ok(true)` for a call between two `&self` methods of the component,
    /// whose read the caller's hold must let through ([`OwedRead`]).
    #[inline]
    fn refuse_self_deadlock(&self, procedure: &str) -> Result<bool, Error> {
        match holding::held_by(self) {
            None => Ok(false),
            Some(held) => self.call_while_holding(held, procedure),
        }
    }

    /// [`Session::refuse_self_deadlock`] for a call made while this
    /// session's state is held (rarely: out of line).
    #[inline(never)]
    fn call_while_holding(&self, held: StateAccess, procedure: &str) -> Result<bool, Error> {
        let Some(needs) = self.shared.methods.borrow().get(procedure).copied() else { return Ok(false) };
        if !self.shared.core.borrow().holds_registration(procedure) {
            return Ok(false);
        }
        if !held.excludes(needs) {
            return Ok(true);
        }
        Err(Error::new(
            errors::CANCELED,
            format!(
                "the call to '{procedure}' could never be answered: it is a `{}` method of this same \
                 component, and the `{}` method making the call holds the component's state until the \
                 call returns; call the method directly, or take `&self` in both (with interior \
                 mutability for what changes)",
                needs.receiver(),
                held.receiver(),
            ),
        ))
    }

    pub(crate) fn send(&self, message: WampMessage) -> Result<(), Error> {
        match self.shared.link.borrow().as_ref() {
            Some(link) if link.send(message) => Ok(()),
            _ => Err(Error::transport("the session is not connected to a router")),
        }
    }

    /// Sends what the session produces on its own (a publication),
    /// counted in the link's gate (see [`Session::room`]).
    fn send_counted(&self, message: WampMessage) -> Result<(), Error> {
        match self.shared.link.borrow().as_ref() {
            Some(link) if link.send_counted(message) => Ok(()),
            _ => Err(Error::transport("the session is not connected to a router")),
        }
    }

    /// Waits until the link takes more: what this session sent before is
    /// on its way (less than 4 MiB waits to be routed, or to be written to
    /// the socket) and no destination of the realm holds the session (an
    /// outbound queue it fills is over its limit). This is how a
    /// publishing loop is slowed instead of queueing without bound.
    async fn room(&self) -> Result<(), Error> {
        std::future::poll_fn(|cx| match self.shared.link.borrow().as_ref() {
            Some(link) => link.gate().poll_open_shared(cx).map(Ok),
            None => Poll::Ready(Err(Error::transport("the session is not connected to a router"))),
        })
        .await
    }

    /// Gives up the call `request`: it is forgotten (a late answer is
    /// ignored) and, if the router takes CANCEL (`call_canceling` in its
    /// WELCOME) and `session` is still the one that made the call, the
    /// router is asked to cancel it (mode `killnowait`: the callee is
    /// interrupted, the caller hears no more of it).
    pub(crate) fn give_up(&self, request: Id, session: Option<Id>) {
        // Never panics, even if dropped while the core is in use.
        let Ok(mut core) = self.shared.core.try_borrow_mut() else { return };
        core.abandon(request);
        drop(core);
        if session.is_none()
            || session != self.session_id()
            || !self.router_offers("dealer", "call_canceling")
        {
            return;
        }
        let options = Dict::from([("mode".to_owned(), Value::from("killnowait"))]);
        if let Ok(link) = self.shared.link.try_borrow() {
            if let Some(link) = link.as_ref() {
                link.send(WampMessage::Cancel { request, options });
            }
        }
    }

    /// Whether the router announced `feature` for its `role` (`broker` or
    /// `dealer`) in WELCOME, while joined.
    pub fn router_offers(&self, role: &str, feature: &str) -> bool {
        let info = self.shared.info.borrow();
        let offered = info.as_ref().and_then(|i| {
            let role = i.details.get("roles")?.as_dict()?.get(role)?.as_dict()?;
            role.get("features")?.as_dict()?.get(feature)?.as_bool()
        });
        offered == Some(true)
    }

    /// The CALL options on the wire (`options`' own, with the timeout in
    /// milliseconds if the router times calls), and how long the session
    /// itself waits. When the router times the call, its answer
    /// (`wamp.error.timeout`, the callee interrupted) decides; the session
    /// gives up [`ROUTER_TIMEOUT_GRACE`] later, should that answer not come.
    fn call_options(&self, options: CallOptions) -> (Dict, Option<Duration>) {
        let timeout = options.timeout.or(self.shared.call_timeout);
        let mut dict = options.into_dict();
        match timeout {
            Some(limit) if self.router_offers("dealer", "call_timeout") => {
                let ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX).max(1);
                dict.insert("timeout".into(), Value::from(ms));
                (dict, Some(limit.saturating_add(ROUTER_TIMEOUT_GRACE)))
            }
            _ => (dict, timeout),
        }
    }

    /// Whether the session is joined to a router in this process, which
    /// takes Rust values as they are ([`Payload::Native`]).
    pub(crate) fn in_process(&self) -> bool {
        self.shared.link.borrow().as_ref().is_some_and(LinkSender::in_process)
    }

    fn not_connected(&self) -> Result<(), Error> {
        if self.shared.link.borrow().is_some() {
            Ok(())
        } else {
            Err(Error::transport("the session is not connected to a router"))
        }
    }

    /// Calls a procedure with `args` (a tuple or list: positional; a struct
    /// or map: keyword; [`Arguments`] for both; see [`IntoArguments`]) and
    /// converts the result to `T`.
    ///
    /// The procedure, as every procedure or topic a session's methods
    /// take, is anything that becomes a [`Uri`]: a string literal (any
    /// `&'static str`) goes into the message as it is, without a copy; a
    /// `String` moves in. A name borrowed for less than `'static` is
    /// passed owned (`name.to_owned()`).
    ///
    /// A procedure of a component in this process that returns exactly a
    /// `T` hands its result over as it is, without converting it to WAMP
    /// values and back (docs/components.md, "Within one process").
    ///
    /// ```no_run
    /// # async fn demo(session: wamp::Session) -> Result<(), wamp::Error> {
    /// let sum: i64 = session.call("com.example.add2", (2, 3)).await?;
    ///
    /// let app = "example";
    /// let product: i64 = session.call(format!("com.{app}.mul2"), (2, 3)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call<T: DeserializeOwned + 'static>(
        &self,
        procedure: impl Into<Uri>,
        args: impl IntoArguments,
    ) -> Result<T, Error> {
        result_as(self.call_payload(procedure.into(), args, CallOptions::default()).await?)
    }

    /// Calls a procedure with options; the result comes with all its
    /// positional and keyword arguments.
    ///
    /// ```no_run
    /// # async fn demo(session: wamp::Session) -> Result<(), wamp::Error> {
    /// use std::time::Duration;
    /// use wamp::client::CallOptions;
    ///
    /// let options = CallOptions { timeout: Some(Duration::from_secs(2)), ..Default::default() };
    /// let result = session.call_with("com.example.add2", (2, 3), options).await?;
    /// let sum: i64 = result.get(0)?;
    /// # Ok(()) }
    /// ```
    pub async fn call_with(
        &self,
        procedure: impl Into<Uri>,
        args: impl IntoArguments,
        options: CallOptions,
    ) -> Result<Arguments, Error> {
        self.call_payload(procedure.into(), args, options).await.map(Arguments::from_payload)
    }

    /// [`Session::call_with`], the result as its payload. Arguments held
    /// as a Rust value ([`Payload::Native`]) go as they are only on a link
    /// within this process.
    pub(crate) async fn call_payload(
        &self,
        procedure: Uri,
        args: impl IntoArguments,
        options: CallOptions,
    ) -> Result<Payload, Error> {
        let mut payload = args.into_payload()?;
        if payload.is_native() && !self.in_process() {
            payload = payload.materialize()?;
        }
        self.not_connected()?;
        let _owed = self.refuse_self_deadlock(&procedure)?.then(|| OwedRead::new(&self.shared));
        let (dict, timeout) = self.call_options(options);
        let (tx, rx) = reply::slot();
        let (request, message) = self.shared.core.borrow_mut().call(procedure, dict, payload, tx);
        // The session id before the call is routed: a call routed at once
        // may be answered, and the session may even have left, by the time
        // `flush` returns.
        let session = self.session_id();
        let sent = self.shared.link.borrow().as_ref().and_then(|link| link.send_to_flush(message));
        match sent {
            // Nothing of this session is borrowed here: a call routed at
            // once runs its callee and delivers the answer to this session.
            Some(Some(input)) => input.flush(),
            Some(None) => {}
            None => {
                self.shared.core.borrow_mut().abandon(request);
                return Err(Error::transport("the session is not connected to a router"));
            }
        }
        // Until the answer comes, giving up (a timeout, or this future
        // dropped) cancels the call.
        let mut in_flight = InFlight { ctx: self, request, session, answered: false };
        let outcome = match timeout {
            None => rx.await,
            Some(limit) => match tokio::time::timeout(limit, rx).await {
                Ok(outcome) => outcome,
                Err(_) => return Err(Error::timeout(limit)),
            },
        };
        in_flight.answered = true;
        match outcome {
            Ok(Outcome::Result { payload, .. }) => Ok(payload),
            other => Err(failure(other)),
        }
    }

    /// Calls a procedure asking for progressive results
    /// (`receive_progress`): the stream yields each partial result the
    /// callee sends, then the final result (or an error), then ends. The
    /// call's timeout covers the whole stream; dropping the stream early
    /// cancels the call.
    ///
    /// ```no_run
    /// # async fn demo(session: wamp::Session) -> Result<(), wamp::Error> {
    /// use futures_util::StreamExt as _;
    /// use wamp::client::{CallOptions, CallProgress};
    ///
    /// let mut answers = session.call_progressive("com.example.count", (5,), CallOptions::default());
    /// while let Some(answer) = answers.next().await {
    ///     match answer? {
    ///         CallProgress::Partial(step) => println!("step {}", step.get::<u32>(0)?),
    ///         CallProgress::Final(total) => println!("done: {}", total.get::<u32>(0)?),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn call_progressive(
        &self,
        procedure: impl Into<Uri>,
        args: impl IntoArguments,
        options: CallOptions,
    ) -> CallStream {
        match args.into_payload() {
            Ok(payload) => self.start_call(procedure.into(), payload, options, false),
            Err(e) => CallStream::failed(e),
        }
    }

    /// Calls a procedure whose input goes out in pieces (progressive call
    /// invocations): `first` goes with the CALL, the rest through the
    /// returned [`InputCall`]. The router must offer, and the callee
    /// announce, `progressive_call_invocations`.
    ///
    /// ```no_run
    /// # async fn demo(session: wamp::Session) -> Result<(), wamp::Error> {
    /// use wamp::client::CallOptions;
    ///
    /// let upload = session.call_with_input("com.example.sum", (1,), CallOptions::default());
    /// upload.send((2,))?;
    /// let total: i64 = upload.finish((3,)).await?.get(0)?;
    /// # Ok(()) }
    /// ```
    pub fn call_with_input(
        &self,
        procedure: impl Into<Uri>,
        first: impl IntoArguments,
        options: CallOptions,
    ) -> InputCall {
        let procedure = procedure.into();
        let stream = match first.into_payload() {
            Ok(payload) => self.start_call(procedure.clone(), payload, options, true),
            Err(e) => CallStream::failed(e),
        };
        InputCall::new(procedure, stream)
    }

    /// Starts a call whose answers come as a stream (and whose input is
    /// progressive if `input`).
    fn start_call(&self, procedure: Uri, payload: Payload, options: CallOptions, input: bool) -> CallStream {
        let owed = match self.not_connected().and_then(|()| self.refuse_self_deadlock(&procedure)) {
            Ok(owed) => owed.then(|| OwedRead::new(&self.shared)),
            Err(e) => return CallStream::failed(e),
        };
        let (mut dict, timeout) = self.call_options(options);
        dict.insert("receive_progress".into(), Value::Bool(true));
        if input {
            dict.insert("progress".into(), Value::Bool(true));
        }
        let (tx, rx) = reply::slot();
        let (request, message) = self.shared.core.borrow_mut().call(procedure, dict, payload, tx);
        let partials = Rc::new(CallQueue::new(self.shared.clone()));
        self.shared.partials.borrow_mut().insert(request, partials.clone());
        if let Err(e) = self.send(message) {
            self.shared.core.borrow_mut().abandon(request);
            self.shared.partials.borrow_mut().remove(&request);
            return CallStream::failed(e);
        }
        CallStream::running(self.clone(), request, partials, rx, timeout, owed)
    }

    /// Publishes an event (not acknowledged; the publisher is excluded).
    pub async fn publish(&self, topic: impl Into<Uri>, args: impl IntoArguments) -> Result<(), Error> {
        self.publish_with(topic, args, PublishOptions::default()).await.map(|_| ())
    }

    /// Publishes with options; with `acknowledge` it waits for the router
    /// and returns the publication id.
    ///
    /// ```no_run
    /// # async fn demo(session: wamp::Session) -> Result<(), wamp::Error> {
    /// use wamp::client::PublishOptions;
    ///
    /// // To every subscriber, this session's own included.
    /// let everyone = PublishOptions { exclude_me: Some(false), ..Default::default() };
    /// session.publish_with("com.example.hello", ("Hello, world!",), everyone).await?;
    /// # Ok(()) }
    /// ```
    pub async fn publish_with(
        &self,
        topic: impl Into<Uri>,
        args: impl IntoArguments,
        options: PublishOptions,
    ) -> Result<Option<Id>, Error> {
        let topic = topic.into();
        let payload = args.into_payload()?;
        self.room().await?;
        let (tx, rx) = reply::slot();
        let (message, unacknowledged) =
            self.shared.core.borrow_mut().publish(topic, options.to_dict(), payload, tx);
        self.send_counted(message)?;
        if unacknowledged.is_some() {
            return Ok(None);
        }
        match rx.await {
            Ok(Outcome::Published(id)) => Ok(Some(id)),
            other => Err(failure(other)),
        }
    }

    /// Subscribes `handler` to a topic. The handler receives the event's
    /// arguments and details.
    pub async fn subscribe<F, Fut>(
        &self,
        topic: impl Into<Uri>,
        options: SubscribeOptions,
        handler: F,
    ) -> Result<Subscription, Error>
    where
        F: Fn(Arguments, EventDetails) -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let handler: EventFn = Rc::new(move |payload, details, _ctx| {
            Completion::of(handler(Arguments::from_payload(payload), details))
        });
        self.subscribe_handler(&topic.into(), options, handler).await
    }

    /// Subscribes a raw handler (what the component macros generate).
    pub(crate) async fn subscribe_handler(
        &self,
        topic: &str,
        options: SubscribeOptions,
        handler: EventFn,
    ) -> Result<Subscription, Error> {
        self.not_connected()?;
        let (tx, rx) = reply::slot();
        let added = self.shared.core.borrow_mut().subscribe(
            topic,
            options.to_dict(),
            Handler::Event(handler, topic.into()),
            tx,
        );
        match exchange(self, added, rx).await? {
            Outcome::Subscribed(id) => Ok(Subscription { id }),
            other => Err(failure(Ok(other))),
        }
    }

    /// Registers `handler` as a procedure. It receives the call's arguments
    /// and details and answers with a [`Arguments`] or an [`Error`](struct@crate::Error).
    pub async fn register<F, Fut>(
        &self,
        procedure: impl Into<Uri>,
        options: RegisterOptions,
        handler: F,
    ) -> Result<Registration, Error>
    where
        F: Fn(Arguments, CallDetails) -> Fut + 'static,
        Fut: Future<Output = Result<Arguments, Error>> + 'static,
    {
        let handler: ProcedureFn = Rc::new(move |payload, call: IncomingCall, ctx| {
            let fut = handler(Arguments::from_payload(payload), call.into_details(&ctx));
            Completion::of(async move { fut.await.map(Arguments::into_payload) })
        });
        self.register_handler(&procedure.into(), options, handler).await
    }

    /// Registers a raw handler (what the component macros generate).
    pub(crate) async fn register_handler(
        &self,
        procedure: &str,
        options: RegisterOptions,
        handler: ProcedureFn,
    ) -> Result<Registration, Error> {
        self.not_connected()?;
        let (tx, rx) = reply::slot();
        let added = self.shared.core.borrow_mut().register(
            procedure,
            options.to_dict(),
            Handler::Procedure(handler, procedure.into()),
            tx,
        );
        match exchange(self, added, rx).await? {
            Outcome::Registered(id) => Ok(Registration { id }),
            other => Err(failure(Ok(other))),
        }
    }

    /// Registers a method of this session's component, which takes the
    /// component's state as `access` (what the component macros use).
    pub(crate) async fn register_method(
        &self,
        procedure: &str,
        options: RegisterOptions,
        access: StateAccess,
        handler: ProcedureFn,
    ) -> Result<Registration, Error> {
        // A shared registration may send the call to another session, which
        // can answer it: only a single one surely comes back here.
        if matches!(options.invoke, None | Some(super::InvokePolicy::Single)) {
            self.shared.methods.borrow_mut().insert(procedure.to_owned(), access);
        }
        self.register_handler(procedure, options, handler).await
    }

    /// Ends a subscription.
    pub async fn unsubscribe(&self, subscription: Subscription) -> Result<(), Error> {
        self.not_connected()?;
        let (tx, rx) = reply::slot();
        let started = self.shared.core.borrow_mut().unsubscribe(subscription.id, tx).map(Some);
        match exchange(self, started, rx).await? {
            Outcome::Unsubscribed => Ok(()),
            other => Err(failure(Ok(other))),
        }
    }

    /// Ends a registration.
    pub async fn unregister(&self, registration: Registration) -> Result<(), Error> {
        self.not_connected()?;
        let (tx, rx) = reply::slot();
        let started = self.shared.core.borrow_mut().unregister(registration.id, tx).map(Some);
        match exchange(self, started, rx).await? {
            Outcome::Unregistered => Ok(()),
            other => Err(failure(Ok(other))),
        }
    }

    /// Leaves the realm for good (no reconnect).
    pub fn leave(&self) {
        if let Some(link) = self.shared.link.borrow().as_ref() {
            link.leave();
        }
    }
}

/// Sends a started request (unless it joined one in flight or was
/// answered at once) and waits for its outcome.
async fn exchange(
    ctx: &Session,
    started: Result<Option<WampMessage>, (Reply, Outcome)>,
    rx: ReplyReceiver<Outcome>,
) -> Result<Outcome, Error> {
    match started {
        Ok(Some(message)) => ctx.send(message)?,
        Ok(None) => {}
        Err((tx, outcome)) => {
            let _ = tx.send(outcome);
        }
    }
    rx.await.map_err(|_| Error::lost())
}

/// The error for an outcome that is not the expected success.
pub(crate) fn failure(outcome: Result<Outcome, Unanswered>) -> Error {
    match outcome {
        Ok(Outcome::Error { error, payload, .. }) => Error::from_parts(error, payload),
        Ok(Outcome::Lost(Some(closed))) => Error::ended_by_router(&closed),
        Ok(Outcome::Lost(None)) | Err(_) => Error::lost(),
        Ok(other) => Error::new(errors::PROTOCOL_VIOLATION, format!("unexpected answer {other:?}"))
            .of_kind(ErrorKind::Aborted),
    }
}

/// Counts a request between two `&self` methods of one component (a call
/// of its own procedure, a message to itself, a `read` of its own state)
/// while it is in flight ([`SessionState::reads_owed`]).
pub(crate) struct OwedRead(Rc<SessionState>);

impl OwedRead {
    pub(crate) fn new(shared: &Rc<SessionState>) -> Self {
        shared.reads_owed.set(shared.reads_owed.get() + 1);
        OwedRead(shared.clone())
    }
}

impl Drop for OwedRead {
    fn drop(&mut self) {
        self.0.reads_owed.set(self.0.reads_owed.get().saturating_sub(1));
    }
}

struct InFlight<'a> {
    ctx: &'a Session,
    request: Id,
    session: Option<Id>,
    answered: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if !self.answered {
            self.ctx.give_up(self.request, self.session);
        }
    }
}
