//! The client side of a WAMP session, free of I/O.
//!
//! [`ClientCore`] numbers requests, remembers what each one was for, and
//! turns the router's answers into [`ClientEffect`]s: complete this request,
//! run that procedure, deliver this event. It also remembers every
//! subscription and registration the session made so they can be restored
//! after a reconnect.
//!
//! The core is generic over `R`, what the driver keeps per request to
//! answer its waiter (a reply slot; a label in tests), and `H`, the
//! handler of a subscription or registration.

use std::collections::BTreeMap;

use super::link::Closed;
use crate::router::IdMap;
use requests::Requests;

use crate::protocol::{code, errors, options, Dict, Id, Payload, Uri, Value, WampMessage};

mod requests;

/// How a request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// RESULT of a CALL.
    Result {
        /// RESULT.Details.
        details: Dict,
        /// The returned args and kwargs.
        payload: Payload,
    },
    /// PUBLISHED: the publication id.
    Published(Id),
    /// SUBSCRIBED: the router's subscription id.
    Subscribed(Id),
    /// UNSUBSCRIBED.
    Unsubscribed,
    /// REGISTERED: the router's registration id.
    Registered(Id),
    /// UNREGISTERED.
    Unregistered,
    /// ERROR from the router or the callee.
    Error {
        /// The error URI.
        error: String,
        /// ERROR.Details.
        details: Dict,
        /// The error's args and kwargs.
        payload: Payload,
    },
    /// The session ended before an answer came: the router ended it
    /// (its GOODBYE or ABORT), or the link was lost (`None`).
    Lost(Option<Closed>),
}

/// What the driver must do.
#[derive(Debug)]
pub enum ClientEffect<R, H> {
    /// Send this message to the router.
    Send(WampMessage),
    /// Answer the waiter of a request.
    Complete(R, Outcome),
    /// Run a registered procedure; answer with YIELD, or with
    /// [`ClientCore::yield_error`], using `request`.
    Invoke {
        /// The handler of the registration.
        handler: H,
        /// The INVOCATION request id.
        request: Id,
        /// INVOCATION.Details.
        details: Dict,
        /// The call's args and kwargs.
        payload: Payload,
    },
    /// A progressive RESULT of a call that asked for them
    /// (`receive_progress`); the call stays pending.
    Progress {
        /// The CALL request id.
        request: Id,
        /// The partial result.
        payload: Payload,
    },
    /// A further INVOCATION of a progressive call invocation in flight:
    /// more input for the handler already running for `request`.
    Input {
        /// The INVOCATION request id.
        request: Id,
        /// Whether more input follows.
        progress: bool,
        /// The chunk's args and kwargs.
        payload: Payload,
    },
    /// The router interrupts the invocation `request` (`call_canceling`).
    Interrupt {
        /// The INVOCATION request id.
        request: Id,
        /// `kill` (the router waits for the callee's answer) or
        /// `killnowait` (it does not).
        mode: String,
        /// Why: the INTERRUPT's `reason`, else `wamp.error.canceled`.
        reason: String,
    },
    /// Deliver an event to the handler of a subscription.
    Deliver {
        /// The handler.
        handler: H,
        /// The publication id.
        publication: Id,
        /// EVENT.Details.
        details: Dict,
        /// The event's args and kwargs.
        payload: Payload,
    },
    /// The router broke the protocol; the session must be closed with
    /// GOODBYE `wamp.error.protocol_violation` and this explanation.
    Violation(String),
}

/// A request waiting for the router.
#[derive(Debug)]
enum Pending<R> {
    /// A CALL; `progressive` if it asked for progressive results.
    Call {
        reply: R,
        progressive: bool,
    },
    Publish(R),
    /// SUBSCRIBE or REGISTER (the key says which); `restoring` after a
    /// reconnect. Every waiter asking for the same key while it is in
    /// flight joins it rather than sending it again.
    Add {
        key: Key,
        waiters: Vec<R>,
        restoring: bool,
    },
    Unsubscribe(R),
    Unregister(R),
}

/// A subscription or registration as the application asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Subscription (`true`) or registration (`false`).
    pub subscription: bool,
    /// The topic or procedure URI.
    pub uri: String,
    /// The options, in a canonical text form (so equal options compare
    /// equal).
    pub options: String,
}

/// A confirmed subscription or registration: what the application asked
/// for, and a copy of its handler.
#[derive(Debug)]
struct Live<H> {
    key: Key,
    handler: H,
}

#[derive(Debug)]
struct Entry<H> {
    options: Dict,
    handler: H,
    /// The router's id in the current session, once confirmed.
    id: Option<Id>,
}

/// The client session state.
#[derive(Debug)]
pub struct ClientCore<R, H> {
    pending: Requests<Pending<R>>,
    /// What the application subscribed to and registered, in the order
    /// made (restored in that order).
    entries: BTreeMap<Key, Entry<H>>,
    order: Vec<Key>,
    /// The confirmed subscriptions and registrations by router id, with
    /// their handlers at hand for each EVENT and INVOCATION.
    by_subscription: IdMap<Live<H>>,
    by_registration: IdMap<Live<H>>,
    /// Progressive call invocations that take more input: their
    /// INVOCATION request ids.
    inputs: crate::router::FastSet<Id>,
}

impl<R, H> Default for ClientCore<R, H> {
    fn default() -> Self {
        ClientCore {
            pending: Requests::default(),
            entries: BTreeMap::new(),
            order: Vec::new(),
            by_subscription: IdMap::default(),
            by_registration: IdMap::default(),
            inputs: Default::default(),
        }
    }
}

impl Key {
    fn new(subscription: bool, uri: &str, options: &Dict) -> Self {
        let options = serde_json::to_string(&Value::Dict(options.clone())).unwrap_or_default();
        Key { subscription, uri: uri.to_owned(), options }
    }
}

impl<R, H: Clone> ClientCore<R, H> {
    /// An empty session state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a CALL. With `receive_progress` in `options`, progressive
    /// results come as [`ClientEffect::Progress`] before the final one.
    pub fn call(
        &mut self,
        procedure: impl Into<Uri>,
        options: Dict,
        payload: Payload,
        reply: R,
    ) -> (Id, WampMessage) {
        let progressive = options::Schema::flag(&options, "receive_progress", false);
        let request = self.pending.add(Pending::Call { reply, progressive });
        (request, WampMessage::Call { request, options, procedure: procedure.into(), payload })
    }

    /// A further CALL of the progressive call invocation `request` (which
    /// was started with `progress` in its options); `progress` says
    /// whether more follow. `None` if the call is no longer pending.
    pub fn call_chunk(
        &self,
        request: Id,
        procedure: impl Into<Uri>,
        progress: bool,
        payload: Payload,
    ) -> Option<WampMessage> {
        if !matches!(self.pending.get(request), Some(Pending::Call { .. })) {
            return None;
        }
        let mut options = Dict::new();
        if progress {
            options.insert("progress".into(), Value::Bool(true));
        }
        Some(WampMessage::Call { request, options, procedure: procedure.into(), payload })
    }

    /// Forgets a CALL whose waiter gave up (timeout or drop); a late answer
    /// is then ignored.
    pub fn abandon(&mut self, request: Id) -> Option<R> {
        match self.pending.take(request) {
            Some(Pending::Call { reply: r, .. } | Pending::Publish(r)) => Some(r),
            Some(other) => {
                // Only calls and publications can be abandoned; keep others.
                self.pending.put(request, other);
                None
            }
            None => None,
        }
    }

    /// Starts a PUBLISH. With `acknowledge` the reply completes on
    /// PUBLISHED; without, the caller completes it right away and `reply`
    /// is returned.
    pub fn publish(
        &mut self,
        topic: impl Into<Uri>,
        options: Dict,
        payload: Payload,
        reply: R,
    ) -> (WampMessage, Option<R>) {
        let acknowledge = options.get("acknowledge").and_then(Value::as_bool).unwrap_or(false);
        let (request, reply) = if acknowledge {
            (self.pending.add(Pending::Publish(reply)), None)
        } else {
            (self.pending.unused(), Some(reply))
        };
        (WampMessage::Publish { request, options, topic: topic.into(), payload }, reply)
    }

    /// Starts a SUBSCRIBE. If the session already holds this subscription
    /// (same topic and options) the new handler replaces the old one and
    /// `reply` is answered at once with [`Outcome::Subscribed`] (`Err`); if
    /// the same subscription is on its way, `reply` waits for it
    /// (`Ok(None)`); otherwise the message to send (`Ok(Some)`).
    pub fn subscribe(
        &mut self,
        topic: &str,
        options: Dict,
        handler: H,
        reply: R,
    ) -> Result<Option<WampMessage>, (R, Outcome)> {
        self.add(true, topic, options, handler, reply)
    }

    /// Starts a REGISTER (see [`ClientCore::subscribe`] for repeats).
    pub fn register(
        &mut self,
        procedure: &str,
        options: Dict,
        handler: H,
        reply: R,
    ) -> Result<Option<WampMessage>, (R, Outcome)> {
        self.add(false, procedure, options, handler, reply)
    }

    fn add(
        &mut self,
        subscription: bool,
        uri: &str,
        options: Dict,
        handler: H,
        reply: R,
    ) -> Result<Option<WampMessage>, (R, Outcome)> {
        let key = Key::new(subscription, uri, &options);
        let mut handler = Some(handler);
        if let Some(entry) = self.entries.get_mut(&key) {
            if let Some(h) = handler.take() {
                entry.handler = h;
            }
            if let Some(id) = entry.id {
                let live = if subscription { &mut self.by_subscription } else { &mut self.by_registration };
                if let Some(live) = live.get_mut(&id) {
                    live.handler = entry.handler.clone();
                }
                let outcome = if subscription { Outcome::Subscribed(id) } else { Outcome::Registered(id) };
                return Err((reply, outcome));
            }
            let in_flight = self.pending.values_mut().find_map(|p| match p {
                Pending::Add { key: k, waiters, .. } if *k == key => Some(waiters),
                _ => None,
            });
            if let Some(waiters) = in_flight {
                waiters.push(reply);
                return Ok(None);
            }
        }
        let request =
            self.pending.add(Pending::Add { key: key.clone(), waiters: vec![reply], restoring: false });
        let message = if subscription {
            WampMessage::Subscribe { request, options: options.clone(), topic: uri.into() }
        } else {
            WampMessage::Register { request, options: options.clone(), procedure: uri.into() }
        };
        if let Some(handler) = handler {
            self.order.push(key.clone());
            self.entries.insert(key, Entry { options, handler, id: None });
        }
        Ok(Some(message))
    }

    /// Whether the session holds (or is making) a registration of exactly
    /// the URI `procedure` (with any options).
    pub fn holds_registration(&self, procedure: &str) -> bool {
        let first = Key { subscription: false, uri: procedure.to_owned(), options: String::new() };
        self.entries.range(first..).next().is_some_and(|(key, _)| !key.subscription && key.uri == procedure)
    }

    /// Starts an UNSUBSCRIBE of a router subscription id.
    pub fn unsubscribe(&mut self, subscription: Id, reply: R) -> Result<WampMessage, (R, Outcome)> {
        let Some(Live { key, .. }) = self.by_subscription.remove(&subscription) else {
            return Err((reply, not_held(errors::NO_SUCH_SUBSCRIPTION, "subscription", subscription)));
        };
        self.forget(&key);
        let request = self.pending.add(Pending::Unsubscribe(reply));
        Ok(WampMessage::Unsubscribe { request, subscription })
    }

    /// Starts an UNREGISTER of a router registration id.
    pub fn unregister(&mut self, registration: Id, reply: R) -> Result<WampMessage, (R, Outcome)> {
        let Some(Live { key, .. }) = self.by_registration.remove(&registration) else {
            return Err((reply, not_held(errors::NO_SUCH_REGISTRATION, "registration", registration)));
        };
        self.forget(&key);
        let request = self.pending.add(Pending::Unregister(reply));
        Ok(WampMessage::Unregister { request, registration })
    }

    fn forget(&mut self, key: &Key) {
        self.entries.remove(key);
        self.order.retain(|k| k != key);
    }

    /// The ERROR answering an INVOCATION.
    pub fn yield_error(&self, request: Id, error: String, details: Dict, payload: Payload) -> WampMessage {
        WampMessage::Error { request_type: code::INVOCATION, request, details, error, payload }
    }

    /// Handles a message from the router. A message with one effect (a
    /// call's result, an invocation or an event for a handler this
    /// session holds: nearly every message) returns it, for the caller to
    /// carry out without queuing it; the effects of the others are added
    /// to `out`, in order.
    #[must_use = "a message's only effect is returned, not added to `out`"]
    pub fn receive(
        &mut self,
        message: WampMessage,
        out: &mut Vec<ClientEffect<R, H>>,
    ) -> Option<ClientEffect<R, H>> {
        // A defined detail of the wrong type is the router's protocol
        // violation, named before anything reads the details.
        let details = match &message {
            WampMessage::Event { details, .. } => Some((&options::EVENT, details)),
            WampMessage::Invocation { details, .. } => Some((&options::INVOCATION, details)),
            WampMessage::Result { details, .. } => Some((&options::RESULT, details)),
            WampMessage::Error { details, .. } => Some((&options::ERROR, details)),
            WampMessage::Interrupt { options, .. } => Some((&options::INTERRUPT, options)),
            _ => None,
        };
        if let Some(Err(e)) = details.map(|(schema, dict)| schema.check(dict)) {
            out.push(ClientEffect::Violation(e.to_string()));
            return None;
        }
        // The messages of calls and events here; the others apart, so that
        // this stays small enough to enter and leave cheaply.
        match message {
            WampMessage::Result { request, details, payload } => match self.pending.take(request) {
                Some(Pending::Call { reply, progressive })
                    if options::Schema::flag(&details, "progress", false) =>
                {
                    self.pending.put(request, Pending::Call { reply, progressive });
                    if progressive {
                        out.push(ClientEffect::Progress { request, payload });
                    } else {
                        out.push(ClientEffect::Violation(
                            "a progressive RESULT for a call that did not ask for progressive results".into(),
                        ));
                    }
                }
                Some(Pending::Call { reply, .. }) => {
                    return Some(ClientEffect::Complete(reply, Outcome::Result { details, payload }))
                }
                other => self.unexpected(request, other, "RESULT", out),
            },
            WampMessage::Event { subscription, publication, details, payload } => {
                match self.by_subscription.get(&subscription) {
                    Some(live) => {
                        return Some(ClientEffect::Deliver {
                            handler: live.handler.clone(),
                            publication,
                            details,
                            payload,
                        })
                    }
                    None => tracing::debug!(subscription, "EVENT for a subscription no longer held"),
                }
            }
            WampMessage::Invocation { request, registration, details, payload } => {
                let progress = options::Schema::flag(&details, "progress", false);
                if !self.inputs.is_empty() && self.inputs.contains(&request) {
                    if !progress {
                        self.inputs.remove(&request);
                    }
                    out.push(ClientEffect::Input { request, progress, payload });
                    return None;
                }
                match self.by_registration.get(&registration) {
                    Some(live) => {
                        if progress {
                            self.inputs.insert(request);
                        }
                        return Some(ClientEffect::Invoke {
                            handler: live.handler.clone(),
                            request,
                            details,
                            payload,
                        });
                    }
                    None => out.push(ClientEffect::Send(self.yield_error(
                        request,
                        errors::NO_SUCH_REGISTRATION.into(),
                        Dict::new(),
                        Payload::args(vec![Value::from("this session no longer holds the registration")]),
                    ))),
                }
            }
            other => self.receive_other(other, out),
        }
        None
    }

    /// [`ClientCore::receive`] for the messages that are not calls'
    /// results, invocations or events.
    #[inline(never)]
    fn receive_other(&mut self, message: WampMessage, out: &mut Vec<ClientEffect<R, H>>) {
        match message {
            WampMessage::Published { request, publication } => match self.pending.take(request) {
                Some(Pending::Publish(r)) => {
                    out.push(ClientEffect::Complete(r, Outcome::Published(publication)))
                }
                other => self.unexpected(request, other, "PUBLISHED", out),
            },
            WampMessage::Subscribed { request, subscription } => match self.pending.take(request) {
                Some(Pending::Add { key, waiters, .. }) if key.subscription => {
                    self.confirm(&key, subscription);
                    for r in waiters {
                        out.push(ClientEffect::Complete(r, Outcome::Subscribed(subscription)));
                    }
                }
                other => self.unexpected(request, other, "SUBSCRIBED", out),
            },
            WampMessage::Registered { request, registration } => match self.pending.take(request) {
                Some(Pending::Add { key, waiters, .. }) if !key.subscription => {
                    self.confirm(&key, registration);
                    for r in waiters {
                        out.push(ClientEffect::Complete(r, Outcome::Registered(registration)));
                    }
                }
                other => self.unexpected(request, other, "REGISTERED", out),
            },
            WampMessage::Unsubscribed { request } => match self.pending.take(request) {
                Some(Pending::Unsubscribe(r)) => out.push(ClientEffect::Complete(r, Outcome::Unsubscribed)),
                // A router-initiated revocation carries no request of ours.
                other => self.unexpected(request, other, "UNSUBSCRIBED", out),
            },
            WampMessage::Unregistered { request } => match self.pending.take(request) {
                Some(Pending::Unregister(r)) => out.push(ClientEffect::Complete(r, Outcome::Unregistered)),
                other => self.unexpected(request, other, "UNREGISTERED", out),
            },
            WampMessage::Error { request_type, request, details, error, payload } => {
                match self.pending.take(request) {
                    Some(Pending::Add { key, waiters, restoring }) => {
                        if restoring {
                            tracing::warn!(uri = %key.uri, %error, "could not restore after reconnect");
                        }
                        self.forget(&key);
                        for r in waiters {
                            let outcome = Outcome::Error {
                                error: error.clone(),
                                details: details.clone(),
                                payload: payload.clone(),
                            };
                            out.push(ClientEffect::Complete(r, outcome));
                        }
                    }
                    Some(
                        Pending::Call { reply: r, .. }
                        | Pending::Publish(r)
                        | Pending::Unsubscribe(r)
                        | Pending::Unregister(r),
                    ) => out.push(ClientEffect::Complete(r, Outcome::Error { error, details, payload })),
                    None => tracing::debug!(request_type, request, %error, "ERROR for an unknown request"),
                }
            }
            WampMessage::Interrupt { request, options } => {
                self.inputs.remove(&request);
                let text = |key: &str, default: &str| {
                    options.get(key).and_then(Value::as_str).unwrap_or(default).to_owned()
                };
                out.push(ClientEffect::Interrupt {
                    request,
                    mode: text("mode", "kill"),
                    reason: text("reason", errors::CANCELED),
                });
            }
            other => out.push(ClientEffect::Violation(format!(
                "a client does not accept {} messages in an open session",
                other.name()
            ))),
        }
    }

    fn confirm(&mut self, key: &Key, id: Id) {
        if let Some(entry) = self.entries.get_mut(key) {
            entry.id = Some(id);
            let live = Live { key: key.clone(), handler: entry.handler.clone() };
            if key.subscription {
                self.by_subscription.insert(id, live);
            } else {
                self.by_registration.insert(id, live);
            }
        }
    }

    fn unexpected(
        &mut self,
        request: Id,
        pending: Option<Pending<R>>,
        what: &str,
        out: &mut Vec<ClientEffect<R, H>>,
    ) {
        match pending {
            None => tracing::debug!(request, "{what} for an unknown or abandoned request"),
            Some(p) => {
                // Put it back and report the router's mistake.
                self.pending.put(request, p);
                out.push(ClientEffect::Violation(format!("{what} answers a request of another kind")));
            }
        }
    }

    /// The session ended: every waiting request is answered with
    /// [`Outcome::Lost`], and the router ids are forgotten (the entries are
    /// kept for [`ClientCore::rejoined`]).
    pub fn disconnected(&mut self, by_router: Option<Closed>, out: &mut Vec<ClientEffect<R, H>>) {
        for (_, p) in self.pending.drain() {
            match p {
                Pending::Call { reply: r, .. }
                | Pending::Publish(r)
                | Pending::Unsubscribe(r)
                | Pending::Unregister(r) => {
                    out.push(ClientEffect::Complete(r, Outcome::Lost(by_router.clone())))
                }
                Pending::Add { key, waiters, restoring } => {
                    // Never confirmed: it will not be restored either. A
                    // restore in flight stays for the next session.
                    if !restoring {
                        self.forget(&key);
                    }
                    for r in waiters {
                        out.push(ClientEffect::Complete(r, Outcome::Lost(by_router.clone())));
                    }
                }
            }
        }
        self.by_subscription.clear();
        self.by_registration.clear();
        self.inputs.clear();
        for entry in self.entries.values_mut() {
            entry.id = None;
        }
    }

    /// A new session joined after a reconnect: SUBSCRIBE and REGISTER again
    /// everything the application held, in the order it was made.
    pub fn rejoined(&mut self, out: &mut Vec<ClientEffect<R, H>>) {
        let keys = self.order.clone();
        for key in keys {
            let Some(options) = self.entries.get(&key).map(|e| e.options.clone()) else { continue };
            let request =
                self.pending.add(Pending::Add { key: key.clone(), waiters: Vec::new(), restoring: true });
            let message = if key.subscription {
                WampMessage::Subscribe { request, options, topic: key.uri.clone() }
            } else {
                WampMessage::Register { request, options, procedure: key.uri.clone() }
            };
            out.push(ClientEffect::Send(message));
        }
    }

    /// How many requests wait for an answer.
    #[cfg(test)]
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }
}

/// A progressive YIELD: a partial result of the INVOCATION `request`,
/// more to follow.
pub fn yield_progress(request: Id, payload: Payload) -> WampMessage {
    WampMessage::Yield { request, options: Dict::from([("progress".to_owned(), Value::Bool(true))]), payload }
}

fn not_held(uri: &str, what: &str, id: Id) -> Outcome {
    Outcome::Error {
        error: uri.into(),
        details: Dict::new(),
        payload: Payload::args(vec![Value::from(format!("this session holds no {what} {id}"))]),
    }
}

#[cfg(test)]
mod tests;
