//! The realm core, message by message.

use super::*;
use crate::router::outbox::Effect;

struct Harness {
    realm: RealmCore,
    out: Outbox,
}

impl Harness {
    fn new() -> Self {
        Harness { realm: RealmCore::new("realm1", RealmSettings::default()), out: Outbox::new() }
    }

    fn join(&mut self) -> Id {
        self.realm.join(SessionInfo { identity: Identity::anonymous() })
    }

    /// Feeds one message and returns what the realm produced.
    fn feed(&mut self, session: Id, message: Message) -> Vec<Effect> {
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

fn subscribe(request: Id, topic: &str) -> Message {
    Message::Subscribe { request, options: Dict::new(), topic: topic.into() }
}

fn register(request: Id, procedure: &str) -> Message {
    Message::Register { request, options: Dict::new(), procedure: procedure.into() }
}

fn call(request: Id, procedure: &str, payload: Payload) -> Message {
    Message::Call { request, options: Dict::new(), procedure: procedure.into(), payload }
}

fn publish(request: Id, options: Dict, topic: &str, payload: Payload) -> Message {
    Message::Publish { request, options, topic: topic.into(), payload }
}

fn sent(to: Id, message: Message) -> Effect {
    Effect::Send { to, message }
}

fn error_uri(effects: &[Effect]) -> (Id, u64, Id, String) {
    match effects {
        [Effect::Send { to, message: Message::Error { request_type, request, error, .. } }] => {
            (*to, *request_type, *request, error.clone())
        }
        other => panic!("expected one ERROR, got {other:?}"),
    }
}

fn subscribed(effects: &[Effect]) -> Id {
    match effects {
        [Effect::Send { message: Message::Subscribed { subscription, .. }, .. }] => *subscription,
        other => panic!("expected SUBSCRIBED, got {other:?}"),
    }
}

fn registered(effects: &[Effect]) -> Id {
    match effects {
        [Effect::Send { message: Message::Registered { registration, .. }, .. }] => *registration,
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
    let [Effect::Send { to, message: Message::Event { subscription, payload, .. } }] = effects.as_slice()
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
        Effect::Send { to: t1, message: Message::Event { publication: p1, .. } },
        Effect::Send { to: t2, message: Message::Published { request, publication: p2 } },
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
            assert_eq!((*to, *reason), (s, errors::PROTOCOL_VIOLATION));
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
        h.feed(sub, Message::Unsubscribe { request: 2, subscription: s }),
        [sent(sub, Message::Unsubscribed { request: 2 })]
    );
    assert!(h.feed(publisher, publish(1, Dict::new(), "com.topic", Payload::default())).is_empty());
    let effects = h.feed(sub, Message::Unsubscribe { request: 3, subscription: s });
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
    let [Effect::Send { to, message: Message::Invocation { request: inv, registration, payload: p, .. } }] =
        effects.as_slice()
    else {
        panic!("expected INVOCATION, got {effects:?}");
    };
    assert_eq!((*to, *registration, p), (callee, reg, &payload));
    let result = args(&[3.into()]);
    let effects =
        h.feed(callee, Message::Yield { request: *inv, options: Dict::new(), payload: result.clone() });
    assert_eq!(
        effects,
        [sent(caller, Message::Result { request: 5, details: Dict::new(), payload: result })]
    );
    assert_eq!(h.realm.pending_calls(), 0);
}

#[test]
fn callee_error_reaches_the_caller_with_uri_args_and_kwargs() {
    let mut h = Harness::new();
    let (caller, callee) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "com.fail")));
    let effects = h.feed(caller, call(8, "com.fail", Payload::default()));
    let [Effect::Send { message: Message::Invocation { request: inv, .. }, .. }] = effects.as_slice() else {
        panic!()
    };
    let payload = Payload::new(vec!["bad".into()], opts(&[("code", 42.into())]));
    let error = Message::Error {
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
            Message::Error {
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
    let prefix = Message::Register {
        request: 6,
        options: opts(&[("match", "prefix".into())]),
        procedure: "com".into(),
    };
    assert_eq!(error_uri(&h.feed(b, prefix)), (b, code::REGISTER, 6, errors::OPTION_NOT_ALLOWED.into()));
}

#[test]
fn unregister_frees_the_procedure_and_only_the_owner_may() {
    let mut h = Harness::new();
    let (a, b) = (h.join(), h.join());
    let reg = registered(&h.feed(a, register(1, "com.proc")));
    let effects = h.feed(b, Message::Unregister { request: 2, registration: reg });
    assert_eq!(error_uri(&effects), (b, code::UNREGISTER, 2, errors::NO_SUCH_REGISTRATION.into()));
    assert_eq!(
        h.feed(a, Message::Unregister { request: 3, registration: reg }),
        [sent(a, Message::Unregistered { request: 3 })]
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
            Effect::Send { to, message: Message::Error { request, error, request_type: code::CALL, .. } } => {
                (*to, *request, error.clone())
            }
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
    let [Effect::Send { message: Message::Invocation { request: inv, .. }, .. }] = effects.as_slice() else {
        panic!()
    };
    let inv = *inv;
    assert!(h.leave(caller).is_empty());
    assert_eq!(h.realm.pending_calls(), 0);
    assert!(h
        .feed(callee, Message::Yield { request: inv, options: Dict::new(), payload: Payload::default() })
        .is_empty());
}

#[test]
fn only_the_callee_may_answer_an_invocation() {
    let mut h = Harness::new();
    let (caller, callee, intruder) = (h.join(), h.join(), h.join());
    registered(&h.feed(callee, register(1, "com.proc")));
    let effects = h.feed(caller, call(1, "com.proc", Payload::default()));
    let [Effect::Send { message: Message::Invocation { request: inv, .. }, .. }] = effects.as_slice() else {
        panic!()
    };
    let inv = *inv;
    assert!(h
        .feed(intruder, Message::Yield { request: inv, options: Dict::new(), payload: Payload::default() })
        .is_empty());
    assert_eq!(
        h.feed(callee, Message::Yield { request: inv, options: Dict::new(), payload: Payload::default() })
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
    let error = Message::Error {
        request_type: code::CALL,
        request: 1,
        details: Dict::new(),
        error: "x.y".into(),
        payload: Payload::default(),
    };
    assert!(matches!(
        h.feed(s, error).as_slice(),
        [Effect::Close { reason: errors::PROTOCOL_VIOLATION, .. }]
    ));
    let s = h.join();
    let event =
        Message::Event { subscription: 1, publication: 1, details: Dict::new(), payload: Payload::default() };
    assert!(matches!(
        h.feed(s, event).as_slice(),
        [Effect::Close { reason: errors::PROTOCOL_VIOLATION, .. }]
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
            if let Effect::Send { message: Message::Event { payload, .. }, .. } = e {
                seen.push(payload.args_list()[0].as_i64().unwrap());
            }
        }
    }
    assert_eq!(seen, (0..100).collect::<Vec<_>>());
}
