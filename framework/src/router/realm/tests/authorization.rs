//! Authorization in the realm core: what a role may not do is refused
//! with `wamp.error.not_authorized` and changes nothing.

use super::*;
use crate::auth::{Action, Permission, RoleConfig, TRUSTED_ROLE};
use crate::protocol::options::MatchPolicy;

fn as_role(authrole: &str) -> Member {
    let identity = Identity { authrole: authrole.into(), ..Identity::anonymous() };
    Member { identity, roles: ClientRoles::BASIC, in_process: false }
}

fn harness() -> Harness {
    let everything = vec![Action::Call, Action::Register, Action::Publish, Action::Subscribe];
    let roles = Roles::new(&[
        RoleConfig {
            name: "full".into(),
            permissions: vec![Permission {
                uri: "".into(),
                match_policy: MatchPolicy::Prefix,
                allow: everything,
            }],
            disclose_caller: true,
            disclose_publisher: true,
            meta_api: true,
        },
        RoleConfig {
            name: "caller".into(),
            permissions: vec![Permission {
                uri: "".into(),
                match_policy: MatchPolicy::Prefix,
                allow: vec![Action::Call, Action::Subscribe],
            }],
            disclose_caller: false,
            disclose_publisher: false,
            meta_api: false,
        },
    ]);
    let mut h = Harness::new();
    h.realm = RealmCore::new("authrealm", RealmSettings::default()).with_roles(Some(roles));
    h
}

#[test]
fn denied_actions_get_not_authorized_and_change_nothing() {
    let mut h = harness();
    let full = h.join_with(as_role("full")).0;
    let caller = h.join_with(as_role("caller")).0;
    registered(&h.feed(full, register(1, "com.app.add")));
    subscribed(&h.feed(full, subscribe(2, "com.app.events")));

    let (to, kind, request, uri) = error_uri(&h.feed(caller, register(7, "com.app.mine")));
    assert_eq!((to, kind, request, uri.as_str()), (caller, code::REGISTER, 7, errors::NOT_AUTHORIZED));
    assert_eq!(h.realm.registration_count(), 1, "nothing was registered");

    let acknowledged = opts(&[("acknowledge", true.into())]);
    let effects = h.feed(caller, publish(8, acknowledged, "com.app.events", args(&[1.into()])));
    assert_eq!(error_uri(&effects).3, errors::NOT_AUTHORIZED, "only the publisher hears of it");
    assert!(h.feed(caller, publish(9, Dict::new(), "com.app.events", args(&[1.into()]))).is_empty());

    // What the role may do still works.
    subscribed(&h.feed(caller, subscribe(10, "com.app.events")));
    let effects = h.feed(caller, call(11, "com.app.add", args(&[1.into()])));
    assert!(
        matches!(effects.as_slice(), [Effect::Send { to, message: WampMessage::Invocation { .. } }] if *to == full)
    );
}

#[test]
fn the_error_names_the_action_and_the_uri() {
    let mut h = harness();
    let caller = h.join_with(as_role("caller")).0;
    let effects = h.feed(caller, register(1, "com.app.mine"));
    match effects.as_slice() {
        [Effect::Send { message: WampMessage::Error { payload, .. }, .. }] => {
            let text = payload.args_list()[0].as_str().unwrap().to_owned();
            assert_eq!(text, "the role 'caller' may not register 'com.app.mine'");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn meta_api_and_disclosure_follow_the_role() {
    let mut h = harness();
    let full = h.join_with(as_role("full")).0;
    let caller = h.join_with(as_role("caller")).0;
    assert_eq!(
        error_uri(&h.feed(caller, call(1, "wamp.session.count", args(&[])))).3,
        errors::NOT_AUTHORIZED
    );
    let sub =
        WampMessage::Subscribe { request: 2, options: Dict::new(), topic: "wamp.session.on_join".into() };
    assert_eq!(error_uri(&h.feed(caller, sub)).3, errors::NOT_AUTHORIZED);
    let effects = h.feed(full, call(3, "wamp.session.count", args(&[])));
    assert!(
        matches!(effects.as_slice(), [Effect::Send { message: WampMessage::Result { .. }, .. }]),
        "{effects:?}"
    );

    registered(&h.feed(full, register(4, "com.app.add")));
    let disclosed = WampMessage::Call {
        request: 5,
        options: opts(&[("disclose_me", true.into())]),
        procedure: "com.app.add".into(),
        payload: args(&[]),
    };
    assert_eq!(error_uri(&h.feed(caller, disclosed)).3, errors::OPTION_DISALLOWED_DISCLOSE_ME);
}

#[test]
fn trusted_may_do_everything_and_unknown_roles_nothing() {
    let mut h = harness();
    let trusted = h.join_with(as_role(TRUSTED_ROLE)).0;
    let stranger = h.join_with(as_role("stranger")).0;
    registered(&h.feed(trusted, register(1, "com.app.add")));
    assert_eq!(error_uri(&h.feed(stranger, call(2, "com.app.add", args(&[])))).3, errors::NOT_AUTHORIZED);
    assert_eq!(error_uri(&h.feed(stranger, subscribe(3, "com.app.events"))).3, errors::NOT_AUTHORIZED);
}
