//! Where a session's link events come from: its realm (in-process) or
//! its WebSocket connection task.

use super::*;

/// The realm's deliveries to an in-process session, as link events.
pub(super) struct LocalEvents {
    pub(super) receiver: OutboundReceiver,
    pub(super) shared: Rc<SessionState>,
}

impl Stream for LocalEvents {
    type Item = LinkEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<LinkEvent>> {
        // Too many handlers running: leave deliveries queued (closings and
        // stall endings still come through).
        let ready = self.shared.handlers.poll_room(cx.waker());
        self.receiver.poll_next(cx, ready).map(|next| {
            Some(match next {
                Next::Deliver(ToPeer::Message(message)) => LinkEvent::Message(message),
                Next::Deliver(ToPeer::Close { reason, message }) => {
                    LinkEvent::Left { reason: format!("{reason}: {message}"), reconnecting: false }
                }
                Next::Stalled(message) => LinkEvent::Left { reason: message, reconnecting: false },
            })
        })
    }
}

/// Link events from a WebSocket connection task.
pub(super) struct RemoteEvents {
    pub(super) receiver: mpsc::UnboundedReceiver<RemoteEvent>,
}

impl Stream for RemoteEvents {
    type Item = LinkEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<LinkEvent>> {
        // Taking the event returns its credit: the connection task may
        // read on.
        self.receiver.poll_recv(cx).map(|next| next.map(|(event, _credit)| event))
    }
}
