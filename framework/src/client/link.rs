//! How a client session reaches its router: in-process, straight to the
//! realm actor (no encoding; on the realm's own thread without even a
//! synchronised queue), or over a WebSocket.

use tokio::sync::mpsc;

use crate::protocol::{Dict, Id, Message};
use crate::router::actor::{RealmHandle, RealmInput};
use crate::router::direct::LocalInput;

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
    Message(Message),
    /// The session ended.
    Left {
        /// Why (a WAMP reason URI or a transport error).
        reason: String,
        /// Whether the link tries to open a new session.
        reconnecting: bool,
    },
    /// Joining failed for good (ABORT, or retries exhausted).
    Failed(crate::Error),
}

/// A command for a remote link's connection task.
#[derive(Debug)]
pub enum Outgoing {
    /// Send this message on the session of that generation (dropped if the
    /// session has since been replaced).
    Message(u64, Message),
    /// Say GOODBYE and stop for good.
    Leave,
}

/// Where a session's messages go.
#[derive(Debug, Clone)]
pub enum LinkSender {
    /// Into the input queue of an in-process realm on this thread.
    Direct {
        /// The realm's same-thread input.
        input: std::rc::Rc<LocalInput>,
        /// This session's id.
        session: Id,
    },
    /// Straight into the realm actor of an in-process router.
    Local {
        /// The realm.
        realm: RealmHandle,
        /// This session's id.
        session: Id,
    },
    /// To the connection task of a WebSocket link.
    Remote {
        /// The task's command queue.
        commands: mpsc::UnboundedSender<Outgoing>,
        /// The session generation this sender belongs to.
        generation: u64,
    },
}

impl LinkSender {
    /// Sends a message; `false` if the link is gone.
    pub fn send(&self, message: Message) -> bool {
        match self {
            LinkSender::Direct { input, session } => {
                input.send(RealmInput::Inbound { session: *session, message, size: 0 });
                true
            }
            LinkSender::Local { realm, session } => realm.send(*session, message, 0),
            LinkSender::Remote { commands, generation } => {
                commands.send(Outgoing::Message(*generation, message)).is_ok()
            }
        }
    }

    /// Leaves the realm for good.
    pub fn leave(&self) {
        match self {
            LinkSender::Direct { input, session } => input.send(RealmInput::Leave { session: *session }),
            LinkSender::Local { realm, session } => realm.leave(*session),
            LinkSender::Remote { commands, .. } => {
                let _ = commands.send(Outgoing::Leave);
            }
        }
    }
}
