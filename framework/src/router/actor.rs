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

use super::direct::{DirectOffer, DirectPeer};
use super::outbox::{Effect, Outbox};
use super::realm::{RealmCore, SessionInfo};
use crate::protocol::{errors, Id, Message};

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
            ctx.add_stream(InputStream { receiver });
            RealmActor::new(core)
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

struct InputStream {
    receiver: mpsc::UnboundedReceiver<RealmInput>,
}

impl futures_util::Stream for InputStream {
    type Item = RealmInput;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<RealmInput>> {
        self.receiver.poll_recv(cx)
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
    Direct(std::rc::Rc<dyn DirectPeer>),
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
}

impl RealmActor {
    /// An actor driving `core`.
    pub fn new(core: RealmCore) -> Self {
        RealmActor { core, peers: HashMap::default(), outbox: Outbox::new() }
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
        let peer = match msg.direct.and_then(DirectOffer::claim) {
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
        // Every handle is gone, and with them every session: nothing is
        // left to route, but the actor stays for joins until stopped.
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
