//! What unrelated patterns cost exact routing, measured on the realm core
//! alone (no transport, one thread): PUBLISH to an exact topic with one
//! subscriber, and CALL + YIELD of an exact procedure, in a realm with
//! nothing else and in one with 10,000 unrelated prefix and wildcard
//! subscriptions (or 10,000 other registrations of every policy). Rounds
//! alternate the two realms; each figure is the median round.

use std::time::{Duration, Instant};

use bytes::Bytes;
use wamp::internals::Identity;
use wamp::internals::{Effect, Member, Outbox, RealmCore, RealmSettings, SessionLimits};
use wamp::protocol::roles::ClientRoles;
use wamp::protocol::{Dict, Id, Serializer, Value, WampMessage};

use crate::BoxError;

/// How many unrelated patterns or registrations the loaded realm holds.
pub const UNRELATED: usize = 10_000;

/// Operations per second: (none, with the unrelated ones), per phase.
pub struct Figures {
    pub publish: (f64, f64),
    pub call: (f64, f64),
}

fn realm() -> RealmCore {
    let limits =
        SessionLimits { subscriptions: 2 * UNRELATED, registrations: 2 * UNRELATED, ..Default::default() };
    let settings =
        RealmSettings { limits, call_timeout: Some(Duration::from_secs(300)), ..Default::default() };
    RealmCore::new("bench", settings)
}

fn join(realm: &mut RealmCore) -> Id {
    realm.join(
        Member { identity: Identity::anonymous(), roles: ClientRoles::BASIC, in_process: false },
        &mut Outbox::new(),
    )
}

fn feed(realm: &mut RealmCore, out: &mut Outbox, session: Id, message: WampMessage) -> Vec<Effect> {
    realm.handle(session, message, out);
    out.drain().collect()
}

fn with_match(policy: &str) -> Dict {
    Dict::from([("match".to_owned(), Value::from(policy))])
}

/// A message as the router gets it off the wire (its payload kept raw).
fn decoded(json: &str) -> Result<WampMessage, BoxError> {
    Ok(Serializer::Json.decode_shared(&Bytes::copy_from_slice(json.as_bytes()))?)
}

/// A realm where `publisher` publishes to `com.bench.topic`, which one
/// session subscribes to, and `caller` calls `com.bench.proc`.
struct Bench {
    realm: RealmCore,
    out: Outbox,
    publisher: Id,
    caller: Id,
    callee: Id,
    request: Id,
    publish: WampMessage,
}

impl Bench {
    fn new(unrelated: bool) -> Result<Bench, BoxError> {
        let mut realm = realm();
        let mut out = Outbox::new();
        let (publisher, subscriber, caller, callee, noise) =
            (join(&mut realm), join(&mut realm), join(&mut realm), join(&mut realm), join(&mut realm));
        let subscribe =
            WampMessage::Subscribe { request: 1, options: Dict::new(), topic: "com.bench.topic".into() };
        feed(&mut realm, &mut out, subscriber, subscribe);
        let register =
            WampMessage::Register { request: 1, options: Dict::new(), procedure: "com.bench.proc".into() };
        feed(&mut realm, &mut out, callee, register);
        if unrelated {
            for i in 0..UNRELATED {
                // Half of them share the topic's first components.
                let (policy, topic) = match i % 4 {
                    0 => ("prefix", format!("com.bench.t{i}")),
                    1 => ("prefix", format!("org.app{i}.")),
                    2 => ("wildcard", format!("com.bench..e{i}")),
                    _ => ("wildcard", format!("com..x{i}.y")),
                };
                let subscribe =
                    WampMessage::Subscribe { request: 2 + i as Id, options: with_match(policy), topic };
                feed(&mut realm, &mut out, noise, subscribe);
                let (policy, procedure) = match i % 3 {
                    0 => ("exact", format!("com.bench.proc{i}")),
                    1 => ("prefix", format!("com.bench.p{i}")),
                    _ => ("wildcard", format!("com.bench..w{i}")),
                };
                let register =
                    WampMessage::Register { request: 2 + i as Id, options: with_match(policy), procedure };
                let effects = feed(&mut realm, &mut out, noise, register);
                if !matches!(
                    effects.as_slice(),
                    [Effect::Send { message: WampMessage::Registered { .. }, .. }]
                ) {
                    return Err(format!("setting up the unrelated registrations: {effects:?}").into());
                }
            }
            if realm.topic_count() != UNRELATED + 1 || realm.registration_count() != UNRELATED + 1 {
                return Err("the unrelated subscriptions or registrations are not all there".into());
            }
        }
        let publish = decoded(r#"[16, 1, {}, "com.bench.topic", ["hello"]]"#)?;
        Ok(Bench { realm, out, publisher, caller, callee, request: 0, publish })
    }

    fn publish_once(&mut self) -> Result<(), BoxError> {
        self.realm.handle(self.publisher, self.publish.clone(), &mut self.out);
        let events = self.out.drain().count();
        if events != 1 {
            return Err(format!("a publication made {events} effects, not one EVENT").into());
        }
        Ok(())
    }

    fn call_once(&mut self) -> Result<(), BoxError> {
        self.request += 1;
        let call = decoded(&format!(r#"[48, {}, {{}}, "com.bench.proc", ["hello"]]"#, self.request))?;
        self.realm.handle(self.caller, call, &mut self.out);
        let invocation = match self.out.drain().next() {
            Some(Effect::Send { message: WampMessage::Invocation { request, .. }, .. }) => request,
            other => return Err(format!("expected an INVOCATION, got {other:?}").into()),
        };
        let answer =
            WampMessage::Yield { request: invocation, options: Dict::new(), payload: Default::default() };
        self.realm.handle(self.callee, answer, &mut self.out);
        if self.out.drain().count() != 1 {
            return Err("a YIELD did not make one RESULT".into());
        }
        Ok(())
    }
}

/// Runs `op` for `duration`; operations per second.
fn rate(duration: Duration, mut op: impl FnMut() -> Result<(), BoxError>) -> Result<f64, BoxError> {
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < duration {
        for _ in 0..1_000 {
            op()?;
        }
        done += 1_000;
    }
    Ok(done as f64 / start.elapsed().as_secs_f64())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub fn run(duration: Duration, rounds: usize) -> Result<Figures, BoxError> {
    let mut plain = Bench::new(false)?;
    let mut loaded = Bench::new(true)?;
    let mut runs: [Vec<f64>; 4] = Default::default();
    for round in 1..=rounds.max(1) {
        runs[0].push(rate(duration, || plain.publish_once())?);
        runs[1].push(rate(duration, || loaded.publish_once())?);
        runs[2].push(rate(duration, || plain.call_once())?);
        runs[3].push(rate(duration, || loaded.call_once())?);
        eprintln!(
            "round {round}: publish {:.0} / {:.0} with {UNRELATED} unrelated patterns; call {:.0} / {:.0} beside {UNRELATED} registrations (per second)",
            runs[0][round - 1], runs[1][round - 1], runs[2][round - 1], runs[3][round - 1]
        );
    }
    let [a, b, c, d] = runs.map(median);
    Ok(Figures { publish: (a, b), call: (c, d) })
}
