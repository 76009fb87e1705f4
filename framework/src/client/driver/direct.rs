//! An in-process session's end of direct delivery from its realm.

use super::*;
use crate::protocol::WampMessage;

/// An in-process session's end of direct delivery: the realm, on this
/// session's thread, hands it each message to handle at once. A closing
/// goes through the session actor's queue, which ends the session.
pub(super) struct DirectSession {
    pub(super) handle: Session,
    pub(super) effects: std::cell::RefCell<Vec<ClientEffect<Reply, Handler>>>,
}

impl DirectPeer for DirectSession {
    fn deliver(&self, message: WampMessage) -> Result<(), WampMessage> {
        if !self.handle.shared.handlers.has_room() {
            return Err(message);
        }
        // Deliveries never nest (the session answers through the realm's
        // queue), but a spare buffer keeps that harmless.
        let mut kept = self.effects.try_borrow_mut();
        let mut spare = Vec::new();
        let effects = match kept.as_deref_mut() {
            Ok(kept) => kept,
            Err(_) => &mut spare,
        };
        self.handle.shared.core.borrow_mut().receive(message, effects);
        if apply(&self.handle, effects) {
            // The session left; the realm drops this peer, which closes
            // the actor's queue and stops it.
            tracing::debug!("in-process session left after a protocol violation");
        }
        Ok(())
    }
}
