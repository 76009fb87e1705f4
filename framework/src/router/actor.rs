//! The actor that owns one realm's routing core.
//!
//! Sessions (remote or local) talk to it with three messages: [`Join`],
//! [`Inbound`] and [`Leave`]. It hands each input to the [`RealmCore`] and
//! delivers the resulting effects to the sessions' outbound queues. One
//! owner, no locks: the realm's state is only ever touched here.

use std::collections::HashMap;

use actix::{Actor, Context, Handler, Message as ActixMessage, MessageResult};
use tokio::sync::mpsc;

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
}

/// A message from a joined session.
#[derive(ActixMessage)]
#[rtype(result = "()")]
pub struct Inbound {
    /// The sending session.
    pub session: Id,
    /// The message.
    pub message: Message,
}

/// A session left (GOODBYE, or its connection is gone).
#[derive(ActixMessage)]
#[rtype(result = "()")]
pub struct Leave {
    /// The session.
    pub session: Id,
}

/// Close every session with GOODBYE `wamp.close.system_shutdown`. The reply
/// is how many sessions were told.
#[derive(ActixMessage)]
#[rtype(result = "usize")]
pub struct Shutdown;

/// The realm actor.
pub struct RealmActor {
    core: RealmCore,
    peers: HashMap<Id, PeerSender>,
    outbox: Outbox,
}

impl RealmActor {
    /// An actor driving `core`.
    pub fn new(core: RealmCore) -> Self {
        RealmActor { core, peers: HashMap::new(), outbox: Outbox::new() }
    }

    fn deliver(&mut self) {
        for effect in self.outbox.drain() {
            match effect {
                Effect::Send { to, message } => {
                    if let Some(peer) = self.peers.get(&to) {
                        // A failed send means the session is gone; its Leave
                        // is on the way and cleans up.
                        let _ = peer.send(ToPeer::Message(message));
                    }
                }
                Effect::Close { to, reason, message } => {
                    if let Some(peer) = self.peers.remove(&to) {
                        let _ = peer.send(ToPeer::Close { reason, message });
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
        self.peers.insert(id, msg.sender);
        MessageResult(id)
    }
}

impl Handler<Inbound> for RealmActor {
    type Result = ();

    fn handle(&mut self, msg: Inbound, _ctx: &mut Self::Context) {
        self.core.handle(msg.session, msg.message, &mut self.outbox);
        self.deliver();
    }
}

impl Handler<Leave> for RealmActor {
    type Result = ();

    fn handle(&mut self, msg: Leave, _ctx: &mut Self::Context) {
        self.peers.remove(&msg.session);
        self.core.leave(msg.session, &mut self.outbox);
        self.deliver();
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
