use super::*;
use crate::protocol::WampMessage;
use crate::router::actor::RealmInput;
use crate::router::direct::{Detached, LocalInput};

/// An in-process session, linked to `input` as session 7.
fn direct_session(input: &Detached) -> DirectSession {
    let handle = Session::detached();
    *handle.shared.link.borrow_mut() =
        Some(LinkSender::Direct { input: input.input.clone(), session: 7, gate: Gate::new() });
    DirectSession { handle }
}

fn next_input(input: &Detached) -> Option<RealmInput> {
    input.next()
}

#[test]
fn a_direct_delivery_runs_the_handler_and_answers_through_the_local_queue() {
    let input = LocalInput::detached();
    let session = direct_session(&input);
    let ctx = session.handle.clone();
    let handler: super::super::ProcedureFn = Rc::new(|payload, _details, _ctx| Completion::Now(Ok(payload)));
    let (tx, _rx) = super::super::reply::slot();
    let register = ctx.shared.core.borrow_mut().register(
        "com.example.echo",
        Dict::new(),
        Handler::Procedure(handler, "test.procedure".into()),
        tx,
    );
    let Ok(Some(WampMessage::Register { request, .. })) = register else { panic!("a REGISTER to send") };
    assert!(session.deliver(WampMessage::Registered { request, registration: 3 }).is_ok());
    let payload = Payload::args(vec![crate::protocol::Value::from(5)]);
    assert!(session
        .deliver(WampMessage::Invocation {
            request: 11,
            registration: 3,
            details: Dict::new(),
            payload: payload.clone(),
        })
        .is_ok());
    match next_input(&input) {
        Some(RealmInput::Inbound {
            session: 7,
            message: WampMessage::Yield { request: 11, payload: p, .. },
            ..
        }) => {
            assert_eq!(p, payload)
        }
        other => panic!("expected the YIELD, got {other:?}"),
    }
}

#[test]
fn a_direct_delivery_that_breaks_the_protocol_says_goodbye_and_leaves() {
    let input = LocalInput::detached();
    let session = direct_session(&input);
    // A router never sends HELLO.
    assert!(session.deliver(WampMessage::Hello { realm: "realm1".into(), details: Dict::new() }).is_ok());
    match next_input(&input) {
        Some(RealmInput::Inbound { session: 7, message: WampMessage::Goodbye { reason, .. }, .. }) => {
            assert_eq!(reason, errors::PROTOCOL_VIOLATION)
        }
        other => panic!("expected GOODBYE, got {other:?}"),
    }
    assert!(matches!(next_input(&input), Some(RealmInput::Leave { session: 7 })));
}

/// Registers `handler` as registration 3 of `session`.
fn register(session: &DirectSession, handler: super::super::ProcedureFn) {
    let (tx, _rx) = super::super::reply::slot();
    let register = session.handle.shared.core.borrow_mut().register(
        "com.example.slow",
        Dict::new(),
        Handler::Procedure(handler, "test.procedure".into()),
        tx,
    );
    let Ok(Some(WampMessage::Register { request, .. })) = register else { panic!("a REGISTER to send") };
    assert!(session.deliver(WampMessage::Registered { request, registration: 3 }).is_ok());
}

fn invoke(session: &DirectSession, request: Id) {
    let message = WampMessage::Invocation {
        request,
        registration: 3,
        details: Dict::new(),
        payload: Payload::default(),
    };
    assert!(session.deliver(message).is_ok());
}

fn interrupt(session: &DirectSession, request: Id) {
    let options = Dict::from([("mode".to_owned(), Value::from("kill"))]);
    assert!(session.deliver(WampMessage::Interrupt { request, options }).is_ok());
}

/// Lets the spawned handler tasks run.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

#[test]
fn a_call_answered_at_once_leaves_no_state_behind() {
    let input = LocalInput::detached();
    let session = direct_session(&input);
    register(&session, Rc::new(|payload, _details, _ctx| Completion::Now(Ok(payload))));
    invoke(&session, 11);
    assert!(matches!(
        next_input(&input),
        Some(RealmInput::Inbound { message: WampMessage::Yield { .. }, .. })
    ));
    assert!(session.handle.shared.invocations.borrow().is_empty());
}

#[actix_web::test]
async fn an_interrupt_drops_a_procedure_that_does_not_watch_and_answers_with_canceled() {
    struct Flag(Rc<std::cell::Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let input = LocalInput::detached();
    let session = direct_session(&input);
    let dropped = Rc::new(std::cell::Cell::new(false));
    let flag = dropped.clone();
    register(
        &session,
        Rc::new(move |_payload, _details, _ctx| {
            let guard = Flag(flag.clone());
            Completion::Later(Box::pin(async move {
                std::future::pending::<()>().await;
                drop(guard);
                Ok(Payload::default())
            }))
        }),
    );
    invoke(&session, 12);
    settle().await;
    assert!(next_input(&input).is_none(), "no answer before the interrupt");
    assert_eq!(session.handle.shared.invocations.borrow().len(), 1);
    interrupt(&session, 12);
    settle().await;
    match next_input(&input) {
        Some(RealmInput::Inbound { message: WampMessage::Error { request: 12, error, .. }, .. }) => {
            assert_eq!(error, errors::CANCELED)
        }
        other => panic!("expected ERROR canceled, got {other:?}"),
    }
    assert!(dropped.get(), "the procedure's future was dropped");
    assert!(session.handle.shared.invocations.borrow().is_empty());
}

#[actix_web::test]
async fn a_procedure_that_watches_answers_its_interrupt_itself() {
    let input = LocalInput::detached();
    let session = direct_session(&input);
    register(
        &session,
        Rc::new(|_payload, call: IncomingCall, ctx| {
            let details = call.into_details(&ctx);
            Completion::Later(Box::pin(async move {
                let why = details.interrupted().await;
                Ok(Payload::args(vec![Value::from(format!("stopped: {}", why.mode))]))
            }))
        }),
    );
    invoke(&session, 13);
    settle().await;
    interrupt(&session, 13);
    settle().await;
    match next_input(&input) {
        Some(RealmInput::Inbound { message: WampMessage::Yield { request: 13, payload, .. }, .. }) => {
            assert_eq!(payload.args_list(), [Value::from("stopped: kill")])
        }
        other => panic!("expected the procedure's own YIELD, got {other:?}"),
    }
    assert!(session.handle.shared.invocations.borrow().is_empty());
}

#[actix_web::test]
async fn a_timeout_passed_on_to_the_callee_interrupts_the_procedure() {
    let input = LocalInput::detached();
    let session = direct_session(&input);
    register(
        &session,
        Rc::new(|_payload, _details, _ctx| {
            Completion::Later(Box::pin(async {
                std::future::pending::<()>().await;
                Ok(Payload::default())
            }))
        }),
    );
    let details = Dict::from([("timeout".to_owned(), Value::from(30))]);
    assert!(session
        .deliver(WampMessage::Invocation {
            request: 14,
            registration: 3,
            details,
            payload: Payload::default()
        })
        .is_ok());
    settle().await;
    assert!(next_input(&input).is_none(), "no answer before the timeout");
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    settle().await;
    match next_input(&input) {
        Some(RealmInput::Inbound { message: WampMessage::Error { request: 14, error, .. }, .. }) => {
            assert_eq!(error, errors::TIMEOUT)
        }
        other => panic!("expected ERROR timeout, got {other:?}"),
    }
    assert!(session.handle.shared.invocations.borrow().is_empty());
}

#[actix_web::test]
async fn a_session_beside_its_realm_keeps_an_entry_in_its_threads_table_until_it_leaves() {
    use crate::router::direct::entries_on_this_thread;
    let router = crate::router::Router::new(crate::config::RouterConfig::default());
    let realm = router.realm("realm1").expect("realm1 starts");
    let identity = crate::auth::Identity {
        authid: "test".into(),
        authrole: "trusted".into(),
        authmethod: "trusted".into(),
        authprovider: "static".into(),
    };
    let before = entries_on_this_thread();
    let start = Start::Local { realm, realm_name: "realm1".into(), identity };
    let client = crate::client::Client::start(SessionActor::new(start, Hooks::default(), None));
    client.joined().await.expect("joined");
    assert_eq!(entries_on_this_thread(), before + 1, "its entry, while it is in the realm");
    client.leave().await;
    for _ in 0..100 {
        if entries_on_this_thread() == before {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(entries_on_this_thread(), before, "left: its entry is gone");
}
