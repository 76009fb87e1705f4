//! The session meta API, message by message.

use super::*;

fn as_who(authid: &str, authrole: &str) -> Member {
    let identity = Identity { authid: authid.into(), authrole: authrole.into(), ..Identity::anonymous() };
    Member { identity, roles: ClientRoles::BASIC, in_process: false }
}

fn meta(request: Id, procedure: &str, args: Vec<Value>, kwargs: Dict) -> WampMessage {
    WampMessage::Call {
        request,
        options: Dict::new(),
        procedure: procedure.to_owned().into(),
        payload: Payload::new(args, kwargs),
    }
}

/// The single value of a RESULT.
fn result(effects: &[Effect]) -> Value {
    match effects {
        [Effect::Send { message: WampMessage::Result { payload, .. }, .. }] => {
            payload.args_list().first().cloned().unwrap_or_default()
        }
        other => panic!("expected one RESULT, got {other:?}"),
    }
}

fn error(effects: &[Effect]) -> String {
    match effects {
        [Effect::Send { message: WampMessage::Error { error, .. }, .. }] => error.clone(),
        other => panic!("expected one ERROR, got {other:?}"),
    }
}

fn killing() -> Harness {
    Harness::with(RealmSettings { session_kill: true, ..Default::default() })
}

#[test]
fn count_list_and_get_describe_the_sessions() {
    let mut h = Harness::new();
    let (admin, _) = h.join_with(as_who("admin", "admin"));
    let (a, _) = h.join_with(as_who("alice", "user"));
    let (b, _) = h.join_with(as_who("bob", "user"));
    assert_eq!(result(&h.feed(admin, meta(1, "wamp.session.count", vec![], Dict::new()))), Value::from(3u64));
    let users = vec![Value::List(vec!["user".into()])];
    assert_eq!(
        result(&h.feed(admin, meta(2, "wamp.session.count", users.clone(), Dict::new()))),
        Value::from(2u64)
    );
    let mut expected = vec![a, b];
    expected.sort_unstable();
    let listed = result(&h.feed(admin, meta(3, "wamp.session.list", users, Dict::new())));
    assert_eq!(listed, Value::List(expected.into_iter().map(Value::from).collect()));
    let got = result(&h.feed(admin, meta(4, "wamp.session.get", vec![a.into()], Dict::new())));
    let details = got.as_dict().unwrap();
    assert_eq!(details.get("session"), Some(&Value::from(a)));
    assert_eq!(details.get("authid"), Some(&Value::from("alice")));
    assert_eq!(details.get("authrole"), Some(&Value::from("user")));
    assert_eq!(details.get("authmethod"), Some(&Value::from("anonymous")));
    assert_eq!(
        error(&h.feed(admin, meta(5, "wamp.session.get", vec![12345.into()], Dict::new()))),
        errors::NO_SUCH_SESSION
    );
    assert_eq!(
        error(&h.feed(admin, meta(6, "wamp.session.get", vec!["x".into()], Dict::new()))),
        errors::INVALID_ARGUMENT
    );
    let bad_filter = vec![Value::from("user")];
    assert_eq!(
        error(&h.feed(admin, meta(7, "wamp.session.count", bad_filter, Dict::new()))),
        errors::INVALID_ARGUMENT
    );
    assert_eq!(
        error(&h.feed(admin, meta(8, "wamp.nothing", vec![], Dict::new()))),
        errors::NO_SUCH_PROCEDURE
    );
}

#[test]
fn joins_and_leaves_are_published() {
    let mut h = Harness::new();
    let watcher = h.join();
    let on_join = subscribed(&h.feed(watcher, subscribe(1, "wamp.session.on_join")));
    let on_leave = subscribed(&h.feed(watcher, subscribe(2, "wamp.session.on_leave")));
    let (alice, effects) = h.join_with(as_who("alice", "user"));
    match effects.as_slice() {
        [Effect::Send { to, message: WampMessage::Event { subscription, payload, .. } }] => {
            assert_eq!((*to, *subscription), (watcher, on_join));
            let details = payload.args_list()[0].as_dict().unwrap().clone();
            assert_eq!(details.get("session"), Some(&Value::from(alice)));
            assert_eq!(details.get("authid"), Some(&Value::from("alice")));
        }
        other => panic!("{other:?}"),
    }
    let effects = h.leave(alice);
    match effects.as_slice() {
        [Effect::Send { to, message: WampMessage::Event { subscription, payload, .. } }] => {
            assert_eq!((*to, *subscription), (watcher, on_leave));
            assert_eq!(payload.args_list(), [Value::from(alice), "alice".into(), "user".into()]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn killing_is_off_unless_the_router_allows_it() {
    let mut h = Harness::new();
    let (a, b) = (h.join(), h.join());
    for (procedure, arg) in [
        ("wamp.session.kill", Value::from(b)),
        ("wamp.session.kill_by_authrole", Value::from("anonymous")),
        ("wamp.session.kill_all", Value::Null),
    ] {
        assert_eq!(error(&h.feed(a, meta(1, procedure, vec![arg], Dict::new()))), errors::NOT_AUTHORIZED);
    }
    assert!(h.realm.contains(b));
}

#[test]
fn kill_closes_another_session_with_the_reason_given() {
    let mut h = killing();
    let watcher = h.join();
    subscribed(&h.feed(watcher, subscribe(1, "wamp.session.on_leave")));
    let (admin, victim) = (h.join(), h.join());
    let kwargs =
        Dict::from([("reason".to_owned(), "com.app.banned".into()), ("message".to_owned(), "bye".into())]);
    let effects = h.feed(admin, meta(1, "wamp.session.kill", vec![victim.into()], kwargs));
    assert!(
        matches!(&effects[0], Effect::Close { to, reason, message } if *to == victim && reason == "com.app.banned" && message == "bye"),
        "{effects:?}"
    );
    assert!(
        matches!(&effects[1], Effect::Send { to, message: WampMessage::Event { .. } } if *to == watcher),
        "{effects:?}"
    );
    assert!(
        matches!(&effects[2], Effect::Send { to, message: WampMessage::Result { .. } } if *to == admin),
        "{effects:?}"
    );
    assert!(!h.realm.contains(victim));
    // Itself is not another session; a reason must be a URI.
    assert_eq!(
        error(&h.feed(admin, meta(2, "wamp.session.kill", vec![admin.into()], Dict::new()))),
        errors::NO_SUCH_SESSION
    );
    let bad = Dict::from([("reason".to_owned(), "not a uri".into())]);
    assert_eq!(
        error(&h.feed(admin, meta(3, "wamp.session.kill", vec![watcher.into()], bad))),
        errors::INVALID_URI
    );
    assert!(h.realm.contains(watcher));
}

#[test]
fn kill_by_authid_and_kill_all_spare_the_caller() {
    let mut h = killing();
    let (me, _) = h.join_with(as_who("alice", "user"));
    let (twin, _) = h.join_with(as_who("alice", "user"));
    let (other, _) = h.join_with(as_who("bob", "user"));
    let effects = h.feed(me, meta(1, "wamp.session.kill_by_authid", vec!["alice".into()], Dict::new()));
    assert!(
        matches!(&effects[0], Effect::Close { to, reason, .. } if *to == twin && reason == errors::CLOSE_NORMAL)
    );
    assert_eq!(result(&effects[1..]), Value::from(1u64));
    let (third, _) = h.join_with(as_who("carol", "admin"));
    let effects = h.feed(me, meta(2, "wamp.session.kill_all", vec![], Dict::new()));
    let closed: Vec<Id> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Close { to, .. } => Some(*to),
            _ => None,
        })
        .collect();
    let mut expected = vec![other, third];
    expected.sort_unstable();
    assert_eq!(closed, expected);
    assert_eq!(result(&effects[2..]), Value::from(2u64));
    assert_eq!(h.realm.session_count(), 1);
}

#[test]
fn sessions_killed_together_end_their_calls_with_their_goodbyes() {
    // A caller and its callee killed by one kill_by_authrole: the call
    // ends with the caller's GOODBYE, whichever of the two goes first
    // (ids are random); a caller that stays gets the ERROR.
    for _ in 0..32 {
        let mut h = killing();
        let (admin, _) = h.join_with(as_who("admin", "admin"));
        let (caller, _) = h.join_with(as_who("alice", "user"));
        let (callee, _) = h.join_with(as_who("bob", "user"));
        registered(&h.feed(callee, register(1, "com.slow")));
        h.feed(caller, call(1, "com.slow", Payload::default()));
        h.feed(admin, call(1, "com.slow", Payload::default()));
        let effects =
            h.feed(admin, meta(2, "wamp.session.kill_by_authrole", vec!["user".into()], Dict::new()));
        let to_caller: Vec<&Effect> = effects
            .iter()
            .filter(|e| matches!(e, Effect::Send { to, .. } | Effect::Close { to, .. } if *to == caller))
            .collect();
        assert!(matches!(to_caller.as_slice(), [Effect::Close { .. }]), "{to_caller:?}");
        let to_admin: Vec<(u64, Id)> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send { to, message: WampMessage::Error { request_type, request, .. } }
                    if *to == admin =>
                {
                    Some((*request_type, *request))
                }
                _ => None,
            })
            .collect();
        assert_eq!(to_admin, [(code::CALL, 1)], "the admin's own call fails: its callee left");
    }
}

/// The (topic, args) of every EVENT in `effects` sent to `to`.
fn meta_events(effects: &[Effect], to: Id) -> Vec<(Id, Vec<Value>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to: t, message: WampMessage::Event { subscription, payload, .. } } if *t == to => {
                Some((*subscription, payload.args_list().to_vec()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn registration_meta_api_and_events() {
    let mut h = Harness::new();
    h.realm
        .set_wall_origin(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000));
    h.realm.set_clock(std::time::Duration::from_millis(1_500));
    let watcher = h.join();
    let topics = [
        "wamp.registration.on_create",
        "wamp.registration.on_register",
        "wamp.registration.on_unregister",
        "wamp.registration.on_delete",
    ];
    let subs: Vec<Id> = topics
        .iter()
        .enumerate()
        .map(|(i, t)| subscribed(&h.feed(watcher, subscribe(i as Id + 1, t))))
        .collect();
    let (a, b) = (h.join(), h.join());
    let shared = |request| WampMessage::Register {
        request,
        options: opts(&[("invoke", "first".into()), ("match", "prefix".into())]),
        procedure: "com.svc.".into(),
    };
    let effects = h.feed(a, shared(1));
    // REGISTERED first, then the meta events.
    let id = match effects.first() {
        Some(Effect::Send { message: WampMessage::Registered { registration, .. }, .. }) => *registration,
        other => panic!("{other:?}"),
    };
    let events = meta_events(&effects, watcher);
    assert_eq!(events.len(), 2, "on_create, then on_register: {events:?}");
    assert_eq!(events[0].0, subs[0]);
    let details = events[0].1[1].as_dict().unwrap();
    assert_eq!(events[0].1[0], Value::from(a));
    assert_eq!(details.get("id"), Some(&Value::from(id)));
    assert_eq!(details.get("uri"), Some(&Value::from("com.svc.")));
    assert_eq!(details.get("match"), Some(&Value::from("prefix")));
    assert_eq!(details.get("invoke"), Some(&Value::from("first")));
    assert_eq!(details.get("created"), Some(&Value::from("2023-11-14T22:13:21.500Z")));
    assert_eq!(events[1], (subs[1], vec![Value::from(a), Value::from(id)]));
    let events = meta_events(&h.feed(b, shared(1)), watcher);
    assert_eq!(events, vec![(subs[1], vec![Value::from(b), Value::from(id)])], "joining: on_register only");
    let call = |h: &mut Harness, request: Id, procedure: &str, args: Vec<Value>| {
        result(&h.feed(watcher, meta(request, procedure, args, Dict::new())))
    };
    let listed = call(&mut h, 10, "wamp.registration.list", vec![]);
    assert_eq!(listed.as_dict().unwrap().get("prefix"), Some(&Value::List(vec![id.into()])));
    assert_eq!(listed.as_dict().unwrap().get("exact"), Some(&Value::List(vec![])));
    let prefix = Value::Dict(opts(&[("match", "prefix".into())]));
    assert_eq!(
        call(&mut h, 11, "wamp.registration.lookup", vec!["com.svc.".into(), prefix]),
        Value::from(id)
    );
    assert_eq!(
        call(&mut h, 12, "wamp.registration.lookup", vec!["com.svc.".into()]),
        Value::Null,
        "exact by default"
    );
    assert_eq!(call(&mut h, 13, "wamp.registration.match", vec!["com.svc.echo".into()]), Value::from(id));
    assert_eq!(call(&mut h, 14, "wamp.registration.match", vec!["org.x".into()]), Value::Null);
    let mut callees = vec![a, b];
    callees.sort_unstable();
    assert_eq!(
        call(&mut h, 15, "wamp.registration.list_callees", vec![id.into()]),
        Value::List(callees.into_iter().map(Value::from).collect())
    );
    assert_eq!(call(&mut h, 16, "wamp.registration.count_callees", vec![id.into()]), Value::from(2u64));
    assert_eq!(
        error(&h.feed(watcher, meta(17, "wamp.registration.get", vec![424242.into()], Dict::new()))),
        errors::NO_SUCH_REGISTRATION
    );
    // Leaving: on_unregister, and on_delete with the last callee.
    let events = meta_events(&h.leave(a), watcher);
    assert_eq!(events, vec![(subs[2], vec![Value::from(a), Value::from(id)])]);
    let effects = h.feed(b, WampMessage::Unregister { request: 2, registration: id });
    let events = meta_events(&effects, watcher);
    assert_eq!(
        events,
        vec![
            (subs[2], vec![Value::from(b), Value::from(id)]),
            (subs[3], vec![Value::from(b), Value::from(id)])
        ]
    );
}

#[test]
fn subscription_meta_api_and_events() {
    let mut h = Harness::new();
    let watcher = h.join();
    let on_create = subscribed(&h.feed(watcher, subscribe(1, "wamp.subscription.on_create")));
    let on_subscribe = subscribed(&h.feed(watcher, subscribe(2, "wamp.subscription.on_subscribe")));
    let on_delete = subscribed(&h.feed(watcher, subscribe(3, "wamp.subscription.on_delete")));
    let a = h.join();
    let effects = h.feed(a, subscribe(1, "com.news"));
    let id = match effects.first() {
        Some(Effect::Send { message: WampMessage::Subscribed { subscription, .. }, .. }) => *subscription,
        other => panic!("{other:?}"),
    };
    let events = meta_events(&effects, watcher);
    assert_eq!(events.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![on_create, on_subscribe]);
    assert_eq!(events[0].1[1].as_dict().unwrap().get("uri"), Some(&Value::from("com.news")));
    // A second subscription by pattern; `match` lists every one a topic reaches.
    let effects = h.feed(
        a,
        WampMessage::Subscribe {
            request: 2,
            options: opts(&[("match", "prefix".into())]),
            topic: "com.".into(),
        },
    );
    let pattern = match effects.first() {
        Some(Effect::Send { message: WampMessage::Subscribed { subscription, .. }, .. }) => *subscription,
        other => panic!("{other:?}"),
    };
    let mut both = vec![id, pattern];
    both.sort_unstable();
    let matched =
        result(&h.feed(watcher, meta(10, "wamp.subscription.match", vec!["com.news".into()], Dict::new())));
    assert_eq!(matched, Value::List(both.into_iter().map(Value::from).collect()));
    let count = result(
        &h.feed(watcher, meta(11, "wamp.subscription.count_subscribers", vec![id.into()], Dict::new())),
    );
    assert_eq!(count, Value::from(1u64));
    let got = result(&h.feed(watcher, meta(12, "wamp.subscription.get", vec![pattern.into()], Dict::new())));
    assert_eq!(got.as_dict().unwrap().get("match"), Some(&Value::from("prefix")));
    // The watcher's own wamp. subscriptions are not reported.
    let listed = result(&h.feed(watcher, meta(13, "wamp.subscription.list", vec![], Dict::new())));
    assert_eq!(listed.as_dict().unwrap().get("exact").and_then(Value::as_list).map(Vec::len), Some(4));
    let effects = h.feed(watcher, subscribe(4, "wamp.subscription.on_unsubscribe"));
    assert!(meta_events(&effects, watcher).is_empty(), "{effects:?}");
    let events = meta_events(&h.leave(a), watcher);
    let deleted: Vec<Id> =
        events.iter().filter(|(s, _)| *s == on_delete).map(|(_, args)| args[1].as_u64().unwrap()).collect();
    assert_eq!(deleted.len(), 2, "{events:?}");
}

#[test]
fn timestamps_are_iso_8601_utc() {
    use crate::router::realm::meta::iso8601;
    use std::time::{Duration, SystemTime};
    let at = |secs: u64, millis: u64| {
        iso8601(SystemTime::UNIX_EPOCH + Duration::from_millis(secs * 1000 + millis))
    };
    assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
    assert_eq!(at(951_782_400, 7), "2000-02-29T00:00:00.007Z");
    assert_eq!(at(1_700_000_000, 999), "2023-11-14T22:13:20.999Z");
    assert_eq!(at(4_102_444_800, 0), "2100-01-01T00:00:00.000Z");
}

#[test]
fn testaments_are_published_when_their_session_goes_detached_first() {
    let mut h = Harness::new();
    let watcher = h.join();
    let last_words = subscribed(&h.feed(watcher, subscribe(1, "com.app.gone")));
    let leaving = h.join_with(as_who("alice", "user")).0;
    let add = |request, text: &str, scope: &str, options: Dict| {
        let kwargs = Dict::from([
            ("scope".to_owned(), scope.into()),
            ("publish_options".to_owned(), Value::Dict(options)),
        ]);
        meta(
            request,
            "wamp.session.add_testament",
            vec!["com.app.gone".into(), Value::List(vec![text.into()]), Value::Dict(Dict::new())],
            kwargs,
        )
    };
    let done = |effects: Vec<Effect>| match effects.as_slice() {
        [Effect::Send { message: WampMessage::Result { payload, .. }, .. }] => {
            assert!(payload.is_empty(), "returns nothing")
        }
        other => panic!("{other:?}"),
    };
    done(h.feed(leaving, add(1, "destroyed 1", "destroyed", Dict::new())));
    done(h.feed(leaving, add(2, "detached 1", "detached", Dict::new())));
    done(h.feed(leaving, add(3, "flushed", "detached", Dict::new())));
    let flush = meta(
        4,
        "wamp.session.flush_testaments",
        vec![],
        Dict::from([("scope".to_owned(), "detached".into())]),
    );
    done(h.feed(leaving, flush));
    done(h.feed(leaving, add(5, "detached 2", "detached", Dict::new())));
    done(h.feed(
        leaving,
        add(
            6,
            "destroyed 2",
            "destroyed",
            opts(&[("disclose_me", true.into()), ("acknowledge", true.into())]),
        ),
    ));
    let effects = h.leave(leaving);
    let got: Vec<(Id, Value, Option<Value>)> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, message: WampMessage::Event { subscription, details, payload, .. } }
                if *subscription == last_words =>
            {
                Some((*to, payload.args_list()[0].clone(), details.get("publisher").cloned()))
            }
            _ => None,
        })
        .collect();
    let expected = vec![
        (watcher, Value::from("detached 2"), None),
        (watcher, Value::from("destroyed 1"), None),
        (watcher, Value::from("destroyed 2"), Some(Value::from(leaving))),
    ];
    assert_eq!(got, expected);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Send { message: WampMessage::Published { .. }, .. })),
        "never acknowledged"
    );
}

#[test]
fn testaments_are_checked_and_limited() {
    let mut h = Harness::with(RealmSettings { testament_bytes: 300, ..Default::default() });
    let s = h.join();
    let add = |request, topic: &str, args: Vec<Value>, kwargs: Dict| {
        meta(
            request,
            "wamp.session.add_testament",
            args.into_iter().fold(vec![topic.into()], |mut v, a| {
                v.push(a);
                v
            }),
            kwargs,
        )
    };
    assert_eq!(error(&h.feed(s, add(1, "not a topic", vec![], Dict::new()))), errors::INVALID_URI);
    assert_eq!(error(&h.feed(s, add(2, "wamp.session.on_leave", vec![], Dict::new()))), errors::INVALID_URI);
    let bad_scope = Dict::from([("scope".to_owned(), "forever".into())]);
    assert_eq!(error(&h.feed(s, add(3, "com.t", vec![], bad_scope))), errors::INVALID_ARGUMENT);
    let bad_options =
        Dict::from([("publish_options".to_owned(), Value::Dict(opts(&[("exclude", "x".into())])))]);
    assert_eq!(error(&h.feed(s, add(4, "com.t", vec![], bad_options))), errors::INVALID_ARGUMENT);
    let big = vec![Value::List(vec!["x".repeat(200).into()])];
    h.feed(s, add(5, "com.t", big.clone(), Dict::new()));
    assert_eq!(error(&h.feed(s, add(6, "com.t", big, Dict::new()))), errors::TESTAMENT_LIMIT);
}
