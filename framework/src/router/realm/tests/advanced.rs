//! Advanced profile features of the realm core, message by message.

use super::*;

impl Harness {
    fn join_as(&mut self, authid: &str, authrole: &str) -> Id {
        let identity = Identity { authid: authid.into(), authrole: authrole.into(), ..Identity::anonymous() };
        self.join_with(Member { identity, roles: ClientRoles::BASIC, in_process: false }).0
    }
}

fn events(effects: &[Effect]) -> Vec<(Id, Dict)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, message: WampMessage::Event { details, .. } } => Some((*to, details.clone())),
            _ => None,
        })
        .collect()
}

fn receivers(effects: &[Effect]) -> Vec<Id> {
    let mut to: Vec<Id> = events(effects).into_iter().map(|(to, _)| to).collect();
    to.sort_unstable();
    to
}

fn sorted(mut ids: Vec<Id>) -> Vec<Id> {
    ids.sort_unstable();
    ids
}

fn only_error(effects: &[Effect]) -> (String, String) {
    match effects {
        [Effect::Send { message: WampMessage::Error { error, payload, .. }, .. }] => (
            error.clone(),
            payload.args_list().first().and_then(Value::as_str).unwrap_or_default().to_owned(),
        ),
        other => panic!("expected one ERROR, got {other:?}"),
    }
}

fn invocation(effects: &[Effect]) -> (Id, Dict) {
    match effects {
        [Effect::Send { message: WampMessage::Invocation { request, details, .. }, .. }] => {
            (*request, details.clone())
        }
        other => panic!("expected one INVOCATION, got {other:?}"),
    }
}

fn ids(values: &[Id]) -> Value {
    Value::List(values.iter().map(|id| Value::from(*id)).collect())
}

fn names(values: &[&str]) -> Value {
    Value::List(values.iter().map(|n| Value::from(*n)).collect())
}

#[test]
fn black_and_white_lists_choose_the_receivers() {
    let mut h = Harness::new();
    let publisher = h.join_as("pub", "service");
    let alice = h.join_as("alice", "staff");
    let bob = h.join_as("bob", "staff");
    let carol = h.join_as("carol", "manager");
    for s in [alice, bob, carol] {
        subscribed(&h.feed(s, subscribe(1, "com.news")));
    }
    let mut to = |options: Dict| {
        let effects = h.feed(publisher, publish(1, options, "com.news", Payload::default()));
        receivers(&effects)
    };
    assert_eq!(to(Dict::new()), sorted(vec![alice, bob, carol]));
    assert_eq!(to(opts(&[("exclude", ids(&[bob]))])), sorted(vec![alice, carol]));
    assert_eq!(to(opts(&[("eligible", ids(&[bob, carol, publisher]))])), sorted(vec![bob, carol]));
    assert_eq!(to(opts(&[("exclude_authid", names(&["alice", "nobody"]))])), sorted(vec![bob, carol]));
    assert_eq!(to(opts(&[("eligible_authid", names(&["carol"]))])), vec![carol]);
    assert_eq!(to(opts(&[("exclude_authrole", names(&["staff"]))])), vec![carol]);
    assert_eq!(to(opts(&[("eligible_authrole", names(&["staff"]))])), sorted(vec![alice, bob]));
    // Every whitelist given must hold, and no blacklist.
    let both = opts(&[("eligible_authrole", names(&["staff"])), ("exclude", ids(&[alice]))]);
    assert_eq!(to(both), vec![bob]);
    assert_eq!(to(opts(&[("eligible", ids(&[]))])), Vec::<Id>::new());
}

#[test]
fn a_publisher_that_asks_is_disclosed_to_subscribers() {
    let mut h = Harness::new();
    let publisher = h.join_as("pub", "service");
    let sub = h.join();
    subscribed(&h.feed(sub, subscribe(1, "com.news")));
    let plain = events(&h.feed(publisher, publish(1, Dict::new(), "com.news", Payload::default())));
    assert_eq!(plain, vec![(sub, Dict::new())]);
    let options = opts(&[("disclose_me", true.into())]);
    let disclosed = events(&h.feed(publisher, publish(2, options, "com.news", Payload::default())));
    let expected = opts(&[
        ("publisher", publisher.into()),
        ("publisher_authid", "pub".into()),
        ("publisher_authrole", "service".into()),
    ]);
    assert_eq!(disclosed, vec![(sub, expected)]);
}

#[test]
fn passthru_payloads_travel_with_their_keys() {
    let mut h = Harness::new();
    let (publisher, sub, caller, callee) = (h.join(), h.join(), h.join(), h.join());
    subscribed(&h.feed(sub, subscribe(1, "com.secret")));
    registered(&h.feed(callee, register(1, "com.secret.call")));
    let enc = opts(&[
        ("enc_algo", "cryptobox".into()),
        ("enc_serializer", "json".into()),
        ("enc_key", "k1".into()),
    ]);
    let sealed = Payload::Transparent(vec![0xa1, 0x66, 0x6e]);
    let effects = h.feed(publisher, publish(1, enc.clone(), "com.secret", sealed.clone()));
    match effects.as_slice() {
        [Effect::Send { message: WampMessage::Event { details, payload, .. }, .. }] => {
            assert_eq!((details, payload), (&enc, &sealed));
        }
        other => panic!("{other:?}"),
    }
    let call = WampMessage::Call {
        request: 5,
        options: enc.clone(),
        procedure: "com.secret.call".into(),
        payload: sealed.clone(),
    };
    let (request, details) = invocation(&h.feed(caller, call));
    assert_eq!(details, enc);
    let answer = WampMessage::Yield { request, options: enc.clone(), payload: sealed.clone() };
    assert_eq!(
        h.feed(callee, answer),
        vec![sent(caller, WampMessage::Result { request: 5, details: enc, payload: sealed })]
    );
}

#[test]
fn the_wamp_namespace_is_the_routers() {
    let mut h = Harness::new();
    let s = h.join();
    let (uri, text) = only_error(&h.feed(s, register(1, "wamp.session.count")));
    assert_eq!(uri, errors::INVALID_URI);
    assert!(text.contains("'wamp.'"), "{text}");
    subscribed(&h.feed(s, subscribe(2, "wamp.session.on_join")));
    let acknowledged = opts(&[("acknowledge", true.into()), ("exclude_me", false.into())]);
    let (uri, _) =
        only_error(&h.feed(s, publish(3, acknowledged, "wamp.session.on_join", Payload::default())));
    assert_eq!(uri, errors::INVALID_URI);
    assert!(h.feed(s, publish(4, Dict::new(), "wamp.session.on_join", Payload::default())).is_empty());
}

#[test]
fn options_the_router_does_not_implement_are_refused_by_name() {
    let mut h = Harness::new();
    let s = h.join();
    registered(&h.feed(s, register(1, "com.p")));
    let publish_hashed = opts(&[("acknowledge", true.into()), ("transaction_hash", "abc".into())]);
    let cases = [
        publish(2, publish_hashed, "com.t", Payload::default()),
        WampMessage::Subscribe {
            request: 3,
            options: opts(&[("forward_for", Value::List(vec![]))]),
            topic: "com.t".into(),
        },
        WampMessage::Register {
            request: 4,
            options: opts(&[("concurrency", 2.into())]),
            procedure: "com.q".into(),
        },
        WampMessage::Register {
            request: 5,
            options: opts(&[("force_reregister", true.into())]),
            procedure: "com.r".into(),
        },
        WampMessage::Call {
            request: 6,
            options: opts(&[("forward_for", Value::List(vec![]))]),
            procedure: "com.p".into(),
            payload: Payload::default(),
        },
    ];
    for (message, key) in cases.into_iter().zip([
        "transaction_hash",
        "forward_for",
        "concurrency",
        "force_reregister",
        "forward_for",
    ]) {
        let (uri, text) = only_error(&h.feed(s, message));
        assert_eq!(uri, errors::OPTION_NOT_ALLOWED, "{key}");
        assert!(text.contains(&format!("'{key}'")), "{text}");
    }
    // Asking for the default is not asking for the feature.
    let effects = h.feed(
        s,
        publish(
            7,
            opts(&[("acknowledge", true.into()), ("disclose_me", false.into())]),
            "com.t",
            Payload::default(),
        ),
    );
    assert!(
        matches!(effects.as_slice(), [Effect::Send { message: WampMessage::Published { .. }, .. }]),
        "{effects:?}"
    );
}

#[test]
fn the_caller_is_disclosed_when_it_or_the_registration_asks() {
    let mut h = Harness::new();
    let caller = h.join_as("alice", "user");
    let callee = h.join();
    registered(&h.feed(callee, register(1, "com.plain")));
    let options = opts(&[("disclose_caller", true.into())]);
    registered(&h.feed(callee, WampMessage::Register { request: 2, options, procedure: "com.told".into() }));
    let expected = opts(&[
        ("caller", caller.into()),
        ("caller_authid", "alice".into()),
        ("caller_authrole", "user".into()),
    ]);
    assert_eq!(invocation(&h.feed(caller, call(1, "com.plain", Payload::default()))).1, Dict::new());
    assert_eq!(invocation(&h.feed(caller, call(2, "com.told", Payload::default()))).1, expected);
    let asked = WampMessage::Call {
        request: 3,
        options: opts(&[("disclose_me", true.into())]),
        procedure: "com.plain".into(),
        payload: Payload::default(),
    };
    assert_eq!(invocation(&h.feed(caller, asked)).1, expected);
}

#[test]
fn a_calls_own_timeout_ends_it_when_shorter_than_the_routers() {
    let secs = std::time::Duration::from_secs;
    let mut h = Harness::with(RealmSettings { call_timeout: Some(secs(10)), ..Default::default() });
    let (caller, callee) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "com.slow")));
    let timed = |request: Id, ms: i64| WampMessage::Call {
        request,
        options: opts(&[("timeout", ms.into())]),
        procedure: "com.slow".into(),
        payload: Payload::default(),
    };
    h.realm.set_clock(secs(100));
    assert!(h.realm.reads_clock(&timed(1, 2_000)));
    invocation(&h.feed(caller, timed(1, 2_000)));
    invocation(&h.feed(caller, timed(2, 60_000))); // the router's 10 s count
    invocation(&h.feed(caller, timed(3, 0))); // 0: no timeout of its own
    assert_eq!(h.realm.next_deadline(), Some(secs(102)));
    h.realm.set_clock(secs(102));
    h.realm.expire(&mut h.out);
    let effects: Vec<Effect> = h.out.drain().collect();
    let (uri, text) = only_error(&effects);
    assert_eq!(uri, errors::TIMEOUT);
    assert!(text.contains("call's timeout"), "{text}");
    assert!(matches!(
        effects.as_slice(),
        [Effect::Send { message: WampMessage::Error { request: 1, .. }, .. }]
    ));
    h.realm.set_clock(secs(110));
    h.realm.expire(&mut h.out);
    let late: Vec<Effect> = h.out.drain().collect();
    assert_eq!(late.len(), 2, "{late:?}");
    assert!(late.iter().all(|e| matches!(e, Effect::Send { message: WampMessage::Error { error, .. }, .. } if error == errors::TIMEOUT)));
    // Without a router timeout, only calls with their own read the clock.
    let h = Harness::new();
    assert!(!h.realm.reads_clock(&call(1, "com.slow", Payload::default())));
    assert!(h.realm.reads_clock(&timed(1, 5)));
}

#[test]
fn progressive_results_reach_a_caller_that_asked_for_them() {
    let mut h = Harness::new();
    let (caller, callee) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "com.count")));
    let progress = opts(&[("progress", true.into())]);
    let asked = WampMessage::Call {
        request: 7,
        options: opts(&[("receive_progress", true.into())]),
        procedure: "com.count".into(),
        payload: Payload::default(),
    };
    let (request, details) = invocation(&h.feed(caller, asked));
    assert_eq!(details, opts(&[("receive_progress", true.into())]));
    for n in 0..3 {
        let step = WampMessage::Yield { request, options: progress.clone(), payload: args(&[n.into()]) };
        let expected =
            WampMessage::Result { request: 7, details: progress.clone(), payload: args(&[n.into()]) };
        assert_eq!(h.feed(callee, step), vec![sent(caller, expected)]);
    }
    assert_eq!(h.realm.pending_calls(), 1);
    let last = WampMessage::Yield { request, options: Dict::new(), payload: args(&["done".into()]) };
    let expected = WampMessage::Result { request: 7, details: Dict::new(), payload: args(&["done".into()]) };
    assert_eq!(h.feed(callee, last), vec![sent(caller, expected)]);
    assert_eq!(h.realm.pending_calls(), 0);
    // A caller that did not ask gets the final result only.
    let (request, details) = invocation(&h.feed(caller, call(8, "com.count", Payload::default())));
    assert_eq!(details, Dict::new());
    assert!(h
        .feed(callee, WampMessage::Yield { request, options: progress, payload: Payload::default() })
        .is_empty());
    let last = WampMessage::Yield { request, options: Dict::new(), payload: Payload::default() };
    assert_eq!(h.feed(callee, last).len(), 1);
}

/// A session whose callee role announced `call_canceling`.
fn join_interruptible(h: &mut Harness) -> Id {
    let features = opts(&[("call_canceling", true.into())]);
    let callee = opts(&[("features", Value::Dict(features))]);
    let details = opts(&[("roles", Value::Dict(opts(&[("callee", Value::Dict(callee))])))]);
    let roles = ClientRoles::from_hello(&details).unwrap();
    h.join_with(Member { identity: Identity::anonymous(), roles, in_process: false }).0
}

fn cancel(request: Id, mode: Option<&str>) -> WampMessage {
    let options = mode.map(|m| opts(&[("mode", m.into())])).unwrap_or_default();
    WampMessage::Cancel { request, options }
}

fn interrupt_of(effect: &Effect) -> Option<(Id, Id, String)> {
    match effect {
        Effect::Send { to, message: WampMessage::Interrupt { request, options } } => {
            Some((*to, *request, options.get("mode").and_then(Value::as_str).unwrap_or_default().to_owned()))
        }
        _ => None,
    }
}

fn canceled_call(effect: &Effect) -> Option<(Id, Id)> {
    match effect {
        Effect::Send { to, message: WampMessage::Error { request_type: code::CALL, request, error, .. } }
            if error == errors::CANCELED =>
        {
            Some((*to, *request))
        }
        _ => None,
    }
}

#[test]
fn cancel_modes_against_a_callee_that_takes_interrupt() {
    let mut h = Harness::new();
    let caller = h.join();
    let callee = join_interruptible(&mut h);
    registered(&h.feed(callee, register(1, "com.slow")));
    // killnowait (also the default): the caller hears at once, the callee is interrupted.
    for (request, mode) in [(1, Some("killnowait")), (2, None)] {
        let (invocation, _) = invocation(&h.feed(caller, call(request, "com.slow", Payload::default())));
        let effects = h.feed(caller, cancel(request, mode));
        assert_eq!(effects.len(), 2, "{effects:?}");
        assert_eq!(canceled_call(&effects[0]), Some((caller, request)));
        assert_eq!(interrupt_of(&effects[1]), Some((callee, invocation, "killnowait".into())));
        let late = WampMessage::Error {
            request_type: code::INVOCATION,
            request: invocation,
            details: Dict::new(),
            error: errors::CANCELED.into(),
            payload: Payload::default(),
        };
        assert!(h.feed(callee, late).is_empty(), "the callee's answer is dropped");
    }
    // kill: the callee is interrupted and its answer ends the call.
    let (killed, _) = invocation(&h.feed(caller, call(3, "com.slow", Payload::default())));
    let effects = h.feed(caller, cancel(3, Some("kill")));
    assert_eq!(
        effects.iter().map(interrupt_of).collect::<Vec<_>>(),
        vec![Some((callee, killed, "kill".into()))]
    );
    assert!(h.feed(caller, cancel(3, Some("kill"))).is_empty(), "interrupted once");
    let answer = WampMessage::Yield {
        request: killed,
        options: Dict::new(),
        payload: args(&["finished anyway".into()]),
    };
    let expected =
        WampMessage::Result { request: 3, details: Dict::new(), payload: args(&["finished anyway".into()]) };
    assert_eq!(h.feed(callee, answer), vec![sent(caller, expected)]);
    // skip: the caller hears at once, the callee is not told.
    invocation(&h.feed(caller, call(4, "com.slow", Payload::default())));
    let effects = h.feed(caller, cancel(4, Some("skip")));
    assert_eq!(effects.iter().map(canceled_call).collect::<Vec<_>>(), vec![Some((caller, 4))]);
    assert_eq!(h.realm.pending_calls(), 0);
    // A call answered already, or never made: nothing.
    assert!(h.feed(caller, cancel(4, None)).is_empty());
    assert!(h.feed(caller, cancel(99, None)).is_empty());
}

#[test]
fn a_callee_without_call_canceling_is_never_interrupted() {
    let mut h = Harness::new();
    let (caller, callee) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "com.slow")));
    for (request, mode) in [(1, "kill"), (2, "killnowait"), (3, "skip")] {
        let (invocation, _) = invocation(&h.feed(caller, call(request, "com.slow", Payload::default())));
        let effects = h.feed(caller, cancel(request, Some(mode)));
        assert_eq!(
            effects.iter().map(canceled_call).collect::<Vec<_>>(),
            vec![Some((caller, request))],
            "{mode}"
        );
        let late =
            WampMessage::Yield { request: invocation, options: Dict::new(), payload: Payload::default() };
        assert!(h.feed(callee, late).is_empty());
    }
    assert_eq!(h.realm.pending_calls(), 0);
}

#[test]
fn a_timed_out_call_interrupts_a_callee_that_takes_it() {
    let secs = std::time::Duration::from_secs;
    let mut h = Harness::with(RealmSettings { call_timeout: Some(secs(1)), ..Default::default() });
    let caller = h.join();
    let callee = join_interruptible(&mut h);
    registered(&h.feed(callee, register(1, "com.slow")));
    h.realm.set_clock(secs(0));
    let (invocation, _) = invocation(&h.feed(caller, call(1, "com.slow", Payload::default())));
    h.realm.set_clock(secs(1));
    h.realm.expire(&mut h.out);
    let effects: Vec<Effect> = h.out.drain().collect();
    assert_eq!(effects.len(), 2, "{effects:?}");
    assert!(
        matches!(&effects[0], Effect::Send { to, message: WampMessage::Error { error, .. } } if *to == caller && error == errors::TIMEOUT)
    );
    assert_eq!(interrupt_of(&effects[1]), Some((callee, invocation, "killnowait".into())));
}

#[test]
fn a_request_id_in_use_by_a_call_in_flight_is_a_violation() {
    let mut h = Harness::new();
    let (caller, callee) = (h.join(), h.join());
    registered(&h.feed(callee, register(1, "com.slow")));
    invocation(&h.feed(caller, call(1, "com.slow", Payload::default())));
    let effects = h.feed(caller, call(1, "com.slow", Payload::default()));
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Close { to, reason, message } if *to == caller && *reason == errors::PROTOCOL_VIOLATION && message.contains("request id 1"))),
        "{effects:?}"
    );
}

fn subscribe_with(request: Id, policy: &str, topic: &str) -> WampMessage {
    WampMessage::Subscribe { request, options: opts(&[("match", policy.into())]), topic: topic.into() }
}

fn register_with(request: Id, policy: &str, procedure: &str) -> WampMessage {
    WampMessage::Register { request, options: opts(&[("match", policy.into())]), procedure: procedure.into() }
}

#[test]
fn pattern_subscriptions_receive_with_the_concrete_topic() {
    let mut h = Harness::new();
    let (publisher, a, b) = (h.join(), h.join(), h.join());
    let exact = subscribed(&h.feed(a, subscribe(1, "com.shop.order.new")));
    let prefix = subscribed(&h.feed(a, subscribe_with(2, "prefix", "com.shop.")));
    let wildcard = subscribed(&h.feed(b, subscribe_with(1, "wildcard", "com..order.new")));
    assert_eq!(
        subscribed(&h.feed(b, subscribe_with(2, "prefix", "com.shop."))),
        prefix,
        "shared per pattern"
    );
    assert_ne!(subscribed(&h.feed(b, subscribe_with(3, "wildcard", "com.shop."))), prefix, "and per policy");
    let effects = h.feed(publisher, publish(1, Dict::new(), "com.shop.order.new", args(&[7.into()])));
    let mut got: Vec<(Id, Id, Option<String>)> = effects
        .iter()
        .map(|e| match e {
            Effect::Send { to, message: WampMessage::Event { subscription, details, payload, .. } } => {
                assert_eq!(payload, &args(&[7.into()]));
                (*to, *subscription, details.get("topic").and_then(Value::as_str).map(str::to_owned))
            }
            other => panic!("{other:?}"),
        })
        .collect();
    got.sort_unstable();
    let topic = Some("com.shop.order.new".to_owned());
    let mut want =
        vec![(a, exact, None), (a, prefix, topic.clone()), (b, prefix, topic.clone()), (b, wildcard, topic)];
    want.sort_unstable();
    assert_eq!(got, want, "an event per matching subscription");
    // Other topics reach only the patterns they match.
    // b's wildcard `com.shop.` matches three-component topics under com.shop.
    let effects = h.feed(publisher, publish(2, Dict::new(), "com.shop.stock", Payload::default()));
    assert_eq!(receivers(&effects), sorted(vec![a, b, b]));
    let effects = h.feed(publisher, publish(3, Dict::new(), "com.bank.order.new", Payload::default()));
    assert_eq!(receivers(&effects), vec![b]);
    assert!(h.feed(publisher, publish(4, Dict::new(), "com.bank.order", Payload::default())).is_empty());
    // Unsubscribing the last subscriber removes the pattern.
    for (s, request) in [(a, 9), (b, 9)] {
        h.feed(s, WampMessage::Unsubscribe { request, subscription: prefix });
    }
    let effects = h.feed(publisher, publish(5, Dict::new(), "com.shop.stock", Payload::default()));
    assert_eq!(receivers(&effects), vec![b]);
}

#[test]
fn calls_go_to_the_best_matching_registration() {
    // The specification's example.
    let mut h = Harness::new();
    let caller = h.join();
    let callees: Vec<Id> = (0..7).map(|_| h.join()).collect();
    let registrations = [
        ("exact", "a1.b2.c3.d4.e55"),
        ("prefix", "a1.b2.c3"),
        ("prefix", "a1.b2.c3.d4"),
        ("wildcard", "a1.b2..d4.e5"),
        ("wildcard", "a1.b2.c3..e5"),
        ("wildcard", "a1.b2..d4.e5..g7"),
        ("wildcard", "a1.b2..d4..f6.g7"),
    ];
    for (callee, (policy, procedure)) in callees.iter().zip(registrations) {
        registered(&h.feed(*callee, register_with(1, policy, procedure)));
    }
    // The specification's example routes `a1.b2.c3.d4.e5` to the wildcard
    // `a1.b2.c3..e5`, but its own rule puts prefixes first, and the prefix
    // `a1.b2.c3.d4` matches: the rule decides here. The wildcard choice is
    // checked once the prefixes are gone, below.
    let cases = [
        ("a1.b2.c3.d4.e55", 0),
        ("a1.b2.c3.d98.e74", 1),
        ("a1.b2.c3.d4.e325", 2),
        ("a1.b2.c55.d4.e5", 3),
        ("a1.b2.c3.d4.e5", 2),
        ("a1.b2.c88.d4.e5.f6.g7", 5),
    ];
    let routed = |h: &mut Harness, request: Id, procedure: &str, expected: usize| {
        let effects = h.feed(caller, call(request, procedure, Payload::default()));
        match effects.as_slice() {
            [Effect::Send { to, message: WampMessage::Invocation { details, .. } }] => {
                assert_eq!(*to, callees[expected], "{procedure}");
                let concrete = details.get("procedure").and_then(Value::as_str);
                assert_eq!(concrete, (expected != 0).then_some(procedure), "{procedure}");
            }
            other => panic!("{procedure}: {other:?}"),
        }
    };
    for (request, (procedure, expected)) in (1..).zip(cases) {
        routed(&mut h, request, procedure, expected);
    }
    let (uri, _) = only_error(&h.feed(caller, call(99, "a2.b2.c2.d2.e2", Payload::default())));
    assert_eq!(uri, errors::NO_SUCH_PROCEDURE);
    // The same pattern twice is refused; another policy is another registration.
    let (uri, text) = only_error(&h.feed(caller, register_with(1, "prefix", "a1.b2.c3")));
    assert_eq!(uri, errors::PROCEDURE_ALREADY_EXISTS);
    assert!(text.contains("prefix"), "{text}");
    registered(&h.feed(caller, register_with(2, "exact", "a1.b2.c3")));
    // A callee leaving takes its patterns along.
    h.leave(callees[1]);
    let (uri, _) = only_error(&h.feed(caller, call(100, "a1.b2.c3.d98.e74", Payload::default())));
    assert_eq!(uri, errors::NO_SUCH_PROCEDURE);
    h.leave(callees[2]);
    routed(&mut h, 101, "a1.b2.c3.d4.e5", 4);
}

#[test]
fn patterns_are_checked_as_patterns() {
    let mut h = Harness::new();
    let s = h.join();
    subscribed(&h.feed(s, subscribe_with(1, "wildcard", "com..x")));
    registered(&h.feed(s, register_with(2, "wildcard", "com..x")));
    let (uri, _) = only_error(&h.feed(s, subscribe_with(3, "prefix", "com.a b")));
    assert_eq!(uri, errors::INVALID_URI);
    let (uri, _) = only_error(&h.feed(s, subscribe(4, "com..x")));
    assert_eq!(uri, errors::INVALID_URI, "an exact topic has no empty component");
    let (uri, _) = only_error(&h.feed(s, call(5, "com..x", Payload::default())));
    assert_eq!(uri, errors::INVALID_URI, "a call names a procedure, not a pattern");
}

fn register_shared(request: Id, invoke: &str, procedure: &str) -> WampMessage {
    WampMessage::Register {
        request,
        options: opts(&[("invoke", invoke.into())]),
        procedure: procedure.into(),
    }
}

#[test]
fn shared_registrations_spread_calls_and_survive_a_callee_leaving() {
    let mut h = Harness::new();
    let caller = h.join();
    let callees: Vec<Id> = (0..3).map(|_| h.join()).collect();
    let id = registered(&h.feed(callees[0], register_shared(1, "roundrobin", "com.work")));
    for callee in &callees[1..] {
        assert_eq!(registered(&h.feed(*callee, register_shared(1, "roundrobin", "com.work"))), id, "one id");
    }
    let (uri, text) = only_error(&h.feed(caller, register_shared(1, "random", "com.work")));
    assert_eq!(uri, errors::PROCEDURE_ALREADY_EXISTS);
    assert!(text.contains("roundrobin"), "{text}");
    let (uri, _) = only_error(&h.feed(caller, register(2, "com.work")));
    assert_eq!(uri, errors::PROCEDURE_ALREADY_EXISTS, "single cannot join a shared registration");
    let mut served = Vec::new();
    for request in 1..=6 {
        match h.feed(caller, call(request, "com.work", Payload::default())).as_slice() {
            [Effect::Send { to, message: WampMessage::Invocation { registration, .. } }] => {
                assert_eq!(*registration, id);
                served.push(callees.iter().position(|c| c == to).unwrap());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(served, vec![0, 1, 2, 0, 1, 2]);
    // One callee leaves (its calls fail), the others keep the registration.
    let effects = h.leave(callees[1]);
    assert_eq!(effects.len(), 2, "its two calls fail: {effects:?}");
    for request in 7..=8 {
        let effects = h.feed(caller, call(request, "com.work", Payload::default()));
        assert!(matches!(effects.as_slice(), [Effect::Send { to, .. }] if *to != callees[1]), "{effects:?}");
    }
    // Unregistering by a callee removes only that callee.
    let effects = h.feed(callees[0], WampMessage::Unregister { request: 5, registration: id });
    assert!(matches!(effects.as_slice(), [Effect::Send { message: WampMessage::Unregistered { .. }, .. }]));
    let effects = h.feed(caller, call(9, "com.work", Payload::default()));
    assert!(matches!(effects.as_slice(), [Effect::Send { to, .. }] if *to == callees[2]), "{effects:?}");
    h.leave(callees[2]);
    let (uri, _) = only_error(&h.feed(caller, call(10, "com.work", Payload::default())));
    assert_eq!(uri, errors::NO_SUCH_PROCEDURE);
    assert_eq!(h.realm.registration_count(), 0);
}

#[test]
fn first_and_last_pick_by_registration_order() {
    let mut h = Harness::new();
    let caller = h.join();
    let (a, b) = (h.join(), h.join());
    for (invoke, procedure) in [("first", "com.f"), ("last", "com.l")] {
        registered(&h.feed(a, register_shared(1, invoke, procedure)));
        registered(&h.feed(b, register_shared(1, invoke, procedure)));
    }
    let to = |effects: Vec<Effect>| match effects.as_slice() {
        [Effect::Send { to, .. }] => *to,
        other => panic!("{other:?}"),
    };
    assert_eq!(to(h.feed(caller, call(1, "com.f", Payload::default()))), a);
    assert_eq!(to(h.feed(caller, call(2, "com.l", Payload::default()))), b);
    h.leave(a);
    assert_eq!(to(h.feed(caller, call(3, "com.f", Payload::default()))), b);
}

#[test]
fn retained_events_reach_subscribers_that_ask_and_may_receive_them() {
    let mut h = Harness::new();
    let publisher = h.join_as("pub", "sensor");
    let (alice, bob) = (h.join_as("alice", "staff"), h.join_as("bob", "guest"));
    let retained = |request, value: i64, extra: &[(&str, Value)]| {
        let mut options = opts(&[("retain", true.into())]);
        options.extend(opts(extra));
        publish(request, options, "com.temp.room1", args(&[value.into()]))
    };
    assert!(h.feed(publisher, retained(1, 20, &[])).is_empty(), "kept without subscribers");
    assert!(h.feed(publisher, retained(2, 21, &[])).is_empty(), "the newest replaces it");
    h.feed(publisher, retained(3, 5, &[("eligible_authrole", names(&["staff"]))]));
    let get = |request, policy: &str, topic: &str| WampMessage::Subscribe {
        request,
        options: opts(&[("get_retained", true.into()), ("match", policy.into())]),
        topic: topic.into(),
    };
    // alice may receive the newest (staff only); bob may not, and gets nothing.
    let effects = h.feed(alice, get(1, "exact", "com.temp.room1"));
    match effects.as_slice() {
        [Effect::Send { message: WampMessage::Subscribed { .. }, .. }, Effect::Send { to, message: WampMessage::Event { details, payload, .. } }] =>
        {
            assert_eq!(*to, alice);
            assert_eq!(details.get("retained"), Some(&Value::Bool(true)));
            assert_eq!(payload, &args(&[5.into()]));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.feed(bob, get(1, "exact", "com.temp.room1")).len(), 1, "SUBSCRIBED only");
    // A pattern gets every matching topic's event, with the topic.
    h.feed(publisher, retained(4, 30, &[]));
    let mut other = publish(5, opts(&[("retain", true.into())]), "com.temp.room2", args(&[31.into()]));
    h.feed(publisher, other.clone());
    let effects = h.feed(bob, get(2, "prefix", "com.temp."));
    let topics: Vec<(String, Value)> = events(&effects)
        .into_iter()
        .map(|(_, d)| {
            (d.get("topic").and_then(Value::as_str).unwrap().to_owned(), d.get("retained").cloned().unwrap())
        })
        .collect();
    assert_eq!(
        topics,
        vec![("com.temp.room1".into(), Value::Bool(true)), ("com.temp.room2".into(), Value::Bool(true))]
    );
    // Without get_retained, nothing old arrives.
    let carol = h.join();
    assert_eq!(h.feed(carol, subscribe(1, "com.temp.room2")).len(), 1);
    // The publisher itself is excluded unless it published with exclude_me: false.
    assert_eq!(h.feed(publisher, get(9, "exact", "com.temp.room2")).len(), 1);
    if let WampMessage::Publish { options, .. } = &mut other {
        options.insert("exclude_me".into(), false.into());
    }
    h.feed(publisher, other);
    assert_eq!(h.feed(publisher, get(10, "exact", "com.temp.room2")).len(), 2);
}

/// A session announcing `features` for `role`.
fn join_announcing(h: &mut Harness, role: &str, features: &[&str]) -> Id {
    let features: Dict = features.iter().map(|f| ((*f).to_owned(), Value::Bool(true))).collect();
    let entry = opts(&[("features", Value::Dict(features))]);
    let details = opts(&[("roles", Value::Dict(opts(&[(role, Value::Dict(entry))])))]);
    let roles = ClientRoles::from_hello(&details).unwrap();
    h.join_with(Member { identity: Identity::anonymous(), roles, in_process: false }).0
}

fn chunk(request: Id, progress: bool, options: &[(&str, Value)], value: i64) -> WampMessage {
    let mut options = opts(options);
    if progress {
        options.insert("progress".into(), true.into());
    }
    WampMessage::Call { request, options, procedure: "com.upload".into(), payload: args(&[value.into()]) }
}

#[test]
fn progressive_call_invocations_stream_to_one_callee() {
    let mut h = Harness::new();
    let caller = join_announcing(&mut h, "caller", &["progressive_call_invocations"]);
    let callees: Vec<Id> = (0..2)
        .map(|_| join_announcing(&mut h, "callee", &["progressive_call_invocations", "call_canceling"]))
        .collect();
    for callee in &callees {
        registered(&h.feed(
            *callee,
            WampMessage::Register {
                request: 1,
                options: opts(&[("invoke", "roundrobin".into())]),
                procedure: "com.upload".into(),
            },
        ));
    }
    let effects = h.feed(caller, chunk(7, true, &[("disclose_me", true.into())], 1));
    let (to, invocation, details) = match effects.as_slice() {
        [Effect::Send { to, message: WampMessage::Invocation { request, details, .. } }] => {
            (*to, *request, details.clone())
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(details.get("progress"), Some(&Value::Bool(true)));
    assert_eq!(details.get("caller"), Some(&Value::from(caller)));
    // The next chunks go to the same callee, as the same invocation, with the first CALL's details.
    for (value, progress) in [(2, true), (3, false)] {
        match h.feed(caller, chunk(7, progress, &[], value)).as_slice() {
            [Effect::Send { to: t, message: WampMessage::Invocation { request, details, payload, .. } }] => {
                assert_eq!((*t, *request), (to, invocation));
                assert_eq!(details.get("caller"), Some(&Value::from(caller)), "frozen");
                assert_eq!(details.contains_key("progress"), progress);
                assert_eq!(payload, &args(&[value.into()]));
            }
            other => panic!("{other:?}"),
        }
    }
    // After the last chunk, the same id is a violation until the call ends.
    let done = WampMessage::Yield { request: invocation, options: Dict::new(), payload: Payload::default() };
    assert_eq!(h.feed(to, done).len(), 1, "RESULT");
    invocation_of(&h.feed(caller, chunk(8, false, &[], 1)));
    let effects = h.feed(caller, chunk(8, true, &[], 2));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Close { reason, .. } if reason == errors::PROTOCOL_VIOLATION)),
        "{effects:?}"
    );
}

fn invocation_of(effects: &[Effect]) -> Id {
    match effects {
        [Effect::Send { message: WampMessage::Invocation { request, .. }, .. }] => *request,
        other => panic!("expected one INVOCATION, got {other:?}"),
    }
}

#[test]
fn progressive_call_invocations_need_every_peer_to_take_them() {
    let mut h = Harness::new();
    let caller = join_announcing(&mut h, "caller", &["progressive_call_invocations"]);
    let plain_callee = h.join();
    registered(&h.feed(plain_callee, register(1, "com.upload")));
    let (uri, _) = only_error(&h.feed(caller, chunk(1, true, &[], 1)));
    assert_eq!(uri, errors::FEATURE_NOT_SUPPORTED);
    // A caller that did not announce the feature broke the protocol.
    let plain_caller = h.join();
    let effects = h.feed(plain_caller, chunk(1, true, &[], 1));
    assert!(
        matches!(effects.as_slice(), [Effect::Close { reason, .. }] if reason == errors::PROTOCOL_VIOLATION),
        "{effects:?}"
    );
}

#[test]
fn a_caller_leaving_mid_stream_interrupts_the_callee() {
    let mut h = Harness::new();
    let caller = join_announcing(&mut h, "caller", &["progressive_call_invocations"]);
    let callee = join_announcing(&mut h, "callee", &["progressive_call_invocations", "call_canceling"]);
    registered(&h.feed(callee, register(1, "com.upload")));
    let invocation = invocation_of(&h.feed(caller, chunk(1, true, &[], 1)));
    let effects = h.leave(caller);
    assert_eq!(
        effects.iter().filter_map(interrupt_of).collect::<Vec<_>>(),
        vec![(callee, invocation, "killnowait".into())]
    );
    assert_eq!(h.realm.pending_calls(), 0);
}
