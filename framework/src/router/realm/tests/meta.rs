//! The session meta API, message by message.

use super::*;

fn as_who(authid: &str, authrole: &str) -> SessionInfo {
    let identity = Identity { authid: authid.into(), authrole: authrole.into(), ..Identity::anonymous() };
    SessionInfo { identity, roles: ClientRoles::BASIC }
}

fn meta(request: Id, procedure: &str, args: Vec<Value>, kwargs: Dict) -> Message {
    Message::Call {
        request,
        options: Dict::new(),
        procedure: procedure.into(),
        payload: Payload::new(args, kwargs),
    }
}

/// The single value of a RESULT.
fn result(effects: &[Effect]) -> Value {
    match effects {
        [Effect::Send { message: Message::Result { payload, .. }, .. }] => {
            payload.args_list().first().cloned().unwrap_or_default()
        }
        other => panic!("expected one RESULT, got {other:?}"),
    }
}

fn error(effects: &[Effect]) -> String {
    match effects {
        [Effect::Send { message: Message::Error { error, .. }, .. }] => error.clone(),
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
        [Effect::Send { to, message: Message::Event { subscription, payload, .. } }] => {
            assert_eq!((*to, *subscription), (watcher, on_join));
            let details = payload.args_list()[0].as_dict().unwrap().clone();
            assert_eq!(details.get("session"), Some(&Value::from(alice)));
            assert_eq!(details.get("authid"), Some(&Value::from("alice")));
        }
        other => panic!("{other:?}"),
    }
    let effects = h.leave(alice);
    match effects.as_slice() {
        [Effect::Send { to, message: Message::Event { subscription, payload, .. } }] => {
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
        matches!(&effects[1], Effect::Send { to, message: Message::Event { .. } } if *to == watcher),
        "{effects:?}"
    );
    assert!(
        matches!(&effects[2], Effect::Send { to, message: Message::Result { .. } } if *to == admin),
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
