//! How a client session reaches its router: in-process, through its
//! thread's input to the realm, routed on that thread (no encoding, and
//! no synchronised queue for sessions of the same thread), or over a
//! WebSocket.

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::protocol::{Dict, Id, WampMessage};
use crate::router::actor::RealmInput;
use crate::router::direct::LocalInput;
use crate::router::flow::{weight, Credit, Gate};

/// What the session driver hears from its link.
#[derive(Debug)]
pub enum LinkEvent {
    /// A session is open (the first, or a new one after a reconnect).
    Joined {
        /// The session id.
        session: Id,
        /// The realm.
        realm: String,
        /// WELCOME.Details.
        details: Dict,
        /// Where to send this session's messages.
        sender: LinkSender,
    },
    /// A message from the router.
    Message(WampMessage),
    /// The session ended.
    Left {
        /// Why (a WAMP reason URI or a transport error).
        reason: String,
        /// Whether the link tries to open a new session.
        reconnecting: bool,
        /// The router's GOODBYE (or ABORT), if the router ended it.
        by_router: Option<Closed>,
    },
    /// Joining failed for good (ABORT, or retries exhausted).
    Failed(crate::Error),
}

/// How the router ended a session: the reason URI and message of its
/// GOODBYE or ABORT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The reason URI (`wamp.close.killed`, `wamp.close.system_shutdown`,
    /// ...).
    pub reason: String,
    /// The message, if the router gave one.
    pub message: String,
}

/// A link event from a WebSocket connection task. A message from the
/// router holds its credit in the connection's inbound gate until the
/// session takes it: the task reads no more while the session is behind.
pub type RemoteEvent = (LinkEvent, Option<Credit>);

/// A command for a remote link's connection task.
#[derive(Debug)]
pub enum Outgoing {
    /// Send this message on the session of that generation (dropped if the
    /// session has since been replaced). A counted message holds its
    /// credit in the session's gate until it is written or dropped.
    Message(u64, WampMessage, Option<Credit>),
    /// Say GOODBYE and stop for good.
    Leave,
}

/// Where a session's messages go.
#[derive(Debug, Clone)]
pub enum LinkSender {
    /// Into this thread's input to an in-process realm (see
    /// [`LocalInput`]), wherever the realm runs.
    Direct {
        /// This thread's input to the realm.
        input: std::rc::Rc<LocalInput>,
        /// This session's id.
        session: Id,
        /// The session's gate, which the realm also holds.
        gate: Arc<Gate>,
    },
    /// To the connection task of a WebSocket link.
    Remote {
        /// The task's command queue.
        commands: mpsc::UnboundedSender<Outgoing>,
        /// The session generation this sender belongs to.
        generation: u64,
        /// What waits in `commands` for the socket.
        gate: Arc<Gate>,
    },
}

impl LinkSender {
    /// Whether the router is in this process (its realm then takes
    /// arguments held as Rust values, [`Payload::Native`](crate::protocol::Payload::Native)).
    pub fn in_process(&self) -> bool {
        !matches!(self, LinkSender::Remote { .. })
    }

    /// Sends a message; `false` if the link is gone.
    #[inline]
    pub fn send(&self, message: WampMessage) -> bool {
        match self {
            LinkSender::Direct { input, session, .. } => {
                input.send(RealmInput::Inbound { session: *session, message, size: 0 })
            }
            other => other.send_queued(message),
        }
    }

    /// [`LinkSender::send`] through a synchronised queue: apart, so that
    /// the same-thread case inlines without it.
    #[inline(never)]
    fn send_queued(&self, message: WampMessage) -> bool {
        match self {
            // Not queued: `send` takes this case itself.
            LinkSender::Direct { .. } => self.send(message),
            LinkSender::Remote { commands, generation, .. } => {
                commands.send(Outgoing::Message(*generation, message, None)).is_ok()
            }
        }
    }

    /// Sends a message to be routed at once if it can be: for an
    /// in-process session, queues it and answers its thread's input,
    /// whose [`LocalInput::flush`] the sender calls once it holds nothing
    /// of the session borrowed (the routing may deliver to it). Sends as
    /// [`LinkSender::send`] does otherwise. `None` if the link is gone.
    pub fn send_to_flush(&self, message: WampMessage) -> Option<Option<std::rc::Rc<LocalInput>>> {
        match self {
            LinkSender::Direct { input, session, .. } => {
                input.push(RealmInput::Inbound { session: *session, message, size: 0 });
                Some(Some(input.clone()))
            }
            other => other.send(message).then_some(None),
        }
    }

    /// Sends a message that counts in the session's gate until the realm
    /// has routed it (in-process) or it is written to the socket
    /// (remote); `false` if the link is gone. What a session produces on
    /// its own (publications) goes this way, so that it waits for the
    /// gate ([`LinkSender::gate`]) instead of queueing without bound.
    pub fn send_counted(&self, message: WampMessage) -> bool {
        let size = weight(&message);
        match self {
            LinkSender::Direct { input, session, gate } => {
                gate.admit(size);
                let sent = input.send(RealmInput::Inbound { session: *session, message, size });
                if !sent {
                    gate.routed(size);
                }
                sent
            }
            LinkSender::Remote { commands, generation, gate } => {
                let credit = Credit::new(gate, size);
                commands.send(Outgoing::Message(*generation, message, Some(credit))).is_ok()
            }
        }
    }

    /// The session's gate: closed while what it sent is not yet taken
    /// (over [`INBOUND_WINDOW`](crate::router::flow::INBOUND_WINDOW)
    /// bytes) or a destination of the realm holds it.
    pub fn gate(&self) -> &Arc<Gate> {
        match self {
            LinkSender::Direct { gate, .. } | LinkSender::Remote { gate, .. } => gate,
        }
    }

    /// Leaves the realm for good.
    pub fn leave(&self) {
        match self {
            LinkSender::Direct { input, session, .. } => {
                input.send(RealmInput::Leave { session: *session });
            }
            LinkSender::Remote { commands, .. } => {
                let _ = commands.send(Outgoing::Leave);
            }
        }
    }
}
