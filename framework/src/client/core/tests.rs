//! The client core, message by message.

use super::*;

type Core = ClientCore<&'static str, &'static str>;

fn run(core: &mut Core, message: WampMessage) -> Vec<ClientEffect<&'static str, &'static str>> {
    let mut out = Vec::new();
    if let Some(effect) = core.receive(message, &mut out) {
        out.push(effect);
    }
    out
}

fn request_of(message: &WampMessage) -> Id {
    match message {
        WampMessage::Call { request, .. }
        | WampMessage::Publish { request, .. }
        | WampMessage::Subscribe { request, .. }
        | WampMessage::Register { request, .. }
        | WampMessage::Unsubscribe { request, .. }
        | WampMessage::Unregister { request, .. } => *request,
        other => panic!("not a request: {other:?}"),
    }
}

#[test]
fn call_then_result_completes_the_caller() {
    let mut core = Core::new();
    let (request, message) = core.call("com.add", Dict::new(), Payload::args(vec![1.into()]), "call");
    assert_eq!(request_of(&message), request);
    let payload = Payload::args(vec![2.into()]);
    let effects =
        run(&mut core, WampMessage::Result { request, details: Dict::new(), payload: payload.clone() });
    assert!(
        matches!(effects.as_slice(), [ClientEffect::Complete("call", Outcome::Result { payload: p, .. })] if *p == payload)
    );
    assert_eq!(core.pending_count(), 0);
}

#[test]
fn errors_complete_the_request_with_uri_and_payload() {
    let mut core = Core::new();
    let (request, _) = core.call("com.fail", Dict::new(), Payload::default(), "call");
    let error = WampMessage::Error {
        request_type: code::CALL,
        request,
        details: Dict::new(),
        error: "com.oops".into(),
        payload: Payload::args(vec!["why".into()]),
    };
    let effects = run(&mut core, error);
    match effects.as_slice() {
        [ClientEffect::Complete("call", Outcome::Error { error, payload, .. })] => {
            assert_eq!(error, "com.oops");
            assert_eq!(payload.args_list(), [Value::from("why")]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn requests_get_sequential_ids() {
    let mut core = Core::new();
    let (a, _) = core.call("a.b", Dict::new(), Payload::default(), "1");
    let (b, _) = core.call("a.b", Dict::new(), Payload::default(), "2");
    assert_eq!((a, b), (1, 2));
}

#[test]
fn invocations_and_events_reach_their_handlers() {
    let mut core = Core::new();
    let register = core.register("com.proc", Dict::new(), "proc-handler", "reg").unwrap().unwrap();
    let effects =
        run(&mut core, WampMessage::Registered { request: request_of(&register), registration: 77 });
    assert!(matches!(effects.as_slice(), [ClientEffect::Complete("reg", Outcome::Registered(77))]));
    let effects = run(
        &mut core,
        WampMessage::Invocation {
            request: 5,
            registration: 77,
            details: Dict::new(),
            payload: Payload::default(),
        },
    );
    assert!(matches!(effects.as_slice(), [ClientEffect::Invoke { handler: "proc-handler", request: 5, .. }]));

    let subscribe = core.subscribe("com.topic", Dict::new(), "topic-handler", "sub").unwrap().unwrap();
    run(&mut core, WampMessage::Subscribed { request: request_of(&subscribe), subscription: 9 });
    let effects = run(
        &mut core,
        WampMessage::Event {
            subscription: 9,
            publication: 3,
            details: Dict::new(),
            payload: Payload::default(),
        },
    );
    assert!(matches!(
        effects.as_slice(),
        [ClientEffect::Deliver { handler: "topic-handler", publication: 3, .. }]
    ));
}

#[test]
fn an_invocation_for_an_unknown_registration_is_answered_with_an_error() {
    let mut core = Core::new();
    let effects = run(
        &mut core,
        WampMessage::Invocation {
            request: 5,
            registration: 1,
            details: Dict::new(),
            payload: Payload::default(),
        },
    );
    assert!(matches!(
        effects.as_slice(),
        [ClientEffect::Send(WampMessage::Error { request_type: code::INVOCATION, request: 5, .. })]
    ));
}

#[test]
fn repeating_a_held_subscription_reuses_it() {
    let mut core = Core::new();
    let subscribe = core.subscribe("com.topic", Dict::new(), "first", "sub1").unwrap().unwrap();
    run(&mut core, WampMessage::Subscribed { request: request_of(&subscribe), subscription: 9 });
    match core.subscribe("com.topic", Dict::new(), "second", "sub2") {
        Err(("sub2", Outcome::Subscribed(9))) => {}
        other => panic!("{other:?}"),
    }
    let effects = run(
        &mut core,
        WampMessage::Event {
            subscription: 9,
            publication: 3,
            details: Dict::new(),
            payload: Payload::default(),
        },
    );
    assert!(matches!(effects.as_slice(), [ClientEffect::Deliver { handler: "second", .. }]));
}

#[test]
fn disconnect_fails_waiters_and_rejoin_restores_in_order() {
    let mut core = Core::new();
    let reg = core.register("com.proc", Dict::new(), "p", "reg").unwrap().unwrap();
    run(&mut core, WampMessage::Registered { request: request_of(&reg), registration: 1 });
    let sub = core.subscribe("com.topic", Dict::new(), "t", "sub").unwrap().unwrap();
    run(&mut core, WampMessage::Subscribed { request: request_of(&sub), subscription: 2 });
    let (_, _) = core.call("com.other", Dict::new(), Payload::default(), "call");
    let mut out = Vec::new();
    core.disconnected(None, &mut out);
    assert!(matches!(out.as_slice(), [ClientEffect::Complete("call", Outcome::Lost(None))]));
    // Old ids are gone.
    let effects = run(
        &mut core,
        WampMessage::Event {
            subscription: 2,
            publication: 3,
            details: Dict::new(),
            payload: Payload::default(),
        },
    );
    assert!(effects.is_empty());
    let mut out = Vec::new();
    core.rejoined(&mut out);
    let sent: Vec<&WampMessage> = out
        .iter()
        .map(|e| match e {
            ClientEffect::Send(m) => m,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(matches!(sent[0], WampMessage::Register { procedure, .. } if procedure == "com.proc"));
    assert!(matches!(sent[1], WampMessage::Subscribe { topic, .. } if topic == "com.topic"));
    // New ids from the new session route to the same handlers.
    run(&mut core, WampMessage::Registered { request: request_of(sent[0]), registration: 10 });
    run(&mut core, WampMessage::Subscribed { request: request_of(sent[1]), subscription: 20 });
    let effects = run(
        &mut core,
        WampMessage::Event {
            subscription: 20,
            publication: 4,
            details: Dict::new(),
            payload: Payload::default(),
        },
    );
    assert!(matches!(effects.as_slice(), [ClientEffect::Deliver { handler: "t", .. }]));
}

#[test]
fn unsubscribe_forgets_the_subscription() {
    let mut core = Core::new();
    let sub = core.subscribe("com.topic", Dict::new(), "t", "sub").unwrap().unwrap();
    run(&mut core, WampMessage::Subscribed { request: request_of(&sub), subscription: 2 });
    let unsub = core.unsubscribe(2, "unsub").unwrap();
    let effects = run(&mut core, WampMessage::Unsubscribed { request: request_of(&unsub) });
    assert!(matches!(effects.as_slice(), [ClientEffect::Complete("unsub", Outcome::Unsubscribed)]));
    assert!(matches!(core.unsubscribe(2, "again"), Err(("again", Outcome::Error { .. }))));
    let mut out = Vec::new();
    core.rejoined(&mut out);
    assert!(out.is_empty());
}

#[test]
fn a_failed_registration_is_not_restored() {
    let mut core = Core::new();
    let reg = core.register("com.proc", Dict::new(), "p", "reg").unwrap().unwrap();
    let error = WampMessage::Error {
        request_type: code::REGISTER,
        request: request_of(&reg),
        details: Dict::new(),
        error: errors::PROCEDURE_ALREADY_EXISTS.into(),
        payload: Payload::default(),
    };
    assert!(matches!(
        run(&mut core, error).as_slice(),
        [ClientEffect::Complete("reg", Outcome::Error { .. })]
    ));
    let mut out = Vec::new();
    core.rejoined(&mut out);
    assert!(out.is_empty());
}

#[test]
fn router_only_messages_are_violations() {
    let mut core = Core::new();
    let effects = run(&mut core, WampMessage::Hello { realm: "x".into(), details: Dict::new() });
    assert!(matches!(effects.as_slice(), [ClientEffect::Violation(_)]));
}

#[test]
fn registering_again_while_a_restore_is_in_flight_joins_it() {
    let mut core = Core::new();
    let reg = core.register("com.proc", Dict::new(), "p", "first").unwrap().unwrap();
    run(&mut core, WampMessage::Registered { request: request_of(&reg), registration: 1 });
    let mut out = Vec::new();
    core.disconnected(None, &mut out);
    core.rejoined(&mut out);
    let [ClientEffect::Send(restore)] = out.as_slice() else { panic!("{out:?}") };
    let restore = request_of(restore);
    // The application registers the same procedure again before the
    // restore is confirmed: nothing new is sent, it waits for the restore.
    assert!(matches!(core.register("com.proc", Dict::new(), "p2", "again"), Ok(None)));
    let effects = run(&mut core, WampMessage::Registered { request: restore, registration: 9 });
    assert!(matches!(effects.as_slice(), [ClientEffect::Complete("again", Outcome::Registered(9))]));
    let effects = run(
        &mut core,
        WampMessage::Invocation {
            request: 3,
            registration: 9,
            details: Dict::new(),
            payload: Payload::default(),
        },
    );
    assert!(matches!(effects.as_slice(), [ClientEffect::Invoke { handler: "p2", .. }]));
}

fn flag(key: &str) -> Dict {
    Dict::from([(key.to_owned(), Value::Bool(true))])
}

#[test]
fn progressive_results_of_a_call_that_asked_for_them_keep_it_pending() {
    let mut core = Core::new();
    let (request, _) = core.call("com.count", flag("receive_progress"), Payload::default(), "call");
    for n in 1..=2 {
        let partial = WampMessage::Result {
            request,
            details: flag("progress"),
            payload: Payload::args(vec![n.into()]),
        };
        match run(&mut core, partial).as_slice() {
            [ClientEffect::Progress { request: r, payload, .. }] => {
                assert_eq!((*r, payload.args_list()), (request, &[Value::from(n)][..]))
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(core.pending_count(), 1);
    let last = WampMessage::Result { request, details: Dict::new(), payload: Payload::args(vec![3.into()]) };
    assert!(matches!(
        run(&mut core, last).as_slice(),
        [ClientEffect::Complete("call", Outcome::Result { .. })]
    ));
    assert_eq!(core.pending_count(), 0);
}

#[test]
fn a_progressive_result_nobody_asked_for_is_the_routers_violation() {
    let mut core = Core::new();
    let (request, _) = core.call("com.count", Dict::new(), Payload::default(), "call");
    let partial = WampMessage::Result { request, details: flag("progress"), payload: Payload::default() };
    assert!(matches!(run(&mut core, partial).as_slice(), [ClientEffect::Violation(_)]));
}

#[test]
fn further_invocations_of_a_progressive_call_are_input_for_the_running_handler() {
    let mut core = Core::new();
    let Ok(Some(register)) = core.register("com.sum", Dict::new(), "sum", "reg") else { panic!() };
    run(&mut core, WampMessage::Registered { request: request_of(&register), registration: 5 });
    let invocation = |details: Dict, n: i64| WampMessage::Invocation {
        request: 40,
        registration: 5,
        details,
        payload: Payload::args(vec![n.into()]),
    };
    assert!(matches!(
        run(&mut core, invocation(flag("progress"), 1)).as_slice(),
        [ClientEffect::Invoke { handler: "sum", request: 40, .. }]
    ));
    assert!(matches!(
        run(&mut core, invocation(flag("progress"), 2)).as_slice(),
        [ClientEffect::Input { request: 40, progress: true, .. }]
    ));
    assert!(matches!(
        run(&mut core, invocation(Dict::new(), 3)).as_slice(),
        [ClientEffect::Input { request: 40, progress: false, .. }]
    ));
    // The input ended: the same request id is a new call.
    assert!(matches!(run(&mut core, invocation(Dict::new(), 4)).as_slice(), [ClientEffect::Invoke { .. }]));
}

#[test]
fn interrupt_names_its_mode_and_reason_and_ends_the_input() {
    let mut core = Core::new();
    let Ok(Some(register)) = core.register("com.sum", Dict::new(), "sum", "reg") else { panic!() };
    run(&mut core, WampMessage::Registered { request: request_of(&register), registration: 5 });
    let first = WampMessage::Invocation {
        request: 9,
        registration: 5,
        details: flag("progress"),
        payload: Payload::default(),
    };
    run(&mut core, first);
    let options = Dict::from([
        ("mode".to_owned(), Value::from("killnowait")),
        ("reason".to_owned(), Value::from(errors::TIMEOUT)),
    ]);
    match run(&mut core, WampMessage::Interrupt { request: 9, options }).as_slice() {
        [ClientEffect::Interrupt { request: 9, mode, reason }] => {
            assert_eq!((mode.as_str(), reason.as_str()), ("killnowait", errors::TIMEOUT))
        }
        other => panic!("{other:?}"),
    }
    match run(&mut core, WampMessage::Interrupt { request: 9, options: Dict::new() }).as_slice() {
        [ClientEffect::Interrupt { mode, reason, .. }] => {
            assert_eq!((mode.as_str(), reason.as_str()), ("kill", errors::CANCELED), "the defaults")
        }
        other => panic!("{other:?}"),
    }
    let late = WampMessage::Invocation {
        request: 9,
        registration: 5,
        details: Dict::new(),
        payload: Payload::default(),
    };
    assert!(
        matches!(run(&mut core, late).as_slice(), [ClientEffect::Invoke { .. }]),
        "no input after INTERRUPT"
    );
}

#[test]
fn chunks_of_a_progressive_call_go_out_while_it_is_pending() {
    let mut core = Core::new();
    let (request, _) = core.call("com.sum", flag("progress"), Payload::default(), "call");
    let Some(WampMessage::Call { request: r, options, .. }) =
        core.call_chunk(request, "com.sum", true, Payload::default())
    else {
        panic!("a CALL")
    };
    assert_eq!((r, options.get("progress")), (request, Some(&Value::Bool(true))));
    let Some(WampMessage::Call { options, .. }) =
        core.call_chunk(request, "com.sum", false, Payload::default())
    else {
        panic!("a CALL")
    };
    assert!(options.is_empty(), "the last chunk has no progress flag");
    run(&mut core, WampMessage::Result { request, details: Dict::new(), payload: Payload::default() });
    assert!(core.call_chunk(request, "com.sum", true, Payload::default()).is_none());
}
