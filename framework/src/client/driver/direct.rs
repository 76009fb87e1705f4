//! An in-process session's end of direct delivery from its realm.

use super::*;
use crate::protocol::WampMessage;

/// An in-process session's end of direct delivery: the realm, on this
/// session's thread, hands it each message to handle at once. A closing
/// goes through the session actor's queue, which ends the session.
pub(super) struct DirectSession {
    pub(super) handle: Session,
}

impl DirectPeer for DirectSession {
    fn deliver(&self, message: WampMessage) -> Result<(), WampMessage> {
        if !self.handle.shared.handlers.has_room() {
            return Err(message);
        }
        // A message's only effect is carried out as it comes (see
        // `ClientCore::receive`); the few messages with none or several
        // fill a list, which allocates only then.
        let mut effects = Vec::new();
        // The core is free again before any handler runs.
        let effect = self.handle.shared.core.borrow_mut().receive(message, &mut effects);
        let left = match effect {
            Some(effect) => apply_one(&self.handle, effect),
            None => apply(&self.handle, &mut effects),
        };
        if left {
            // The session left; the realm drops this peer, which closes
            // the actor's queue and stops it.
            tracing::debug!("in-process session left after a protocol violation");
        }
        Ok(())
    }
}
