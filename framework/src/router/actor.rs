//! The actor that owns one realm's routing core.
//!
//! Sessions (remote or local) join with [`Join`], then send their messages
//! and their leaving through a [`RealmHandle`]'s input queue. It hands
//! each input to the [`RealmCore`] and delivers the resulting effects to
//! the sessions: into their outbound queues, or, for in-process sessions
//! on the realm's own thread, by a direct call (see [`super::direct`]).
//! One owner, no locks: the realm's state is only ever touched here.

use crate::router::FastMap as HashMap;

use actix::{
    Actor, Addr, AsyncContext as _, Context, Handler, Message as ActixMessage, MessageResult, StreamHandler,
};
use tokio::sync::mpsc;

use super::direct::{DirectOffer, DirectPeer, LocalInput};
use super::outbox::{Effect, Outbox};
use super::realm::{RealmCore, SessionInfo};
use crate::protocol::{errors, Id, Message};
use std::rc::Rc;

/// What a realm sends to a session.
#[derive(Debug, Clone, PartialEq)]
pub enum ToPeer {
    /// A message to deliver.
    Message(Message),
    /// The realm closed the session: send GOODBYE with this reason and end
    /// the connection.
    Close {
        /// The GOODBYE reason URI.
        reason: &'static str,
        /// An explanation for the details.
        message: String,
    },
}

/// The outbound queue of one session, as the realm sees it.
pub type PeerSender = mpsc::UnboundedSender<ToPeer>;

/// The receiving end of a session's outbound queue.
pub type PeerReceiver = mpsc::UnboundedReceiver<ToPeer>;

/// Join the realm. The reply is the new session id.
#[derive(ActixMessage)]
#[rtype(result = "Id")]
pub struct Join {
    /// Who the session is.
    pub info: SessionInfo,
    /// Where the realm delivers the session's messages.
    pub sender: PeerSender,
    /// An in-process session's offer to take deliveries by direct call;
    /// used when the realm runs on the offering thread, else `sender` is.
    pub direct: Option<DirectOffer>,
}

/// What joined sessions send their realm, in order, on one queue: a
/// session's messages and its leaving can never overtake each other.
#[derive(Debug)]
pub enum RealmInput {
    /// A message from a joined session.
    Inbound {
        /// The sending session.
        session: Id,
        /// The message.
        message: Message,
    },
    /// A session left (GOODBYE, or its connection is gone).
    Leave {
        /// The session.
        session: Id,
    },
}

/// A handle on a running realm: its actor (to join and shut down) and its
/// input queue (the hot path, without a boxed envelope per message).
#[derive(Clone, Debug)]
pub struct RealmHandle {
    // Shared: cloning an actix address allocates, and handles are cloned
    // wherever a session's link is.
    inner: std::sync::Arc<HandleInner>,
}

#[derive(Debug)]
struct HandleInner {
    addr: Addr<RealmActor>,
    input: mpsc::UnboundedSender<RealmInput>,
}

impl RealmHandle {
    /// Starts a realm actor driving `core` on the current arbiter.
    pub fn start(core: RealmCore) -> Self {
        let (input, receiver) = mpsc::unbounded_channel();
        let addr = RealmActor::create(move |ctx| {
            let local = Rc::new(LocalInput::default());
            ctx.add_stream(InputStream::new(receiver, local.clone()));
            RealmActor::new(core, local)
        });
        RealmHandle { inner: std::sync::Arc::new(HandleInner { addr, input }) }
    }

    /// The realm actor.
    pub fn addr(&self) -> &Addr<RealmActor> {
        &self.inner.addr
    }

    /// Whether the realm is still running.
    pub fn connected(&self) -> bool {
        !self.inner.input.is_closed()
    }

    /// Routes a message of a joined session; `false` if the realm is gone.
    pub fn send(&self, session: Id, message: Message) -> bool {
        self.inner.input.send(RealmInput::Inbound { session, message }).is_ok()
    }

    /// Tells the realm a session left.
    pub fn leave(&self, session: Id) {
        let _ = self.inner.input.send(RealmInput::Leave { session });
    }
}

/// The realm's inputs: from its own thread's sessions, and from anywhere.
/// When both have input they take turns, so neither can starve the other.
struct InputStream {
    /// `None` once every handle is gone.
    receiver: Option<mpsc::UnboundedReceiver<RealmInput>>,
    local: Rc<LocalInput>,
    /// Whether the local input goes first on the next poll.
    local_first: bool,
}

impl InputStream {
    fn new(receiver: mpsc::UnboundedReceiver<RealmInput>, local: Rc<LocalInput>) -> Self {
        InputStream { receiver: Some(receiver), local, local_first: true }
    }

    fn poll_remote(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<RealmInput> {
        use std::task::Poll;
        if let Some(receiver) = &mut self.receiver {
            match receiver.poll_recv(cx) {
                Poll::Ready(Some(input)) => return Poll::Ready(input),
                // No handle is left, but sessions on this thread may still
                // send through the local input.
                Poll::Ready(None) => self.receiver = None,
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }
}

impl futures_util::Stream for InputStream {
    type Item = RealmInput;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<RealmInput>> {
        use std::task::Poll;
        let this = &mut *self;
        let input = if this.local_first {
            match this.local.poll_next(cx) {
                Poll::Ready(input) => Poll::Ready(input),
                Poll::Pending => this.poll_remote(cx),
            }
        } else {
            match this.poll_remote(cx) {
                Poll::Ready(input) => Poll::Ready(input),
                Poll::Pending => this.local.poll_next(cx),
            }
        };
        this.local_first = !this.local_first;
        input.map(Some)
    }
}

/// Close every session with GOODBYE `wamp.close.system_shutdown`. The reply
/// is how many sessions were told.
#[derive(ActixMessage)]
#[rtype(result = "usize")]
pub struct Shutdown;

/// How the realm reaches one joined session.
enum Peer {
    Queued(PeerSender),
    Direct(Rc<dyn DirectPeer>),
}

impl Peer {
    fn deliver(&self, to_peer: ToPeer) {
        match self {
            // A failed send means the session is gone; its Leave is on the
            // way and cleans up.
            Peer::Queued(sender) => drop(sender.send(to_peer)),
            Peer::Direct(peer) => peer.deliver(to_peer),
        }
    }
}

/// The realm actor.
pub struct RealmActor {
    core: RealmCore,
    peers: HashMap<Id, Peer>,
    outbox: Outbox,
    /// What sessions on this thread send (see [`super::direct`]).
    local: Rc<LocalInput>,
}

impl RealmActor {
    fn new(core: RealmCore, local: Rc<LocalInput>) -> Self {
        RealmActor { core, peers: HashMap::default(), outbox: Outbox::new(), local }
    }

    fn deliver(&mut self) {
        for effect in self.outbox.drain() {
            match effect {
                Effect::Send { to, message } => {
                    if let Some(peer) = self.peers.get(&to) {
                        peer.deliver(ToPeer::Message(message));
                    }
                }
                Effect::Close { to, reason, message } => {
                    if let Some(peer) = self.peers.remove(&to) {
                        peer.deliver(ToPeer::Close { reason, message });
                    }
                }
            }
        }
    }
}

impl Actor for RealmActor {
    type Context = Context<Self>;

    fn started(&mut self, _ctx: &mut Self::Context) {
        tracing::info!(realm = %self.core.name(), "realm started");
    }
}

impl Handler<Join> for RealmActor {
    type Result = MessageResult<Join>;

    fn handle(&mut self, msg: Join, _ctx: &mut Self::Context) -> Self::Result {
        let id = self.core.join(msg.info);
        let peer = match msg.direct.and_then(|offer| offer.claim(&self.local)) {
            Some(direct) => Peer::Direct(direct),
            None => Peer::Queued(msg.sender),
        };
        self.peers.insert(id, peer);
        MessageResult(id)
    }
}

impl StreamHandler<RealmInput> for RealmActor {
    fn handle(&mut self, input: RealmInput, _ctx: &mut Self::Context) {
        match input {
            RealmInput::Inbound { session, message } => self.core.handle(session, message, &mut self.outbox),
            RealmInput::Leave { session } => {
                self.peers.remove(&session);
                self.core.leave(session, &mut self.outbox);
            }
        }
        self.deliver();
    }

    fn finished(&mut self, _ctx: &mut Self::Context) {
        // The inputs never end (sessions on this thread may always send);
        // the actor runs until stopped.
    }
}

impl Handler<Shutdown> for RealmActor {
    type Result = usize;

    fn handle(&mut self, _msg: Shutdown, _ctx: &mut Self::Context) -> usize {
        let sessions: Vec<Id> = self.core.session_ids().collect();
        for session in &sessions {
            self.core.leave(*session, &mut self.outbox);
            self.outbox.close(*session, errors::CLOSE_SYSTEM_SHUTDOWN, "the router is shutting down");
        }
        self.deliver();
        sessions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{FutureExt as _, StreamExt as _};

    fn leave_of(input: Option<Option<RealmInput>>) -> Id {
        match input {
            Some(Some(RealmInput::Leave { session })) => session,
            other => panic!("expected a leave, got {other:?}"),
        }
    }

    #[test]
    fn local_and_remote_inputs_take_turns() {
        let (remote, receiver) = mpsc::unbounded_channel();
        let local = Rc::new(LocalInput::default());
        let mut inputs = InputStream::new(receiver, local.clone());
        for session in [1, 2, 3] {
            local.send(RealmInput::Leave { session });
            remote.send(RealmInput::Leave { session: 10 + session }).unwrap();
        }
        let order: Vec<Id> = (0..6).map(|_| leave_of(inputs.next().now_or_never())).collect();
        assert_eq!(order, [1, 11, 2, 12, 3, 13]);
        assert!(inputs.next().now_or_never().is_none(), "nothing left: pending");
    }

    #[test]
    fn local_input_is_still_served_when_every_handle_is_gone() {
        let (remote, receiver) = mpsc::unbounded_channel();
        let local = Rc::new(LocalInput::default());
        let mut inputs = InputStream::new(receiver, local.clone());
        drop(remote);
        assert!(inputs.next().now_or_never().is_none(), "pending, not ended");
        local.send(RealmInput::Leave { session: 4 });
        assert_eq!(leave_of(inputs.next().now_or_never()), 4);
    }
}
