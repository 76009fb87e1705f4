//! The meta API: procedures under `wamp.session.`, `wamp.registration.`
//! and `wamp.subscription.` that the realm core answers itself, and the
//! events it publishes when sessions join and leave and when
//! subscriptions and registrations gain and lose members.
//!
//! A CALL of a `wamp.` procedure never reaches a callee (peers cannot
//! register there): it is answered here, or with
//! `wamp.error.no_such_procedure`.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use super::testament::scope;
use super::{Member, RealmCore, RequestError};
use crate::protocol::{code, errors, Dict, Id, Payload, Value, WampMessage};
use crate::router::outbox::Outbox;
use crate::router::patterns::MatchPolicy;

/// Published when a session joins: its details.
pub const ON_JOIN: &str = "wamp.session.on_join";
/// Published when a session leaves: its id, authid and authrole.
pub const ON_LEAVE: &str = "wamp.session.on_leave";

/// The meta procedures that return nothing.
const NO_RESULT: &[&str] =
    &["wamp.session.kill", "wamp.session.add_testament", "wamp.session.flush_testaments"];

/// The meta procedures this router answers.
pub const PROCEDURES: &[&str] = &[
    "wamp.session.count",
    "wamp.session.list",
    "wamp.session.get",
    "wamp.session.kill",
    "wamp.session.kill_by_authid",
    "wamp.session.kill_by_authrole",
    "wamp.session.kill_all",
    "wamp.session.add_testament",
    "wamp.session.flush_testaments",
    "wamp.registration.list",
    "wamp.registration.lookup",
    "wamp.registration.match",
    "wamp.registration.get",
    "wamp.registration.list_callees",
    "wamp.registration.count_callees",
    "wamp.subscription.list",
    "wamp.subscription.lookup",
    "wamp.subscription.match",
    "wamp.subscription.get",
    "wamp.subscription.list_subscribers",
    "wamp.subscription.count_subscribers",
];

/// A subscriber or callee added to or removed from a subscription or
/// registration (`id`), which the realm turns into meta events. Those of
/// `wamp.` topics are not reported (a subscriber of the meta events would
/// otherwise hear of its own subscription).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `session` made `id` exist (an `Added` follows).
    Created {
        /// The session.
        session: Id,
        /// The subscription or registration.
        id: Id,
    },
    /// `session` joined `id`.
    Added {
        /// The session.
        session: Id,
        /// The subscription or registration.
        id: Id,
    },
    /// `session` left `id`.
    Removed {
        /// The session.
        session: Id,
        /// The subscription or registration.
        id: Id,
    },
    /// `id` is gone with `session`, its last member (after its `Removed`).
    Deleted {
        /// The session.
        session: Id,
        /// The subscription or registration.
        id: Id,
    },
}

/// What `wamp.session.get` and `on_join` tell of a session.
pub fn session_details(session: Id, info: &Member) -> Dict {
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

fn id_arg(args: &[Value]) -> Result<Id, RequestError> {
    args.first().and_then(Value::as_u64).ok_or_else(|| invalid("the first argument must be an id"))
}

fn no_such_registration(id: Id) -> RequestError {
    RequestError::new(errors::NO_SUCH_REGISTRATION, format!("no registration {id} in this realm"))
}

fn no_such_subscription(id: Id) -> RequestError {
    RequestError::new(errors::NO_SUCH_SUBSCRIPTION, format!("no subscription {id} in this realm"))
}

/// `{exact: [...], prefix: [...], wildcard: [...]}`.
fn lists(by_policy: [(MatchPolicy, Vec<Id>); 3]) -> Value {
    Value::Dict(
        by_policy
            .into_iter()
            .map(|(policy, ids)| {
                (policy.as_str().to_owned(), Value::List(ids.into_iter().map(Value::from).collect()))
            })
            .collect(),
    )
}

fn sessions_or_count(ids: Vec<Id>, count: bool) -> Value {
    if count {
        Value::from(ids.len() as u64)
    } else {
        Value::List(ids.into_iter().map(Value::from).collect())
    }
}

/// A URI and the optional options dictionary of `lookup` (`match`).
fn uri_and_policy(args: &[Value]) -> Result<(&str, MatchPolicy), RequestError> {
    let uri = text_arg(args, "URI")?;
    let policy = match args.get(1) {
        None | Some(Value::Null) => MatchPolicy::Exact,
        Some(Value::Dict(options)) => match options.get("match") {
            None => MatchPolicy::Exact,
            Some(Value::String(name)) if ["exact", "prefix", "wildcard"].contains(&name.as_str()) => {
                MatchPolicy::from_option(Some(name))
            }
            Some(other) => {
                return Err(invalid(format!(
                    "options.match must be exact, prefix or wildcard, got {other:?}"
                )))
            }
        },
        Some(other) => {
            return Err(invalid(format!("the second argument must be the options, got {}", other.kind())))
        }
    };
    Ok((uri, policy))
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
            "wamp.session.add_testament" => self.add_testament(caller, payload).map(|()| Value::Null),
            "wamp.session.flush_testaments" => scope(payload.kwargs_dict()).map(|scope| {
                if let Some(testaments) = self.testaments.get_mut(&caller) {
                    testaments.flush(scope);
                }
                Value::Null
            }),
            "wamp.registration.list" => Ok(lists(self.dealer.registry().list())),
            "wamp.subscription.list" => Ok(lists(self.broker.list())),
            "wamp.registration.lookup" => uri_and_policy(args).map(|(uri, policy)| {
                self.dealer.registry().find(uri, policy).map_or(Value::Null, Value::from)
            }),
            "wamp.subscription.lookup" => uri_and_policy(args)
                .map(|(uri, policy)| self.broker.lookup(uri, policy).map_or(Value::Null, Value::from)),
            "wamp.registration.match" => text_arg(args, "procedure")
                .map(|uri| self.dealer.registry().matching(uri).map_or(Value::Null, Value::from)),
            "wamp.subscription.match" => text_arg(args, "topic").map(|uri| {
                let ids = self.broker.matching(uri);
                if ids.is_empty() {
                    Value::Null
                } else {
                    Value::List(ids.into_iter().map(Value::from).collect())
                }
            }),
            "wamp.registration.get" => id_arg(args).and_then(|id| {
                self.registration_details(id).map(Value::Dict).ok_or_else(|| no_such_registration(id))
            }),
            "wamp.subscription.get" => id_arg(args).and_then(|id| {
                self.subscription_details(id).map(Value::Dict).ok_or_else(|| no_such_subscription(id))
            }),
            "wamp.registration.list_callees" | "wamp.registration.count_callees" => {
                id_arg(args).and_then(|id| {
                    let r = self.dealer.registry().get(id).ok_or_else(|| no_such_registration(id))?;
                    let mut ids: Vec<Id> = r.callees.iter().map(|c| c.session).collect();
                    ids.sort_unstable();
                    Ok(sessions_or_count(ids, procedure.ends_with("count_callees")))
                })
            }
            "wamp.subscription.list_subscribers" | "wamp.subscription.count_subscribers" => id_arg(args)
                .and_then(|id| {
                    let sub = self.broker.subscription(id).ok_or_else(|| no_such_subscription(id))?;
                    let mut ids = sub.subscribers().to_vec();
                    ids.sort_unstable();
                    Ok(sessions_or_count(ids, procedure.ends_with("count_subscribers")))
                }),
            _ => Err(RequestError::new(
                errors::NO_SUCH_PROCEDURE,
                format!("no procedure '{procedure}': the router offers {}", PROCEDURES.join(", ")),
            )),
        };
        match result {
            Ok(value) => {
                // Some procedures return nothing, others may return null.
                let payload = if NO_RESULT.contains(&procedure) {
                    Payload::default()
                } else {
                    Payload::args(vec![value])
                };
                out.send(caller, WampMessage::Result { request, details: Dict::new(), payload });
            }
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

    /// Closes `targets` (sorted) with GOODBYE (the `reason` and `message` keyword
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
            self.remove(*target, announce, &targets, out);
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
    pub(super) fn announce_leave(&mut self, session: Id, info: &Member, out: &mut Outbox) {
        let identity = &info.identity;
        let args = vec![
            Value::from(session),
            Value::from(identity.authid.as_str()),
            Value::from(identity.authrole.as_str()),
        ];
        self.broker.publish_from_router(&mut self.ids, &self.sessions, ON_LEAVE, Payload::args(args), out);
    }
}

/// `time` as an ISO 8601 UTC timestamp with milliseconds
/// (`2026-12-03T18:04:05.123Z`).
pub fn iso8601(time: SystemTime) -> String {
    let since = time.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// Which meta events a change belongs to.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Subscription,
    Registration,
}

impl Kind {
    fn topic(self, change: &Change) -> &'static str {
        match (self, change) {
            (Kind::Subscription, Change::Created { .. }) => "wamp.subscription.on_create",
            (Kind::Subscription, Change::Added { .. }) => "wamp.subscription.on_subscribe",
            (Kind::Subscription, Change::Removed { .. }) => "wamp.subscription.on_unsubscribe",
            (Kind::Subscription, Change::Deleted { .. }) => "wamp.subscription.on_delete",
            (Kind::Registration, Change::Created { .. }) => "wamp.registration.on_create",
            (Kind::Registration, Change::Added { .. }) => "wamp.registration.on_register",
            (Kind::Registration, Change::Removed { .. }) => "wamp.registration.on_unregister",
            (Kind::Registration, Change::Deleted { .. }) => "wamp.registration.on_delete",
        }
    }
}

impl RealmCore {
    /// Publishes the meta events of the subscriptions and registrations
    /// that changed since the last call.
    #[inline]
    pub(super) fn announce_changes(&mut self, out: &mut Outbox) {
        // Checked after every message; rarely any.
        if !(self.broker.changes.is_empty() && self.dealer.changes_mut().is_empty()) {
            self.publish_changes(out);
        }
    }

    // Out of line, so that the check above is all that every message
    // runs (inlined, with the publishing in it, the check paid a whole
    // function's entry and exit).
    #[cold]
    #[inline(never)]
    fn publish_changes(&mut self, out: &mut Outbox) {
        for kind in [Kind::Subscription, Kind::Registration] {
            let changes = match kind {
                Kind::Subscription => std::mem::take(&mut self.broker.changes),
                Kind::Registration => std::mem::take(self.dealer.changes_mut()),
            };
            for change in &changes {
                let (Change::Created { session, id }
                | Change::Added { session, id }
                | Change::Removed { session, id }
                | Change::Deleted { session, id }) = *change;
                let second = match change {
                    Change::Created { .. } => match kind {
                        Kind::Subscription => self.subscription_details(id),
                        Kind::Registration => self.registration_details(id),
                    }
                    .map_or(Value::Null, Value::Dict),
                    _ => Value::from(id),
                };
                let payload = Payload::args(vec![Value::from(session), second]);
                self.broker.publish_from_router(
                    &mut self.ids,
                    &self.sessions,
                    kind.topic(change),
                    payload,
                    out,
                );
            }
        }
    }

    /// Drops the changes nobody will hear of (the realm is closing).
    pub(super) fn forget_changes(&mut self) {
        self.broker.changes.clear();
        self.dealer.changes_mut().clear();
    }

    fn created(&self, at: Duration) -> Value {
        Value::from(iso8601(self.wall_origin + at))
    }

    /// What `wamp.subscription.get` and `on_create` tell of a subscription.
    fn subscription_details(&self, id: Id) -> Option<Dict> {
        let sub = self.broker.subscription(id)?;
        Some(Dict::from([
            ("id".to_owned(), Value::from(id)),
            ("created".to_owned(), self.created(sub.created)),
            ("uri".to_owned(), Value::from(sub.topic.as_str())),
            ("match".to_owned(), Value::from(sub.policy.as_str())),
        ]))
    }

    /// What `wamp.registration.get` and `on_create` tell of a registration.
    fn registration_details(&self, id: Id) -> Option<Dict> {
        let r = self.dealer.registry().get(id)?;
        Some(Dict::from([
            ("id".to_owned(), Value::from(id)),
            ("created".to_owned(), self.created(r.created)),
            ("uri".to_owned(), Value::from(r.procedure.as_str())),
            ("match".to_owned(), Value::from(r.policy.as_str())),
            ("invoke".to_owned(), Value::from(r.invoke.as_str())),
        ]))
    }
}
