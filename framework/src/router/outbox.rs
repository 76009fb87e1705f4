//! What the routing core asks its driver to do.
//!
//! The core never sends anything itself: each input appends [`Effect`]s to
//! an [`Outbox`], in order, and the actor that owns the core carries them
//! out. Targets are session ids today; when realms span several router
//! nodes they become `(node, session)` pairs without the core changing
//! shape.

use std::borrow::Cow;

use super::slot_queue::SlotQueue;
use crate::protocol::{Id, WampMessage};

/// One thing the driver must do, in the order the core produced it.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Deliver `message` to the session `to`.
    Send {
        /// The receiving session.
        to: Id,
        /// The message.
        message: WampMessage,
    },
    /// End the session `to`: it broke the protocol or was removed. The
    /// driver sends GOODBYE (or ABORT) with `reason` and closes the
    /// connection; the core has already forgotten the session.
    Close {
        /// The session to close.
        to: Id,
        /// The WAMP reason URI.
        reason: Cow<'static, str>,
        /// A human-readable explanation, sent in the details.
        message: String,
    },
}

/// An ordered queue of effects, reused between inputs so the hot path
/// does not allocate. A queue rather than a list: the driver takes effects
/// one at a time ([`Outbox::pop`]), which costs less than a draining
/// iterator for the one effect an input usually has.
#[derive(Debug, Default)]
pub struct Outbox {
    effects: SlotQueue<Effect>,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a message for a session.
    #[inline]
    pub fn send(&mut self, to: Id, message: WampMessage) {
        self.effects.push_back(Effect::Send { to, message });
    }

    /// Queues the closing of a session.
    pub fn close(&mut self, to: Id, reason: impl Into<Cow<'static, str>>, message: impl Into<String>) {
        self.effects.push_back(Effect::Close { to, reason: reason.into(), message: message.into() });
    }

    /// Takes the next effect, in order.
    #[inline]
    pub fn pop(&mut self) -> Option<Effect> {
        self.effects.pop_front()
    }

    /// Takes every queued effect, in order, leaving the outbox empty (its
    /// capacity is kept).
    pub fn drain(&mut self) -> impl Iterator<Item = Effect> + '_ {
        self.effects.drain()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.effects.is_empty()
    }
}
