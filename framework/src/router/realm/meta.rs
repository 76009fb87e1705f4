//! The session meta API: procedures under `wamp.session.` that the realm
//! core answers itself, and the `wamp.session.on_join` / `on_leave` events
//! it publishes.
//!
//! A CALL of a `wamp.` procedure never reaches a callee (peers cannot
//! register there): it is answered here, or with
//! `wamp.error.no_such_procedure`.

use std::borrow::Cow;

use super::{RealmCore, RequestError, SessionInfo};
use crate::protocol::{code, errors, Dict, Id, Message, Payload, Value};
use crate::router::outbox::Outbox;

/// Published when a session joins: its details.
pub const ON_JOIN: &str = "wamp.session.on_join";
/// Published when a session leaves: its id, authid and authrole.
pub const ON_LEAVE: &str = "wamp.session.on_leave";

/// The meta procedures this router answers.
pub const PROCEDURES: &[&str] = &[
    "wamp.session.count",
    "wamp.session.list",
    "wamp.session.get",
    "wamp.session.kill",
    "wamp.session.kill_by_authid",
    "wamp.session.kill_by_authrole",
    "wamp.session.kill_all",
];

/// What `wamp.session.get` and `on_join` tell of a session.
pub fn session_details(session: Id, info: &SessionInfo) -> Dict {
    let mut details = Dict::from([("session".to_owned(), Value::from(session))]);
    info.identity.write_details(&mut details);
    details
}

fn invalid(message: impl Into<String>) -> RequestError {
    RequestError::new(errors::INVALID_ARGUMENT, message)
}

/// The optional `filter_authroles|list[string]` argument.
fn authroles(args: &[Value]) -> Result<Option<Vec<&str>>, RequestError> {
    match args.first() {
        None | Some(Value::Null) => Ok(None),
        Some(Value::List(roles)) => roles
            .iter()
            .map(|r| r.as_str().ok_or_else(|| invalid("filter_authroles must be a list of strings")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => {
            Err(invalid(format!("filter_authroles must be a list of strings, got {}", other.kind())))
        }
    }
}

fn session_arg(args: &[Value]) -> Result<Id, RequestError> {
    args.first().and_then(Value::as_u64).ok_or_else(|| invalid("the first argument must be a session id"))
}

fn text_arg<'a>(args: &'a [Value], what: &str) -> Result<&'a str, RequestError> {
    args.first()
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("the first argument must be the {what}")))
}

impl RealmCore {
    /// Answers a CALL of a `wamp.` procedure.
    pub(super) fn meta_call(
        &mut self,
        caller: Id,
        request: Id,
        procedure: &str,
        payload: &Payload,
        out: &mut Outbox,
    ) {
        let args = payload.args_list();
        let result = match procedure {
            "wamp.session.count" => {
                authroles(args).map(|roles| Value::from(self.sessions_with(roles.as_deref()).len() as u64))
            }
            "wamp.session.list" => authroles(args).map(|roles| {
                let mut ids = self.sessions_with(roles.as_deref());
                ids.sort_unstable();
                Value::List(ids.into_iter().map(Value::from).collect())
            }),
            "wamp.session.get" => session_arg(args).and_then(|session| match self.sessions.get(&session) {
                Some(info) => Ok(Value::Dict(session_details(session, info))),
                None => Err(RequestError::new(
                    errors::NO_SUCH_SESSION,
                    format!("no session {session} in this realm"),
                )),
            }),
            "wamp.session.kill" => session_arg(args).and_then(|session| {
                if session == caller || !self.sessions.contains_key(&session) {
                    // The caller is not "another session".
                    return Err(RequestError::new(
                        errors::NO_SUCH_SESSION,
                        format!("no other session {session} in this realm"),
                    ));
                }
                self.kill(caller, vec![session], payload, true, out).map(|_| Value::Null)
            }),
            "wamp.session.kill_by_authid" | "wamp.session.kill_by_authrole" => {
                let by_authid = procedure.ends_with("authid");
                text_arg(args, if by_authid { "authid" } else { "authrole" }).and_then(|wanted| {
                    let mut targets: Vec<Id> = self
                        .sessions
                        .iter()
                        .filter(|(id, info)| {
                            let identity = &info.identity;
                            **id != caller
                                && if by_authid {
                                    identity.authid == wanted
                                } else {
                                    identity.authrole == wanted
                                }
                        })
                        .map(|(id, _)| *id)
                        .collect();
                    targets.sort_unstable();
                    self.kill(caller, targets, payload, true, out).map(|n| Value::from(n as u64))
                })
            }
            "wamp.session.kill_all" => {
                let mut targets: Vec<Id> = self.sessions.keys().copied().filter(|id| *id != caller).collect();
                targets.sort_unstable();
                // Nobody but the caller would be left to hear of it.
                self.kill(caller, targets, payload, false, out).map(|n| Value::from(n as u64))
            }
            _ => Err(RequestError::new(
                errors::NO_SUCH_PROCEDURE,
                format!("no procedure '{procedure}': the router offers {}", PROCEDURES.join(", ")),
            )),
        };
        match result {
            Ok(value) => out.send(
                caller,
                Message::Result { request, details: Dict::new(), payload: Payload::args(vec![value]) },
            ),
            Err(e) => {
                let _ = e.reply(caller, code::CALL, request, out);
            }
        }
    }

    /// The joined sessions, those with one of `authroles` if given.
    fn sessions_with(&self, authroles: Option<&[&str]>) -> Vec<Id> {
        self.sessions
            .iter()
            .filter(|(_, info)| {
                authroles.map_or(true, |roles| roles.contains(&info.identity.authrole.as_str()))
            })
            .map(|(id, _)| *id)
            .collect()
    }

    /// Closes `targets` with GOODBYE (the `reason` and `message` keyword
    /// arguments, or `wamp.close.normal`), if the realm allows it. Returns
    /// how many were closed.
    fn kill(
        &mut self,
        caller: Id,
        targets: Vec<Id>,
        payload: &Payload,
        announce: bool,
        out: &mut Outbox,
    ) -> Result<usize, RequestError> {
        if !self.settings.session_kill {
            return Err(RequestError::new(
                errors::NOT_AUTHORIZED,
                "this router does not let sessions close other sessions (allow_session_kill)",
            ));
        }
        let kwargs = payload.kwargs_dict();
        let reason: Cow<'static, str> = match kwargs.and_then(|k| k.get("reason")) {
            None | Some(Value::Null) => Cow::Borrowed(errors::CLOSE_NORMAL),
            Some(Value::String(uri)) if self.settings.uris.check(uri).is_ok() => Cow::Owned(uri.clone()),
            Some(_) => return Err(RequestError::new(errors::INVALID_URI, "reason must be a valid URI")),
        };
        let message = match kwargs.and_then(|k| k.get("message")) {
            Some(Value::String(text)) => text.clone(),
            _ => format!("closed by session {caller}"),
        };
        for target in &targets {
            out.close(*target, reason.clone(), message.clone());
            self.remove(*target, announce, out);
        }
        Ok(targets.len())
    }

    /// Publishes `wamp.session.on_join` for a session that joined.
    pub(super) fn announce_join(&mut self, session: Id, out: &mut Outbox) {
        let Some(info) = self.sessions.get(&session) else { return };
        let payload = Payload::args(vec![Value::Dict(session_details(session, info))]);
        self.broker.publish_from_router(&mut self.ids, &self.sessions, ON_JOIN, payload, out);
    }

    /// Publishes `wamp.session.on_leave` for a session that left.
    pub(super) fn announce_leave(&mut self, session: Id, info: &SessionInfo, out: &mut Outbox) {
        let identity = &info.identity;
        let args = vec![
            Value::from(session),
            Value::from(identity.authid.as_str()),
            Value::from(identity.authrole.as_str()),
        ];
        self.broker.publish_from_router(&mut self.ids, &self.sessions, ON_LEAVE, Payload::args(args), out);
    }
}
