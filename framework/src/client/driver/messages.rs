//! What other code asks of a running session actor: wait for the join,
//! run a closure with its `Session`, leave.

use super::*;

/// Wait until the session has joined and is set up (immediately if it
/// is); see [`Hooks::setup`].
#[derive(actix::Message)]
#[rtype(result = "Result<SessionInfo, Error>")]
pub struct WaitJoined;

impl ActixHandler<WaitJoined> for SessionActor {
    type Result = ResponseFuture<Result<SessionInfo, Error>>;

    fn handle(&mut self, _msg: WaitJoined, _ctx: &mut Self::Context) -> Self::Result {
        if let Some(outcome) = self.ready.clone() {
            return Box::pin(async move { outcome });
        }
        let (tx, rx) = oneshot::channel();
        self.waiters.push(tx);
        Box::pin(async move { rx.await.unwrap_or_else(|_| Err(Error::lost())) })
    }
}

/// Run a closure with the session's [`Session`] on its thread; the reply is
/// the closure's future's output.
pub struct WithSession<T: 'static> {
    run: Box<dyn FnOnce(Session) -> LocalBoxFuture<'static, T> + Send>,
}

impl<T: 'static> WithSession<T> {
    /// Wraps a closure.
    pub fn new(run: impl FnOnce(Session) -> LocalBoxFuture<'static, T> + Send + 'static) -> Self {
        WithSession { run: Box::new(run) }
    }
}

impl<T: 'static> actix::Message for WithSession<T> {
    type Result = T;
}

impl<T: 'static> ActixHandler<WithSession<T>> for SessionActor {
    type Result = ResponseFuture<T>;

    fn handle(&mut self, msg: WithSession<T>, _ctx: &mut Self::Context) -> Self::Result {
        (msg.run)(self.handle.clone())
    }
}

/// Leave the realm and stop. The reply comes when the session is over: at
/// once in-process; over WebSocket once the router answered GOODBYE (or
/// the link gave up waiting for it), also while reconnecting.
#[derive(actix::Message)]
#[rtype(result = "()")]
pub struct LeaveSession;

impl ActixHandler<LeaveSession> for SessionActor {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _msg: LeaveSession, ctx: &mut Self::Context) -> Self::Result {
        if let Some(commands) = &self.remote {
            let (tx, rx) = oneshot::channel();
            self.leaving.push(tx);
            if commands.send(Outgoing::Leave).is_err() {
                // The link is already gone; its end is on the way.
                tracing::debug!("leaving a session whose link has ended");
            }
            return Box::pin(async move {
                // Dropped unanswered when the actor stops: over as well.
                let _ = rx.await;
            });
        }
        self.handle.leave();
        // An in-process realm does not answer: the session is over now.
        self.left(crate::protocol::errors::CLOSE_NORMAL, false, None, ctx);
        Box::pin(async {})
    }
}
