//! The registrations of one realm: which callees answer which procedures,
//! and which callee a call goes to.
//!
//! A registration is a procedure or pattern with its match policy and its
//! invoke policy. With `single` it has one callee; with a shared policy
//! (`roundrobin`, `random`, `first`, `last`) every callee that registered
//! the same procedure with the same policies joins it and shares its id.

use std::time::Duration;

use crate::protocol::id_source::IdAllocator;
use crate::protocol::options::InvokePolicy;
use crate::protocol::{errors, Id};
use crate::router::patterns::{MatchPolicy, Patterns};
use crate::router::realm::meta::Change;
use crate::router::realm::RequestError;
use crate::router::FastMap as HashMap;
use crate::router::IdMap;

/// One callee of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Callee {
    /// Its session.
    pub session: Id,
    /// It asked to learn who calls (`disclose_caller`).
    pub disclose_caller: bool,
    /// It runs in this process: it takes arguments as Rust values.
    pub in_process: bool,
}

/// A procedure or pattern and the callees that answer it.
#[derive(Debug)]
pub struct Registration {
    /// The procedure, or the pattern.
    pub procedure: String,
    /// How it matches procedures.
    pub policy: MatchPolicy,
    /// How it chooses a callee.
    pub invoke: InvokePolicy,
    /// In the order they registered.
    pub callees: Vec<Callee>,
    /// When it was created, on the realm's clock.
    pub created: Duration,
    /// The next callee's turn (`roundrobin`).
    turn: usize,
}

/// Where a call goes.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The registration.
    pub registration: Id,
    /// The callee chosen.
    pub callee: Callee,
    /// The registration is a pattern (the INVOCATION names the procedure).
    pub pattern: bool,
}

/// An exact procedure's registration, and its callee if it has only ever
/// one, so that most calls cost one lookup.
#[derive(Debug, Clone, Copy)]
struct Route {
    registration: Id,
    single: Option<Callee>,
}

/// Every registration of a realm, by id and by procedure or pattern.
#[derive(Debug, Default)]
pub struct Registry {
    exact: HashMap<String, Route>,
    prefixes: Patterns,
    wildcards: Patterns,
    registrations: IdMap<Registration>,
    /// Callees added and removed since the realm last took them, for the
    /// registration meta events.
    pub(crate) changes: Vec<Change>,
}

impl Registry {
    /// How many registrations there are (a shared one counts once).
    pub fn len(&self) -> usize {
        self.registrations.len()
    }

    #[cfg(test)]
    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.registrations.is_empty()
    }

    /// A registration by id.
    pub fn get(&self, id: Id) -> Option<&Registration> {
        self.registrations.get(&id)
    }

    /// The registration of a procedure or pattern with `policy`.
    pub fn find(&self, procedure: &str, policy: MatchPolicy) -> Option<Id> {
        match policy {
            MatchPolicy::Exact => self.exact.get(procedure).map(|route| route.registration),
            MatchPolicy::Prefix => self.prefixes.get_prefix(procedure),
            MatchPolicy::Wildcard => self.wildcards.get_wildcard(procedure),
        }
    }

    /// Adds `callee` for `procedure`: a new registration, or one more
    /// callee of a shared registration with the same policies. Returns the
    /// registration id, or the error for the callee.
    pub fn add(
        &mut self,
        ids: &mut IdAllocator,
        procedure: String,
        policy: MatchPolicy,
        invoke: InvokePolicy,
        callee: Callee,
        created: Duration,
    ) -> Result<Id, RequestError> {
        if let Some(id) = self.find(&procedure, policy) {
            let existing = self.registrations.get_mut(&id).ok_or_else(|| {
                RequestError::new(errors::PROCEDURE_ALREADY_EXISTS, "the registration is being removed")
            })?;
            let named = match policy {
                MatchPolicy::Exact => format!("the procedure '{procedure}'"),
                other => format!("the pattern '{procedure}' (match '{}')", other.as_str()),
            };
            if existing.invoke == InvokePolicy::Single || existing.invoke != invoke {
                let message = format!(
                    "{named} is already registered with invoke '{}'; a callee can join it only with the same \
                     shared policy",
                    existing.invoke.as_str()
                );
                return Err(RequestError::new(errors::PROCEDURE_ALREADY_EXISTS, message));
            }
            if existing.callees.iter().any(|c| c.session == callee.session) {
                let message = format!("this session already answers {named}");
                return Err(RequestError::new(errors::PROCEDURE_ALREADY_EXISTS, message));
            }
            existing.callees.push(callee);
            self.changes.push(Change::Added { session: callee.session, id });
            return Ok(id);
        }
        let id = loop {
            let id = ids.scoped();
            if !self.registrations.contains_key(&id) {
                break id;
            }
        };
        match policy {
            MatchPolicy::Exact => {
                let single = (invoke == InvokePolicy::Single).then_some(callee);
                self.exact.insert(procedure.clone(), Route { registration: id, single });
            }
            MatchPolicy::Prefix => self.prefixes.insert_prefix(&procedure, id),
            MatchPolicy::Wildcard => self.wildcards.insert_wildcard(&procedure, id),
        }
        let registration =
            Registration { procedure, policy, invoke, callees: vec![callee], created, turn: 0 };
        self.registrations.insert(id, registration);
        self.changes.push(Change::Created { session: callee.session, id });
        self.changes.push(Change::Added { session: callee.session, id });
        Ok(id)
    }

    /// Removes `session` from the callees of `id`, and the registration
    /// once it has none. Returns whether the session was one of them.
    pub fn remove_callee(&mut self, id: Id, session: Id) -> bool {
        let Some(registration) = self.registrations.get_mut(&id) else { return false };
        let Some(at) = registration.callees.iter().position(|c| c.session == session) else { return false };
        registration.callees.remove(at);
        self.changes.push(Change::Removed { session, id });
        if registration.callees.is_empty() {
            self.changes.push(Change::Deleted { session, id });
            if let Some(gone) = self.registrations.remove(&id) {
                match gone.policy {
                    MatchPolicy::Exact => {
                        self.exact.remove(&gone.procedure);
                    }
                    MatchPolicy::Prefix => {
                        self.prefixes.remove_prefix(&gone.procedure);
                    }
                    MatchPolicy::Wildcard => {
                        self.wildcards.remove_wildcard(&gone.procedure);
                    }
                }
            }
        }
        true
    }

    /// Where a call to `procedure` goes if it is registered exactly.
    #[inline]
    pub fn exact_target(&mut self, procedure: &str, ids: &mut IdAllocator) -> Option<Target> {
        let route = *self.exact.get(procedure)?;
        let callee = match route.single {
            Some(callee) => callee,
            None => self.choose(route.registration, ids)?,
        };
        Some(Target { registration: route.registration, callee, pattern: false })
    }

    /// Where a call to `procedure`, registered by no exact registration,
    /// goes by the specification's precedence: the longest prefix, then
    /// the best wildcard pattern.
    pub fn pattern_target(&mut self, procedure: &str, ids: &mut IdAllocator) -> Option<Target> {
        let registration = self.best_pattern(procedure)?;
        let callee = self.choose(registration, ids)?;
        Some(Target { registration, callee, pattern: true })
    }

    /// The registration a call to `procedure` goes to, if any.
    pub fn matching(&self, procedure: &str) -> Option<Id> {
        self.exact.get(procedure).map(|route| route.registration).or_else(|| self.best_pattern(procedure))
    }

    /// The registration ids by match policy, each list ascending.
    pub fn list(&self) -> [(MatchPolicy, Vec<Id>); 3] {
        let of = |policy: MatchPolicy| {
            let mut ids: Vec<Id> =
                self.registrations.iter().filter(|(_, r)| r.policy == policy).map(|(id, _)| *id).collect();
            ids.sort_unstable();
            (policy, ids)
        };
        [of(MatchPolicy::Exact), of(MatchPolicy::Prefix), of(MatchPolicy::Wildcard)]
    }

    fn best_pattern(&self, procedure: &str) -> Option<Id> {
        if self.prefixes.is_empty() && self.wildcards.is_empty() {
            return None;
        }
        let mut best: Option<(Id, usize)> = None;
        self.prefixes.prefixes_of(procedure, |id, length| {
            if best.map_or(true, |(_, longest)| length > longest) {
                best = Some((id, length));
            }
        });
        let mut chosen = best.map(|(id, _)| id);
        if chosen.is_none() {
            self.wildcards.wildcards_of(procedure, |id| {
                chosen = Some(id);
                false
            });
        }
        chosen
    }

    /// The callee of a registration that takes the next call.
    fn choose(&mut self, id: Id, ids: &mut IdAllocator) -> Option<Callee> {
        let registration = self.registrations.get_mut(&id)?;
        let count = registration.callees.len();
        let at = match registration.invoke {
            InvokePolicy::Single | InvokePolicy::First => 0,
            InvokePolicy::Last => count.checked_sub(1)?,
            InvokePolicy::RoundRobin => {
                let at = registration.turn % count.max(1);
                registration.turn = at + 1;
                at
            }
            InvokePolicy::Random => usize::try_from(ids.global()).unwrap_or(0) % count.max(1),
        };
        registration.callees.get(at).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn callee(session: Id) -> Callee {
        Callee { session, disclose_caller: false, in_process: false }
    }

    #[test]
    fn shared_registrations_take_callees_with_the_same_policy_only() {
        let mut ids = IdAllocator::default();
        let mut r = Registry::default();
        let rr = InvokePolicy::RoundRobin;
        let id = r.add(&mut ids, "p".into(), MatchPolicy::Exact, rr, callee(1), Duration::ZERO).unwrap();
        assert_eq!(r.add(&mut ids, "p".into(), MatchPolicy::Exact, rr, callee(2), Duration::ZERO), Ok(id));
        let e = r
            .add(&mut ids, "p".into(), MatchPolicy::Exact, InvokePolicy::Random, callee(3), Duration::ZERO)
            .unwrap_err();
        assert!(e.message.contains("roundrobin"), "{}", e.message);
        assert!(
            r.add(&mut ids, "p".into(), MatchPolicy::Exact, rr, callee(2), Duration::ZERO).is_err(),
            "twice"
        );
        let single = r
            .add(&mut ids, "q".into(), MatchPolicy::Exact, InvokePolicy::Single, callee(1), Duration::ZERO)
            .unwrap();
        assert!(r
            .add(&mut ids, "q".into(), MatchPolicy::Exact, InvokePolicy::Single, callee(2), Duration::ZERO)
            .is_err());
        assert_ne!(single, id);
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn each_policy_chooses_its_callee() {
        let mut ids = IdAllocator::default();
        let mut picks = |invoke: InvokePolicy, calls: usize| {
            let mut r = Registry::default();
            for session in 1..=3 {
                r.add(&mut ids, "p".into(), MatchPolicy::Exact, invoke, callee(session), Duration::ZERO)
                    .unwrap();
            }
            (0..calls).map(|_| r.exact_target("p", &mut ids).unwrap().callee.session).collect::<Vec<_>>()
        };
        assert_eq!(picks(InvokePolicy::RoundRobin, 7), vec![1, 2, 3, 1, 2, 3, 1]);
        assert_eq!(picks(InvokePolicy::First, 3), vec![1, 1, 1]);
        assert_eq!(picks(InvokePolicy::Last, 3), vec![3, 3, 3]);
        let random = picks(InvokePolicy::Random, 300);
        for session in 1..=3 {
            let n = random.iter().filter(|s| **s == session).count();
            assert!((50..=150).contains(&n), "session {session} chosen {n} times of 300");
        }
    }

    #[test]
    fn the_last_callee_leaving_removes_the_registration() {
        let mut ids = IdAllocator::default();
        let mut r = Registry::default();
        let first = InvokePolicy::First;
        let id = r.add(&mut ids, "a.".into(), MatchPolicy::Prefix, first, callee(1), Duration::ZERO).unwrap();
        r.add(&mut ids, "a.".into(), MatchPolicy::Prefix, first, callee(2), Duration::ZERO).unwrap();
        assert!(r.remove_callee(id, 1));
        assert!(!r.remove_callee(id, 1));
        assert_eq!(r.pattern_target("a.b", &mut ids).map(|t| (t.callee.session, t.pattern)), Some((2, true)));
        assert!(r.remove_callee(id, 2));
        assert!(
            r.is_empty()
                && r.pattern_target("a.b", &mut ids).is_none()
                && r.find("a.", MatchPolicy::Prefix).is_none()
        );
    }
}
