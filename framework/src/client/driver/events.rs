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

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<LinkEvent>> {
        // Too many handlers running: leave deliveries queued (closings and
        // stall endings still come through).
        let room = if self.shared.handlers.poll_room(cx.waker()) { Room::Any } else { Room::Answers };
        self.receiver.poll_next(cx, room).map(|next| {
            Some(match next {
                Next::Deliver(ToPeer::Message(message)) => LinkEvent::Message(message),
                Next::Deliver(ToPeer::Close { reason, message }) => LinkEvent::Left {
                    reason: format!("{reason}: {message}"),
                    reconnecting: false,
                    by_router: Some(Closed { reason: reason.into_owned(), message }),
                },
                Next::Stalled(message) => {
                    LinkEvent::Left { reason: message, reconnecting: false, by_router: None }
                }
            })
        })
    }
}

/// Link events from a WebSocket connection task. While the session runs
/// as many handlers as it may, messages that would start more wait here
/// with their credits (so the task stops reading the socket once they
/// fill its window, and the router slows their producers); answers to the
/// session's own requests and the link's own events still go, as they do
/// for an in-process session.
pub(super) struct RemoteEvents {
    pub(super) receiver: mpsc::UnboundedReceiver<RemoteEvent>,
    pub(super) shared: Rc<SessionState>,
    pub(super) waiting: VecDeque<RemoteEvent>,
}

impl Stream for RemoteEvents {
    type Item = LinkEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<LinkEvent>> {
        let room = self.shared.handlers.poll_room(cx.waker());
        if room {
            // Taking an event returns its credit: the task may read on.
            if let Some((event, _credit)) = self.waiting.pop_front() {
                return Poll::Ready(Some(event));
            }
        }
        loop {
            let Some((event, credit)) = std::task::ready!(self.receiver.poll_recv(cx)) else {
                return Poll::Ready(None);
            };
            match &event {
                LinkEvent::Message(message) if !room && !flow::answers(message) => {
                    self.waiting.push_back((event, credit));
                }
                LinkEvent::Message(_) => return Poll::Ready(Some(event)),
                LinkEvent::Joined { .. } | LinkEvent::Left { .. } | LinkEvent::Failed(_) => {
                    // What waits belongs to the session that ended.
                    self.waiting.clear();
                    return Poll::Ready(Some(event));
                }
            }
        }
    }
}
