//! Arguments held as Rust values: passed on to sessions in this process,
//! converted for the others.

use super::*;
use crate::protocol::NativePayload;

fn member(in_process: bool) -> Member {
    Member { identity: Identity::anonymous(), roles: ClientRoles::BASIC, in_process }
}

/// A caller and a callee joined as given, the callee holding `com.add2`;
/// returns their ids.
fn pair(h: &mut Harness, caller_in_process: bool, callee_in_process: bool) -> (Id, Id) {
    let caller = h.join_with(member(caller_in_process)).0;
    let callee = h.join_with(member(callee_in_process)).0;
    registered(&h.feed(callee, register(1, "com.add2")));
    (caller, callee)
}

/// Sends the CALL; returns the INVOCATION's request id and payload.
fn invoke(h: &mut Harness, caller: Id, payload: Payload) -> (Id, Payload) {
    // Taken by value: a clone of a payload holds values only.
    let mut effects = h.feed(caller, call(5, "com.add2", payload));
    match effects.pop() {
        Some(Effect::Send { message: WampMessage::Invocation { request, payload, .. }, .. })
            if effects.is_empty() =>
        {
            (request, payload)
        }
        other => panic!("expected INVOCATION, got {other:?} after {effects:?}"),
    }
}

#[test]
fn a_callee_in_this_process_takes_the_value_as_it_is() {
    let mut h = Harness::new();
    let (caller, _) = pair(&mut h, true, true);
    let (_, payload) = invoke(&mut h, caller, Payload::Native(NativePayload::spread((2i64, 3i64))));
    let Payload::Native(native) = payload else { panic!("converted: {payload:?}") };
    assert_eq!(native.take_spread::<(i64, i64)>().expect("the tuple sent"), (2, 3));
}

#[test]
fn a_callee_elsewhere_gets_values() {
    let mut h = Harness::new();
    let (caller, _) = pair(&mut h, true, false);
    let (_, payload) = invoke(&mut h, caller, Payload::Native(NativePayload::spread((2i64, "three"))));
    assert!(matches!(payload, Payload::Values { .. }), "{payload:?}");
    assert_eq!(payload.args_list(), [Value::from(2), Value::from("three")]);
}

#[test]
fn a_result_goes_as_it_is_to_a_caller_in_this_process_and_as_values_to_others() {
    for caller_in_process in [true, false] {
        let mut h = Harness::new();
        let (caller, callee) = pair(&mut h, caller_in_process, true);
        let (invocation, _) = invoke(&mut h, caller, args(&[2.into(), 3.into()]));
        let result = Payload::Native(NativePayload::single(5i64));
        let effects =
            h.feed(callee, WampMessage::Yield { request: invocation, options: Dict::new(), payload: result });
        let [Effect::Send { to, message: WampMessage::Result { request: 5, payload, .. } }] =
            effects.as_slice()
        else {
            panic!("expected RESULT, got {effects:?}");
        };
        assert_eq!(*to, caller);
        assert_eq!(payload.is_native(), caller_in_process, "{payload:?}");
        assert_eq!(payload.args_list(), [Value::from(5)]);
    }
}

#[test]
fn arguments_that_cannot_become_values_fail_the_call_with_invalid_argument() {
    let unconvertible = || std::collections::BTreeMap::from([((1u8, 2u8), "a tuple key")]);
    let mut h = Harness::new();
    let (caller, _) = pair(&mut h, true, false);
    let call = call(5, "com.add2", Payload::Native(NativePayload::spread((unconvertible(),))));
    let effects = h.feed(caller, call);
    assert_eq!(error_uri(&effects), (caller, code::CALL, 5, errors::INVALID_ARGUMENT.into()));
    assert_eq!(h.realm.pending_calls(), 0, "nothing held for the failed call");

    // A result that cannot reach a caller elsewhere ends the call the same
    // way, and the realm holds nothing for it.
    let mut h = Harness::new();
    let (caller, callee) = pair(&mut h, false, true);
    let (invocation, _) = invoke(&mut h, caller, Payload::default());
    let result = Payload::Native(NativePayload::single(unconvertible()));
    let effects =
        h.feed(callee, WampMessage::Yield { request: invocation, options: Dict::new(), payload: result });
    assert_eq!(error_uri(&effects), (caller, code::CALL, 5, errors::INVALID_ARGUMENT.into()));
    assert_eq!(h.realm.pending_calls(), 0);
}
