//! Hand-written scripts for the `realm_sessions` harness: each reaches a
//! state the fuzzer must be able to reach too, and shows that the harness
//! follows it there without a false alarm.

use wamp_fuzz::harness::{Harness, Tally};
use wamp_fuzz::script::{
    Act, Action, Auth, Data, Flag, Invoke, Matching, Op, Pick, RealmName, Scalar, Script, Uri,
};

const COM_A: Uri = Uri(0);
const BAD_URI: Uri = Uri(6);

fn run(steps: Vec<(u8, Act)>) -> Tally {
    let actions = steps.into_iter().map(|(client, act)| Action { client, act }).collect();
    Harness::run(&Script { seed: 7, actions })
}

fn sent(tally: &Tally, name: &str) -> usize {
    tally.sent.get(name).copied().unwrap_or(0)
}

fn hello() -> Act {
    Act::Send(Op::Hello { realm: RealmName::SERVED, auth: Auth::ABSENT })
}

fn register(procedure: Uri) -> Act {
    Act::Send(Op::Register { procedure, matching: Matching::ABSENT, invoke: Invoke::ABSENT })
}

fn call(procedure: Uri) -> Act {
    Act::Send(Op::Call { procedure, payload: Data::Args(vec![Scalar::Int(2), Scalar::Float(f64::NAN)]) })
}

#[test]
fn a_call_reaches_its_callee_and_the_result_its_caller() {
    let tally = run(vec![
        (0, hello()),
        (0, register(COM_A)),
        (1, hello()),
        (1, call(COM_A)),
        (0, Act::Send(Op::Yield { invocation: Pick::own(0), payload: Data::Empty })),
    ]);
    assert_eq!((sent(&tally, "REGISTERED"), sent(&tally, "INVOCATION"), sent(&tally, "RESULT")), (1, 1, 1));
}

#[test]
fn a_callee_that_leaves_cancels_the_calls_it_was_answering() {
    let tally =
        run(vec![(0, hello()), (0, register(COM_A)), (1, hello()), (1, call(COM_A)), (0, Act::Disconnect)]);
    assert_eq!((sent(&tally, "INVOCATION"), sent(&tally, "ERROR")), (1, 1));
}

#[test]
fn a_session_that_breaks_the_protocol_during_its_own_call_is_closed() {
    let tally = run(vec![
        (0, hello()),
        (0, register(COM_A)),
        (0, call(COM_A)),
        (0, Act::Send(Op::StrayError { request_type: 48, request: Pick::any(1) })),
        (1, hello()),
    ]);
    // The realm removes the session and closes it; the call it was
    // answering was its own, so nobody is left to be told it failed.
    assert_eq!((sent(&tally, "INVOCATION"), sent(&tally, "ERROR"), tally.closed), (1, 0, 1));
}

#[test]
fn events_reach_subscribers_and_the_publisher_only_if_asked() {
    let subscribe = || Act::Send(Op::Subscribe { topic: COM_A, matching: Matching::ABSENT });
    let publish = |exclude_me| {
        Act::Send(Op::Publish { topic: COM_A, acknowledge: Flag::YES, exclude_me, payload: Data::Empty })
    };
    let tally = run(vec![
        (0, hello()),
        (0, subscribe()),
        (1, hello()),
        (1, subscribe()),
        (1, publish(Flag::ABSENT)),
        (1, publish(Flag::NO)),
        (0, Act::Send(Op::Unsubscribe(Pick::own(0)))),
        (1, publish(Flag::NO)),
    ]);
    assert_eq!((sent(&tally, "SUBSCRIBED"), sent(&tally, "UNSUBSCRIBED")), (2, 1));
    assert_eq!((sent(&tally, "EVENT"), sent(&tally, "PUBLISHED")), (4, 3));
}

#[test]
fn refused_requests_are_answered_with_errors() {
    let tally = run(vec![
        (0, hello()),
        (0, register(BAD_URI)),
        (0, register(COM_A)),
        (1, hello()),
        (1, register(COM_A)),
        (1, Act::Send(Op::Unregister(Pick::seen(0)))),
        (1, Act::Send(Op::Unsubscribe(Pick::any(5)))),
        (1, call(Uri(1))),
    ]);
    assert_eq!((sent(&tally, "REGISTERED"), sent(&tally, "ERROR")), (1, 5));
}

#[test]
fn raw_frames_and_broken_frames_follow_the_session_rules() {
    let frame = |data: &[u8]| Act::Frame { msgpack: false, data: data.to_vec() };
    let tally = run(vec![
        // A HELLO without roles is refused; the next one joins.
        (0, frame(br#"[1, "realm1", {}]"#)),
        (0, frame(br#"[1, "realm1", {"roles": {"subscriber": {}}}]"#)),
        (0, frame(br#"[32, 1, {}, "com.a"]"#)),
        (0, frame(br#"[32, 1, {}, "com.b"]"#)),
        (1, hello()),
        (
            1,
            Act::Send(Op::Publish {
                topic: COM_A,
                acknowledge: Flag::ABSENT,
                exclude_me: Flag::ABSENT,
                payload: Data::Empty,
            }),
        ),
        (1, Act::BadFrame),
        (2, frame(b"not json")),
        (2, Act::Connect),
        (2, call(COM_A)),
        (3, Act::Send(Op::Hello { realm: RealmName::UNKNOWN, auth: Auth::ABSENT })),
        (3, Act::Send(Op::Hello { realm: RealmName::SERVED, auth: Auth::TICKET_ONLY })),
    ]);
    assert_eq!((sent(&tally, "SUBSCRIBED"), sent(&tally, "EVENT")), (2, 1));
}

#[test]
fn a_call_that_waits_too_long_fails_and_its_late_answer_is_dropped() {
    let tally = run(vec![
        (0, register(COM_A)),
        (1, call(COM_A)),
        (2, Act::Wait(5)),
        (2, Act::Wait(6)),
        (0, Act::Send(Op::Yield { invocation: Pick::own(0), payload: Data::Empty })),
    ]);
    assert_eq!((sent(&tally, "INVOCATION"), sent(&tally, "ERROR"), sent(&tally, "RESULT")), (1, 1, 0));
}

#[test]
fn a_session_cannot_hold_more_than_its_limits() {
    let subscribe = |topic| Act::Send(Op::Subscribe { topic, matching: Matching::ABSENT });
    let tally = run(vec![
        (0, subscribe(Uri(0))),
        (0, subscribe(Uri(1))),
        (0, subscribe(Uri(0))),
        (0, subscribe(Uri(3))),
    ]);
    assert_eq!((sent(&tally, "SUBSCRIBED"), sent(&tally, "ERROR")), (3, 1));
}
