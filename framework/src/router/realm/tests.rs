//! The realm core, message by message.

use super::*;
use crate::router::outbox::Effect;

struct Harness {
    realm: RealmCore,
    out: Outbox,
}

impl Harness {
    fn new() -> Self {
        Self::with(RealmSettings::default())
    }

    fn with(settings: RealmSettings) -> Self {
        Harness { realm: RealmCore::new("realm1", settings), out: Outbox::new() }
    }

    fn join(&mut self) -> Id {
        self.join_with(Member {
            identity: Identity::anonymous(),
            roles: ClientRoles::BASIC,
            in_process: false,
        })
        .0
    }

    /// Joins a session; returns its id and what the realm produced (the
    /// `wamp.session.on_join` events).
    fn join_with(&mut self, info: Member) -> (Id, Vec<Effect>) {
        let id = self.realm.join(info, &mut self.out);
        (id, self.out.drain().collect())
    }

    /// Feeds one message and returns what the realm produced.
    fn feed(&mut self, session: Id, message: WampMessage) -> Vec<Effect> {
        self.realm.handle(session, message, &mut self.out);
        self.out.drain().collect()
    }

    fn leave(&mut self, session: Id) -> Vec<Effect> {
        self.realm.leave(session, &mut self.out);
        self.out.drain().collect()
    }
}

fn opts(pairs: &[(&str, Value)]) -> Dict {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
}

fn args(values: &[Value]) -> Payload {
    Payload::args(values.to_vec())
}

fn subscribe(request: Id, topic: &str) -> WampMessage {
    WampMessage::Subscribe { request, options: Dict::new(), topic: topic.into() }
}

fn register(request: Id, procedure: &str) -> WampMessage {
    WampMessage::Register { request, options: Dict::new(), procedure: procedure.into() }
}

fn call(request: Id, procedure: &str, payload: Payload) -> WampMessage {
    WampMessage::Call { request, options: Dict::new(), procedure: procedure.to_owned().into(), payload }
}

fn publish(request: Id, options: Dict, topic: &str, payload: Payload) -> WampMessage {
    WampMessage::Publish { request, options, topic: topic.to_owned().into(), payload }
}

fn sent(to: Id, message: WampMessage) -> Effect {
    Effect::Send { to, message }
}

fn error_uri(effects: &[Effect]) -> (Id, u64, Id, String) {
    match effects {
        [Effect::Send { to, message: WampMessage::Error { request_type, request, error, .. } }] => {
            (*to, *request_type, *request, error.clone())
        }
        other => panic!("expected one ERROR, got {other:?}"),
    }
}

fn subscribed(effects: &[Effect]) -> Id {
    match effects {
        [Effect::Send { message: WampMessage::Subscribed { subscription, .. }, .. }] => *subscription,
        other => panic!("expected SUBSCRIBED, got {other:?}"),
    }
}

fn registered(effects: &[Effect]) -> Id {
    match effects {
        [Effect::Send { message: WampMessage::Registered { registration, .. }, .. }] => *registration,
        other => panic!("expected REGISTERED, got {other:?}"),
    }
}

#[test]
fn subscribers_of_a_topic_share_one_subscription_id() {
    let mut h = Harness::new();
    let (a, b) = (h.join(), h.join());
    let sa = subscribed(&h.feed(a, subscribe(1, "com.topic")));
    let sb = subscribed(&h.feed(b, subscribe(1, "com.topic")));
    assert_eq!(sa, sb);
    // Subscribing again returns the same id.
    assert_eq!(subscribed(&h.feed(a, subscribe(2, "com.topic"))), sa);
    let other = subscribed(&h.feed(a, subscribe(3, "com.other")));
    assert_ne!(other, sa);
}

#[test]
fn publish_reaches_subscribers_but_not_the_publisher_by_default() {
    let mut h = Harness::new();
    let (publisher, sub) = (h.join(), h.join());
    let s = subscribed(&h.feed(sub, subscribe(1, "com.topic")));
    subscribed(&h.feed(publisher, subscribe(1, "com.topic")));
    let effects = h.feed(publisher, publish(7, Dict::new(), "com.topic", args(&["hi".into()])));
    let [Effect::Send { to, message: WampMessage::Event { subscription, payload, .. } }] = effects.as_slice()
    else {
        panic!("expected exactly one EVENT, got {effects:?}");
    };
    assert_eq!((*to, *subscription), (sub, s));
    assert_eq!(payload, &args(&["hi".into()]));
}

#[test]
fn exclude_me_false_includes_the_publisher_and_acknowledge_answers() {
    let mut h = Harness::new();
    let publisher = h.join();
    subscribed(&h.feed(publisher, subscribe(1, "com.topic")));
    let options = opts(&[("exclude_me", false.into()), ("acknowledge", true.into())]);
    let effects = h.feed(publisher, publish(9, options, "com.topic", Payload::default()));
    assert_eq!(effects.len(), 2);
    let (
        Effect::Send { to: t1, message: WampMessage::Event { publication: p1, .. } },
        Effect::Send { to: t2, message: WampMessage::Published { request, publication: p2 } },
    ) = (&effects[0], &effects[1])
    else {
        panic!("expected EVENT then PUBLISHED, got {effects:?}");
    };
    assert_eq!((*t1, *t2, *request), (publisher, publisher, 9));
    assert_eq!(p1, p2);
    assert!(crate::protocol::id::is_valid(*p1));
}

#[test]
fn publish_with_a_wrongly_typed_option_is_a_protocol_violation() {
    let mut h = Harness::new();
    let s = h.join();
    let effects =
        h.feed(s, publish(1, opts(&[("acknowledge", "yes".into())]), "com.topic", Payload::default()));
    match effects.as_slice() {
        [Effect::Close { to, reason, message }] => {
            assert_eq!((*to, reason.as_ref()), (s, errors::PROTOCOL_VIOLATION));
            assert!(message.contains("acknowledge"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!h.realm.contains(s));
}

#[test]
fn invalid_topic_is_answered_only_when_acknowledged() {
    let mut h = Harness::new();
    let s = h.join();
    assert!(h.feed(s, publish(1, Dict::new(), "bad topic", Payload::default())).is_empty());
    let effects =
        h.feed(s, publish(2, opts(&[("acknowledge", true.into())]), "bad topic", Payload::default()));
    assert_eq!(error_uri(&effects), (s, code::PUBLISH, 2, errors::INVALID_URI.into()));
    let effects = h.feed(s, subscribe(3, "a..b"));
    assert_eq!(error_uri(&effects), (s, code::SUBSCRIBE, 3, errors::INVALID_URI.into()));
}

#[test]
fn unsubscribe_stops_delivery_and_unknown_ids_error() {
    let mut h = Harness::new();
    let (publisher, sub) = (h.join(), h.join());
    let s = subscribed(&h.feed(sub, subscribe(1, "com.topic")));
    assert_eq!(
        h.feed(sub, WampMessage::Unsubscribe { request: 2, subscription: s }),
        [sent(sub, WampMessage::Unsubscribed { request: 2 })]
    );
    assert!(h.feed(publisher, publish(1, Dict::new(), "com.topic", Payload::default())).is_empty());
    let effects = h.feed(sub, WampMessage::Unsubscribe { request: 3, subscription: s });
    assert_eq!(error_uri(&effects), (sub, code::UNSUBSCRIBE, 3, errors::NO_SUCH_SUBSCRIPTION.into()));
}

#[test]
fn call_invocation_yield_result() {
    let mut h = Harness::new();
    let (caller, callee) = (h.join(), h.join());
    let reg = registered(&h.feed(callee, register(1, "com.add2")));
    let kwargs = opts(&[("c", 3.into())]);
    let payload = Payload::new(vec![1.into(), 2.into()], kwargs);
    let effects = h.feed(caller, call(5, "com.add2", payload.clone()));
    let [Effect::Send { to, message: WampMessage::Invocation { request: inv, registration, payload: p, .. } }] =
        effects.as_slice()
    else {
        panic!("expected INVOCATION, got {effects:?}");
    };
    assert_eq!((*to, *registration, p), (callee, reg, &payload));
    let result = args(&[3.into()]);
    let effects =
        h.feed(callee, WampMessage::Yield { request: *inv, options: Dict::new(), payload: result.clone() });
    assert_eq!(
        effects,
        [sent(caller, WampMessage::Result { request: 5, details: Dict::new(), payload: result })]
    );
    assert_eq!(h.realm.pending_calls(), 0);
}

#[test]
fn callee_error_reaches_the_caller_with_uri_args_and_kwargs() {
    let mut h = Harness::new();
    let (caller, callee) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "com.fail")));
    let effects = h.feed(caller, call(8, "com.fail", Payload::default()));
    let [Effect::Send { message: WampMessage::Invocation { request: inv, .. }, .. }] = effects.as_slice()
    else {
        panic!()
    };
    let payload = Payload::new(vec!["bad".into()], opts(&[("code", 42.into())]));
    let error = WampMessage::Error {
        request_type: code::INVOCATION,
        request: *inv,
        details: Dict::new(),
        error: "com.myapp.error".into(),
        payload: payload.clone(),
    };
    let effects = h.feed(callee, error);
    assert_eq!(
        effects,
        [sent(
            caller,
            WampMessage::Error {
                request_type: code::CALL,
                request: 8,
                details: Dict::new(),
                error: "com.myapp.error".into(),
                payload
            }
        )]
    );
}

#[test]
fn register_errors() {
    let mut h = Harness::new();
    let (a, b) = (h.join(), h.join());
    registered(&h.feed(a, register(1, "com.proc")));
    let effects = h.feed(b, register(2, "com.proc"));
    assert_eq!(error_uri(&effects), (b, code::REGISTER, 2, errors::PROCEDURE_ALREADY_EXISTS.into()));
    let effects = h.feed(b, register(3, "com proc"));
    assert_eq!(error_uri(&effects), (b, code::REGISTER, 3, errors::INVALID_URI.into()));
    let effects = h.feed(b, call(4, "com.nothing", Payload::default()));
    assert_eq!(error_uri(&effects), (b, code::CALL, 4, errors::NO_SUCH_PROCEDURE.into()));
    let effects = h.feed(b, call(5, "com..x", Payload::default()));
    assert_eq!(error_uri(&effects), (b, code::CALL, 5, errors::INVALID_URI.into()));
    let limited = WampMessage::Register {
        request: 6,
        options: opts(&[("concurrency", 1.into())]),
        procedure: "com".into(),
    };
    assert_eq!(error_uri(&h.feed(b, limited)), (b, code::REGISTER, 6, errors::OPTION_NOT_ALLOWED.into()));
}

#[test]
fn unregister_frees_the_procedure_and_only_the_owner_may() {
    let mut h = Harness::new();
    let (a, b) = (h.join(), h.join());
    let reg = registered(&h.feed(a, register(1, "com.proc")));
    let effects = h.feed(b, WampMessage::Unregister { request: 2, registration: reg });
    assert_eq!(error_uri(&effects), (b, code::UNREGISTER, 2, errors::NO_SUCH_REGISTRATION.into()));
    assert_eq!(
        h.feed(a, WampMessage::Unregister { request: 3, registration: reg }),
        [sent(a, WampMessage::Unregistered { request: 3 })]
    );
    registered(&h.feed(b, register(4, "com.proc")));
}

#[test]
fn a_callee_leaving_mid_call_fails_the_call_with_canceled() {
    let mut h = Harness::new();
    let (caller, callee) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "com.slow")));
    h.feed(caller, call(1, "com.slow", Payload::default()));
    h.feed(caller, call(2, "com.slow", Payload::default()));
    let effects = h.leave(callee);
    let failed: Vec<(Id, Id, String)> = effects
        .iter()
        .map(|e| match e {
            Effect::Send {
                to,
                message: WampMessage::Error { request, error, request_type: code::CALL, .. },
            } => (*to, *request, error.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(failed, [(caller, 1, errors::CANCELED.into()), (caller, 2, errors::CANCELED.into())]);
    // The procedure is gone with its callee.
    let effects = h.feed(caller, call(3, "com.slow", Payload::default()));
    assert_eq!(error_uri(&effects).3, errors::NO_SUCH_PROCEDURE);
}

#[test]
fn a_caller_leaving_drops_its_calls_and_late_yields_are_ignored() {
    let mut h = Harness::new();
    let (caller, callee) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "com.slow")));
    let effects = h.feed(caller, call(1, "com.slow", Payload::default()));
    let [Effect::Send { message: WampMessage::Invocation { request: inv, .. }, .. }] = effects.as_slice()
    else {
        panic!()
    };
    let inv = *inv;
    assert!(h.leave(caller).is_empty());
    // The call waits for its callee (leaving scans nothing), whose answer
    // then goes nowhere.
    assert_eq!(h.realm.pending_calls(), 1);
    assert!(h
        .feed(callee, WampMessage::Yield { request: inv, options: Dict::new(), payload: Payload::default() })
        .is_empty());
    assert_eq!(h.realm.pending_calls(), 0);
}

#[test]
fn a_callee_leaving_tells_only_the_callers_still_there() {
    let mut h = Harness::new();
    let (caller, callee) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "com.slow")));
    h.feed(caller, call(1, "com.slow", Payload::default()));
    assert!(h.leave(caller).is_empty());
    assert!(h.leave(callee).is_empty(), "the caller is gone: no ERROR for it");
    assert_eq!((h.realm.pending_calls(), h.realm.registration_count()), (0, 0));
}

#[test]
fn closing_every_session_tells_each_only_its_goodbye() {
    // Whichever of caller and callee the realm takes first (ids are
    // random), the caller's call ends with its GOODBYE, not with "the
    // callee left"; nobody hears of another's leaving.
    for _ in 0..32 {
        let mut h = Harness::new();
        let (caller, callee, watcher) = (h.join(), h.join(), h.join());
        registered(&h.feed(callee, register(1, "com.slow")));
        subscribed(&h.feed(watcher, subscribe(1, "wamp.session.on_leave")));
        assert!(matches!(
            h.feed(caller, call(1, "com.slow", Payload::default())).as_slice(),
            [Effect::Send { message: WampMessage::Invocation { .. }, .. }]
        ));
        let closed = h.realm.close_all(errors::CLOSE_SYSTEM_SHUTDOWN, "shutting down", &mut h.out);
        let effects: Vec<Effect> = h.out.drain().collect();
        assert_eq!(closed, 3);
        let mut closed_ids: Vec<Id> = effects
            .iter()
            .map(|e| match e {
                Effect::Close { to, reason, .. } if reason == errors::CLOSE_SYSTEM_SHUTDOWN => *to,
                other => panic!("only GOODBYEs, got {other:?}"),
            })
            .collect();
        closed_ids.sort_unstable();
        let mut everyone = vec![caller, callee, watcher];
        everyone.sort_unstable();
        assert_eq!(closed_ids, everyone);
        assert_eq!((h.realm.pending_calls(), h.realm.registration_count()), (0, 0));
    }
}

#[test]
fn a_session_leaving_takes_exactly_what_it_owned() {
    let mut h = Harness::new();
    let (a, b, caller) = (h.join(), h.join(), h.join());
    for (i, topic) in ["t.one", "t.two", "t.three"].into_iter().enumerate() {
        subscribed(&h.feed(a, subscribe(i as Id + 1, topic)));
        subscribed(&h.feed(b, subscribe(i as Id + 1, topic)));
    }
    registered(&h.feed(a, register(10, "p.a")));
    registered(&h.feed(b, register(10, "p.b")));
    h.feed(caller, call(1, "p.a", Payload::default()));
    h.feed(caller, call(2, "p.b", Payload::default()));
    assert_eq!((h.realm.broker.subscriptions_of(a), h.realm.dealer.registrations_of(a)), (3, 1));
    assert_eq!(h.realm.dealer.invocations_of(a), 1);
    let effects = h.leave(a);
    // a's call fails; b keeps everything.
    assert!(
        matches!(effects.as_slice(), [Effect::Send { to, message: WampMessage::Error { request: 1, .. } }] if *to == caller)
    );
    assert_eq!((h.realm.broker.subscriptions_of(a), h.realm.dealer.registrations_of(a)), (0, 0));
    assert_eq!(h.realm.broker.subscriptions_of(b), 3);
    assert_eq!((h.realm.dealer.registrations_of(b), h.realm.dealer.invocations_of(b)), (1, 1));
    assert_eq!(h.realm.broker.topic_count(), 3);
    let delivered = h.feed(caller, publish(5, Dict::new(), "t.two", Payload::default()));
    assert!(matches!(delivered.as_slice(), [Effect::Send { to, .. }] if *to == b));
}

#[test]
fn many_subscribers_of_one_topic_leave_each_in_constant_time() {
    // Removing a subscriber swaps the last one into its place: the others
    // keep receiving, whatever the order of leaving.
    let mut h = Harness::new();
    let publisher = h.join();
    let subscribers: Vec<Id> = (0..50_000).map(|_| h.join()).collect();
    for s in &subscribers {
        subscribed(&h.feed(*s, subscribe(1, "com.crowd")));
    }
    for s in subscribers.iter().step_by(2) {
        h.leave(*s);
    }
    let mut reached: Vec<Id> = h
        .feed(publisher, publish(1, Dict::new(), "com.crowd", Payload::default()))
        .into_iter()
        .map(|e| match e {
            Effect::Send { to, .. } => to,
            other => panic!("{other:?}"),
        })
        .collect();
    reached.sort_unstable();
    let mut staying: Vec<Id> = subscribers.iter().skip(1).step_by(2).copied().collect();
    staying.sort_unstable();
    assert_eq!(reached, staying);
}

#[test]
fn only_the_callee_may_answer_an_invocation() {
    let mut h = Harness::new();
    let (caller, callee, intruder) = (h.join(), h.join(), h.join());
    registered(&h.feed(callee, register(1, "com.proc")));
    let effects = h.feed(caller, call(1, "com.proc", Payload::default()));
    let [Effect::Send { message: WampMessage::Invocation { request: inv, .. }, .. }] = effects.as_slice()
    else {
        panic!()
    };
    let inv = *inv;
    assert!(h
        .feed(
            intruder,
            WampMessage::Yield { request: inv, options: Dict::new(), payload: Payload::default() }
        )
        .is_empty());
    assert_eq!(
        h.feed(
            callee,
            WampMessage::Yield { request: inv, options: Dict::new(), payload: Payload::default() }
        )
        .len(),
        1
    );
}

#[test]
fn leaving_removes_subscriptions() {
    let mut h = Harness::new();
    let (publisher, sub) = (h.join(), h.join());
    subscribed(&h.feed(sub, subscribe(1, "com.topic")));
    h.leave(sub);
    assert!(h.feed(publisher, publish(1, Dict::new(), "com.topic", Payload::default())).is_empty());
    assert_eq!(h.realm.broker.topic_count(), 0);
}

#[test]
fn client_only_errors_and_router_messages_are_violations() {
    let mut h = Harness::new();
    let s = h.join();
    let error = WampMessage::Error {
        request_type: code::CALL,
        request: 1,
        details: Dict::new(),
        error: "x.y".into(),
        payload: Payload::default(),
    };
    assert!(matches!(
        h.feed(s, error).as_slice(),
        [Effect::Close { reason, .. }] if reason == errors::PROTOCOL_VIOLATION
    ));
    let s = h.join();
    let event = WampMessage::Event {
        subscription: 1,
        publication: 1,
        details: Dict::new(),
        payload: Payload::default(),
    };
    assert!(matches!(
        h.feed(s, event).as_slice(),
        [Effect::Close { reason, .. }] if reason == errors::PROTOCOL_VIOLATION
    ));
}

#[test]
fn events_from_one_publisher_arrive_in_publishing_order() {
    let mut h = Harness::new();
    let (publisher, sub) = (h.join(), h.join());
    subscribed(&h.feed(sub, subscribe(1, "com.a")));
    subscribed(&h.feed(sub, subscribe(2, "com.b")));
    let mut seen = Vec::new();
    for i in 0..100i64 {
        let topic = if i % 2 == 0 { "com.a" } else { "com.b" };
        for e in h.feed(publisher, publish(1, Dict::new(), topic, args(&[i.into()]))) {
            if let Effect::Send { message: WampMessage::Event { payload, .. }, .. } = e {
                seen.push(payload.args_list()[0].as_i64().unwrap());
            }
        }
    }
    assert_eq!(seen, (0..100).collect::<Vec<_>>());
}

#[test]
fn a_realm_given_seeded_ids_repeats_exactly() {
    use crate::protocol::id_source::SeededRandom;
    let run = || {
        let ids = IdAllocator::new(Box::new(SeededRandom::new(42)));
        let mut realm = RealmCore::with_ids("realm1", RealmSettings::default(), ids);
        let mut out = Outbox::new();
        let s = realm.join(
            Member { identity: Identity::anonymous(), roles: ClientRoles::BASIC, in_process: false },
            &mut out,
        );
        let options = opts(&[("acknowledge", Value::from(true))]);
        realm.handle(s, publish(1, options, "com.topic", Payload::default()), &mut out);
        (s, out.drain().collect::<Vec<_>>())
    };
    let (first, second) = (run(), run());
    assert_eq!(first, second);
    assert!(matches!(first.1.as_slice(), [Effect::Send { message: WampMessage::Published { .. }, .. }]));
}

fn limited(limits: SessionLimits) -> Harness {
    Harness::with(RealmSettings { limits, ..Default::default() })
}

fn only_error(effects: &[Effect]) -> (String, String) {
    match effects {
        [Effect::Send { message: WampMessage::Error { error, payload, .. }, .. }] => {
            (error.clone(), payload.args_list()[0].as_str().unwrap_or_default().to_owned())
        }
        other => panic!("expected one ERROR, got {other:?}"),
    }
}

#[test]
fn a_session_may_hold_only_so_many_subscriptions() {
    let mut h = limited(SessionLimits { subscriptions: 2, ..Default::default() });
    let (s, other) = (h.join(), h.join());
    subscribed(&h.feed(s, subscribe(1, "t.a")));
    subscribed(&h.feed(s, subscribe(2, "t.b")));
    // Subscribing again to a held topic takes nothing new.
    subscribed(&h.feed(s, subscribe(3, "t.a")));
    let (uri, text) = only_error(&h.feed(s, subscribe(4, "t.c")));
    assert_eq!(uri, errors::TOO_MANY_SUBSCRIPTIONS);
    assert!(text.contains("max_subscriptions_per_session"), "{text}");
    // Another session is not affected, and unsubscribing makes room.
    subscribed(&h.feed(other, subscribe(1, "t.c")));
    let id = match h.feed(s, subscribe(5, "t.b")).as_slice() {
        [Effect::Send { message: WampMessage::Subscribed { subscription, .. }, .. }] => *subscription,
        other => panic!("{other:?}"),
    };
    h.feed(s, WampMessage::Unsubscribe { request: 6, subscription: id });
    subscribed(&h.feed(s, subscribe(7, "t.c")));
}

#[test]
fn a_session_may_hold_only_so_many_registrations() {
    let mut h = limited(SessionLimits { registrations: 1, ..Default::default() });
    let s = h.join();
    registered(&h.feed(s, register(1, "p.a")));
    let (uri, text) = only_error(&h.feed(s, register(2, "p.b")));
    assert_eq!(uri, errors::TOO_MANY_REGISTRATIONS);
    assert!(text.contains("max_registrations_per_session"), "{text}");
}

#[test]
fn calls_in_flight_are_limited_per_caller_and_per_callee() {
    let mut h = limited(SessionLimits { calls: 2, invocations: 3, ..Default::default() });
    let (callee, a, b) = (h.join(), h.join(), h.join());
    registered(&h.feed(callee, register(1, "p.slow")));
    h.feed(a, call(1, "p.slow", Payload::default()));
    h.feed(a, call(2, "p.slow", Payload::default()));
    let (uri, text) = only_error(&h.feed(a, call(3, "p.slow", Payload::default())));
    assert_eq!(uri, errors::TOO_MANY_CALLS);
    assert!(text.contains("max_calls_per_session"), "{text}");
    let invocation = match h.feed(b, call(1, "p.slow", Payload::default())).as_slice() {
        [Effect::Send { message: WampMessage::Invocation { request, .. }, .. }] => *request,
        other => panic!("{other:?}"),
    };
    let (uri, text) = only_error(&h.feed(b, call(2, "p.slow", Payload::default())));
    assert_eq!(uri, errors::CALLEE_OVERLOADED);
    assert!(text.contains("max_invocations_per_session"), "{text}");
    // An answer makes room again.
    h.feed(
        callee,
        WampMessage::Yield { request: invocation, options: Dict::new(), payload: Payload::default() },
    );
    assert!(matches!(
        h.feed(b, call(3, "p.slow", Payload::default())).as_slice(),
        [Effect::Send { message: WampMessage::Invocation { .. }, .. }]
    ));
}

#[test]
fn a_realm_with_as_many_calls_in_flight_as_it_can_track_refuses_more() {
    let mut h = Harness::new();
    h.realm.dealer.hold_at_most(2);
    let (callee, caller) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "p.slow")));
    let invocation = match h.feed(caller, call(1, "p.slow", Payload::default())).as_slice() {
        [Effect::Send { message: WampMessage::Invocation { request, .. }, .. }] => *request,
        other => panic!("{other:?}"),
    };
    h.feed(caller, call(2, "p.slow", Payload::default()));
    let (uri, text) = only_error(&h.feed(caller, call(3, "p.slow", Payload::default())));
    assert_eq!(uri, errors::CALLEE_OVERLOADED);
    assert!(text.contains("calls in flight in this realm"), "{text}");
    assert_eq!(h.realm.pending_calls(), 2);
    assert_eq!(h.realm.dealer.invocations_of(callee), 2, "the refused call is not counted");
    // The refused request id is free: the caller may use it again once
    // there is room.
    h.feed(
        callee,
        WampMessage::Yield { request: invocation, options: Dict::new(), payload: Payload::default() },
    );
    assert!(matches!(
        h.feed(caller, call(3, "p.slow", Payload::default())).as_slice(),
        [Effect::Send { message: WampMessage::Invocation { .. }, .. }]
    ));
}

#[test]
fn a_late_answer_to_an_ended_call_never_answers_the_call_made_after_it() {
    let mut h = Harness::new();
    let (callee, caller) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "p.slow")));
    let invocation_of = |effects: Vec<Effect>| match effects.as_slice() {
        [Effect::Send { message: WampMessage::Invocation { request, .. }, .. }] => *request,
        other => panic!("{other:?}"),
    };
    let first = invocation_of(h.feed(caller, call(1, "p.slow", Payload::default())));
    // Canceled without asking the callee: the call ends, its callee may
    // still answer it.
    let cancel = WampMessage::Cancel { request: 1, options: opts(&[("mode", Value::from("skip"))]) };
    assert_eq!(error_uri(&h.feed(caller, cancel)).3, errors::CANCELED);
    let second = invocation_of(h.feed(caller, call(2, "p.slow", Payload::default())));
    assert_ne!(first, second, "an invocation id names one call for good");
    let answer =
        |request| WampMessage::Yield { request, options: Dict::new(), payload: args(&[Value::from(7)]) };
    assert!(h.feed(callee, answer(first)).is_empty(), "the late answer is dropped");
    assert_eq!(h.realm.pending_calls(), 1);
    match h.feed(callee, answer(second)).as_slice() {
        [Effect::Send { to, message: WampMessage::Result { request: 2, .. } }] => assert_eq!(*to, caller),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_callee_leaving_fails_the_calls_it_had_in_the_order_they_were_made() {
    let mut h = Harness::new();
    let (callee, a, b) = (h.join(), h.join(), h.join());
    registered(&h.feed(callee, register(1, "p.slow")));
    let mut invocations = Vec::new();
    for (caller, request) in [(a, 1), (b, 1), (a, 2), (b, 2), (a, 3)] {
        match h.feed(caller, call(request, "p.slow", Payload::default())).as_slice() {
            [Effect::Send { message: WampMessage::Invocation { request, .. }, .. }] => {
                invocations.push(*request)
            }
            other => panic!("{other:?}"),
        }
    }
    // One answered from the middle of the callee's list.
    h.feed(
        callee,
        WampMessage::Yield { request: invocations[2], options: Dict::new(), payload: Payload::default() },
    );
    let failed: Vec<(Id, Id)> = h
        .leave(callee)
        .iter()
        .map(|e| match e {
            Effect::Send { to, message: WampMessage::Error { request, request_type: code::CALL, .. } } => {
                (*to, *request)
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(failed, [(a, 1), (b, 1), (b, 2), (a, 3)]);
    assert_eq!(h.realm.pending_calls(), 0);
}

#[test]
fn uris_over_the_length_limit_are_refused_without_being_repeated() {
    let uris = UriRules { max_length: 16, ..Default::default() };
    let mut h = Harness::with(RealmSettings { uris, ..Default::default() });
    let s = h.join();
    let long = "com.example.a.very.long.topic";
    let (uri, text) = only_error(&h.feed(s, subscribe(1, long)));
    assert_eq!(uri, errors::INVALID_URI);
    assert!(text.contains("max_uri_length") && !text.contains(long), "{text}");
    let (uri, _) = only_error(&h.feed(s, register(2, long)));
    assert_eq!(uri, errors::INVALID_URI);
    let (uri, _) = only_error(&h.feed(s, call(3, long, Payload::default())));
    assert_eq!(uri, errors::INVALID_URI);
}

#[test]
fn a_call_not_answered_within_the_call_timeout_fails_with_timeout() {
    let call_timeout = Some(std::time::Duration::from_secs(5));
    let mut h = Harness::with(RealmSettings { call_timeout, ..Default::default() });
    let (caller, callee) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "p.slow")));
    let secs = std::time::Duration::from_secs;
    h.realm.set_clock(secs(100));
    let first = match h.feed(caller, call(1, "p.slow", Payload::default())).as_slice() {
        [Effect::Send { message: WampMessage::Invocation { request, .. }, .. }] => *request,
        other => panic!("{other:?}"),
    };
    h.realm.set_clock(secs(102));
    h.feed(caller, call(2, "p.slow", Payload::default()));
    assert_eq!(h.realm.next_deadline(), Some(secs(105)));
    h.realm.set_clock(std::time::Duration::from_millis(104_999));
    h.realm.expire(&mut h.out);
    assert!(h.out.is_empty(), "not early");
    h.realm.set_clock(secs(105));
    h.realm.expire(&mut h.out);
    let effects: Vec<Effect> = h.out.drain().collect();
    let (uri, text) = only_error(&effects);
    assert_eq!(uri, errors::TIMEOUT);
    assert!(text.contains("call_timeout"), "{text}");
    assert!(
        matches!(effects.as_slice(), [Effect::Send { to, message: WampMessage::Error { request: 1, .. } }] if *to == caller)
    );
    // The late answer goes nowhere; the second call is still pending.
    assert!(h
        .feed(
            callee,
            WampMessage::Yield { request: first, options: Dict::new(), payload: Payload::default() }
        )
        .is_empty());
    assert_eq!(h.realm.pending_calls(), 1);
    assert_eq!(h.realm.next_deadline(), Some(secs(107)));
}

#[test]
fn a_coarse_clock_moves_deadlines_later_by_its_resolution() {
    let call_timeout = Some(std::time::Duration::from_secs(5));
    let mut h = Harness::with(RealmSettings { call_timeout, ..Default::default() });
    // Readings of a clock updated every 4 ms: the call may have been
    // routed up to 4 ms after the reading before it.
    h.realm.set_clock_resolution(std::time::Duration::from_millis(4));
    let (caller, callee) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "p.slow")));
    let millis = std::time::Duration::from_millis;
    h.realm.set_clock(millis(100_000));
    h.feed(caller, call(1, "p.slow", Payload::default()));
    // 105.004 s, rounded up to the next tenth of a second.
    assert_eq!(h.realm.next_deadline(), Some(millis(105_100)));
    h.realm.set_clock(millis(105_099));
    h.realm.expire(&mut h.out);
    assert!(h.out.is_empty(), "not early");
    h.realm.set_clock(millis(105_100));
    h.realm.expire(&mut h.out);
    let effects: Vec<Effect> = h.out.drain().collect();
    assert_eq!(only_error(&effects).0, errors::TIMEOUT);
}

#[test]
fn answered_calls_leave_no_deadline_behind() {
    let call_timeout = Some(std::time::Duration::from_secs(5));
    let mut h = Harness::with(RealmSettings { call_timeout, ..Default::default() });
    let (caller, callee) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "p.echo")));
    let secs = std::time::Duration::from_secs;
    // One call stays pending from the start; thousands are answered after it.
    h.realm.set_clock(secs(10));
    h.feed(caller, call(1, "p.echo", Payload::default()));
    for request in 2..5_000 {
        h.realm.set_clock(secs(10 + request / 100));
        let invocation = match h.feed(caller, call(request, "p.echo", Payload::default())).as_slice() {
            [Effect::Send { message: WampMessage::Invocation { request, .. }, .. }] => *request,
            other => panic!("{other:?}"),
        };
        let answer =
            WampMessage::Yield { request: invocation, options: Dict::new(), payload: Payload::default() };
        assert!(matches!(
            h.feed(callee, answer).as_slice(),
            [Effect::Send { message: WampMessage::Result { .. }, .. }]
        ));
        assert!(
            h.realm.deadline_entries() <= 2 * h.realm.pending_calls() + 64,
            "answered deadlines are swept"
        );
    }
    assert_eq!(h.realm.pending_calls(), 1);
    assert_eq!(h.realm.next_deadline(), Some(secs(15)), "the pending call's deadline");
    // Long after every answered call's deadline, only the pending call fails.
    h.realm.set_clock(secs(100));
    h.realm.expire(&mut h.out);
    let effects: Vec<Effect> = h.out.drain().collect();
    assert!(matches!(
        effects.as_slice(),
        [Effect::Send { message: WampMessage::Error { request: 1, .. }, .. }]
    ));
    assert_eq!(h.realm.next_deadline(), None);
}

mod advanced;
mod authorization;
mod meta;
mod native;
