//! What a procedure or event handler learns besides its arguments.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::invocation::{CallControl, Interrupted, Interruption};
use super::payload::{from_payload, result_payload};
use super::Session;
use crate::protocol::{Dict, Id, Value};
use crate::Error;

fn string(details: &Dict, key: &str) -> Option<String> {
    details.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Details of an invocation, injected into procedures that ask for them;
/// also the handle through which a procedure sends partial results, reads
/// further input and learns that its call was interrupted.
///
/// ```
/// use wamp::prelude::*;
///
/// /// Counts to `n`, one partial result per step if the caller takes them.
/// async fn count(n: u32, details: CallDetails) -> Result<u32, Error> {
///     for i in 1..n {
///         details.send_progress(i)?;
///     }
///     Ok(n)
/// }
/// # let _ = count;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallDetails {
    /// The INVOCATION request id.
    pub request: Id,
    /// The procedure called, when the registration is a pattern.
    pub procedure: Option<String>,
    /// The caller's session id, if the router discloses it.
    pub caller: Option<Id>,
    /// The caller's authid, if disclosed.
    pub caller_authid: Option<String>,
    /// The caller's authrole, if disclosed.
    pub caller_authrole: Option<String>,
    /// INVOCATION.Details as received.
    pub details: Dict,
    /// The call in progress (empty for details made with
    /// [`CallDetails::new`]), which the methods reach.
    pub(crate) call: CallControl,
}

impl CallDetails {
    /// Reads the details of an INVOCATION.
    pub fn new(request: Id, details: Dict) -> Self {
        CallDetails::for_call(request, details, CallControl::default())
    }

    /// Reads the details of the INVOCATION that `call` controls (made in
    /// place: the struct is large enough that moving it costs a copy).
    pub(crate) fn for_call(request: Id, details: Dict, call: CallControl) -> Self {
        CallDetails {
            request,
            procedure: string(&details, "procedure"),
            caller: details.get("caller").and_then(Value::as_u64),
            caller_authid: string(&details, "caller_authid"),
            caller_authrole: string(&details, "caller_authrole"),
            details,
            call,
        }
    }

    /// Whether the caller takes partial results
    /// (`progressive_call_results`).
    pub fn receives_progress(&self) -> bool {
        self.call.receives_progress()
    }

    /// Sends `value` as a partial result, converted as a procedure's
    /// return value is, if the caller takes them; `Ok(false)` if it does
    /// not (the final result must then carry everything). Fails once the
    /// call was interrupted.
    pub fn send_progress(&self, value: impl Serialize) -> Result<bool, Error> {
        if !self.receives_progress() {
            return Ok(false);
        }
        self.call.send_progress(result_payload(&value)?)
    }

    /// Resolves when the router interrupts the call (the caller canceled
    /// it, left, or its time ran out). A procedure that asks keeps running
    /// when that happens and answers as it sees fit; one that does not is
    /// dropped at the interruption, and the call answered with its error.
    ///
    /// ```
    /// use wamp::prelude::*;
    ///
    /// async fn slow(details: CallDetails) -> Result<String, Error> {
    ///     let interrupted = details.interrupted();
    ///     tokio::select! {
    ///         () = tokio::time::sleep(std::time::Duration::from_secs(60)) => Ok("done".into()),
    ///         why = interrupted => Err(why.to_error()),
    ///     }
    /// }
    /// # let _ = slow;
    /// ```
    pub fn interrupted(&self) -> Interrupted {
        self.call.interrupted()
    }

    /// The interruption, if the router interrupted the call.
    pub fn interruption(&self) -> Option<Interruption> {
        self.call.interruption()
    }

    /// Whether the call is a progressive call invocation: more input
    /// follows the arguments, read with [`CallDetails::next_input`].
    pub fn takes_input(&self) -> bool {
        self.call.takes_input()
    }

    /// The next input of a progressive call invocation, converted as call
    /// results are; `None` after the last one (at once for other calls,
    /// and in a handler running on the blocking pool: one that is not
    /// `async` could not wait for it).
    pub async fn next_input<T: DeserializeOwned>(&self) -> Option<Result<T, Error>> {
        self.call.next_input().await.map(from_payload)
    }
}

/// An INVOCATION as a procedure's handler receives it. Most handlers
/// never look at the details: they are read into [`CallDetails`] (four
/// lookups, three strings, a handle on the session's state) only for a
/// handler that takes them.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct IncomingCall {
    request: Id,
    details: Dict,
    /// The router session the call came in on; `None` for a call made by
    /// hand.
    session: Option<Id>,
    receive_progress: bool,
}

impl IncomingCall {
    /// The invocation `request` that came in on the router session
    /// `session`.
    #[inline]
    pub(crate) fn new(request: Id, details: Dict, session: Id, receive_progress: bool) -> Self {
        IncomingCall { request, details, session: Some(session), receive_progress }
    }

    /// An invocation made by hand, as in tests of handlers: its details
    /// control nothing, as [`CallDetails::new`]'s do.
    pub fn detached(request: Id, details: Dict) -> Self {
        IncomingCall { request, details, session: None, receive_progress: false }
    }

    /// The call's details, controlling the call through `session` (the
    /// session the handler runs in).
    pub fn into_details(self, session: &Session) -> CallDetails {
        let IncomingCall { request, details, session: router_session, receive_progress } = self;
        let control = match router_session {
            Some(router_session) => {
                CallControl::new(request, router_session, receive_progress, session.shared.clone())
            }
            None => CallControl::default(),
        };
        CallDetails::for_call(request, details, control)
    }
}

/// Details of an event, injected into handlers that ask for them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventDetails {
    /// The publication id.
    pub publication: Id,
    /// The topic, when the subscription is a pattern.
    pub topic: Option<String>,
    /// The publisher's session id, if disclosed.
    pub publisher: Option<Id>,
    /// The publisher's authid, if disclosed.
    pub publisher_authid: Option<String>,
    /// The publisher's authrole, if disclosed.
    pub publisher_authrole: Option<String>,
    /// EVENT.Details as received.
    pub details: Dict,
}

impl EventDetails {
    /// Reads the details of an EVENT.
    pub fn new(publication: Id, details: Dict) -> Self {
        EventDetails {
            publication,
            topic: string(&details, "topic"),
            publisher: details.get("publisher").and_then(Value::as_u64),
            publisher_authid: string(&details, "publisher_authid"),
            publisher_authrole: string(&details, "publisher_authrole"),
            details,
        }
    }
}

/// Who the session is, as the router's WELCOME said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionInfo {
    /// The session id.
    pub id: Id,
    /// The realm joined.
    pub realm: String,
    /// The authentication id.
    pub authid: String,
    /// The role.
    pub authrole: String,
    /// WELCOME.Details as received.
    pub details: Dict,
}

impl SessionInfo {
    /// Reads a WELCOME.
    pub fn new(id: Id, realm: &str, details: Dict) -> Self {
        SessionInfo {
            id,
            realm: string(&details, "realm").unwrap_or_else(|| realm.to_owned()),
            authid: string(&details, "authid").unwrap_or_default(),
            authrole: string(&details, "authrole").unwrap_or_default(),
            details,
        }
    }
}
