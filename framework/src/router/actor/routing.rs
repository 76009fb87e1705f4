//! A realm's routing state and the routing of one input, apart from the
//! actor that drives it.
//!
//! The actor routes what its input queues bring; a session on the realm's
//! thread may also have its input routed at once, in its own task, when
//! nothing else holds the state (see [`super::super::direct`]). Either way
//! the same code runs here. What needs the actor's context (timers, the
//! idle check) is left as [`Chores`] for the actor's next turn.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::{Peer, RealmInput, ToPeer};
use crate::protocol::{Id, WampMessage};
use crate::router::clock::Clock;
use crate::router::flow::{weight, FlowSettings, Gate, Queued, Stall, StallPolicy};
use crate::router::outbox::{Effect, Outbox};
use crate::router::realm::RealmCore;
use crate::router::IdMap;

/// How many inputs in a row, routed without a pause, may use one clock
/// reading.
const CLOCK_READING_USES: u32 = 64;

/// What routing left for the actor, which has the timers.
#[derive(Debug, Default)]
pub(super) struct Chores {
    /// Sessions whose outbound queue filled: look again after this long.
    pub(super) stall_checks: Vec<(Id, Duration)>,
    /// A CALL may have brought the earliest deadline forward: the time it
    /// was routed at.
    pub(super) deadline: Option<Duration>,
    /// A session went: the realm may now be idle.
    pub(super) idle_check: bool,
}

impl Chores {
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.stall_checks.is_empty() && self.deadline.is_none() && !self.idle_check
    }
}

// The routing state holds nothing tied to a thread (a session that takes
// its deliveries by call is reached through a `DirectLink`, plain data),
// so a realm could be routed from any thread under a lock. Checked here.
const _: fn() = || {
    fn is_send<T: Send>() {}
    is_send::<Routing>();
};

/// One realm's routing state.
pub(crate) struct Routing {
    pub(super) core: RealmCore,
    pub(super) peers: IdMap<Peer>,
    outbox: Outbox,
    pub(super) flow: FlowSettings,
    /// The clock the core's time is read from.
    source: Clock,
    /// The core's clock, as last read.
    clock: Duration,
    /// How many times the realm had waited for input when the clock was
    /// last read, and how many inputs have used that reading since.
    clock_read_after: (u64, u32),
    /// How many times the realm has waited for input (see
    /// [`super::InputStream`]).
    waits: Arc<AtomicU64>,
    /// When the actor's deadline timer fires, if one is armed.
    pub(super) timer_at: Option<Duration>,
    pub(super) chores: Chores,
}

impl Routing {
    pub(super) fn new(mut core: RealmCore, flow: FlowSettings, waits: Arc<AtomicU64>) -> Self {
        // The core's clock starts now (`source`).
        core.set_wall_origin(std::time::SystemTime::now());
        let source = Clock::start();
        core.set_clock_resolution(source.resolution());
        Routing {
            core,
            peers: IdMap::default(),
            outbox: Outbox::new(),
            flow,
            source,
            clock: Duration::ZERO,
            clock_read_after: (u64::MAX, 0),
            waits,
            timer_at: None,
            chores: Chores::default(),
        }
    }

    /// The realm's name.
    pub(super) fn name(&self) -> &str {
        self.core.name()
    }

    /// Whether routing left the actor something to do.
    #[inline]
    pub(crate) fn has_chores(&self) -> bool {
        !self.chores.is_empty()
    }

    /// Where the core puts its effects, for the actor's own requests.
    pub(super) fn outbox(&mut self) -> (&mut RealmCore, &mut Outbox) {
        (&mut self.core, &mut self.outbox)
    }

    /// Tells the core the time, as read now.
    pub(super) fn tick_clock(&mut self) -> Duration {
        self.clock = self.source.now();
        self.clock_read_after = (self.waits.load(Ordering::Relaxed), 0);
        self.core.set_clock(self.clock);
        self.clock
    }

    /// The next input that needs the clock reads it again, whatever the
    /// realm did meanwhile: for inputs routed outside the realm's own
    /// turns, which do not count as the realm waiting.
    pub(crate) fn forget_clock(&mut self) {
        self.clock_read_after = (u64::MAX, 0);
    }

    /// Tells the core the time for an input that needs it: read again
    /// once the realm has waited for input since the last reading, or
    /// after [`CLOCK_READING_USES`] inputs. Reading even the coarse clock
    /// (see [`Clock`]) costs something, and timeouts are counted in
    /// milliseconds: a busy realm reuses a reading for a run of inputs it
    /// routes without a pause, so a call's timeout may start that run's
    /// routing time early.
    fn tick_clock_for_input(&mut self) -> Duration {
        let (waits, uses) = self.clock_read_after;
        if waits != self.waits.load(Ordering::Relaxed) || uses >= CLOCK_READING_USES {
            return self.tick_clock();
        }
        self.clock_read_after.1 += 1;
        self.clock
    }

    /// Routes one input and carries out what it caused. Inlined into
    /// both callers (the actor's turn and a session's routing at once):
    /// out of line it costs the WebSocket path about 2% of a call.
    #[inline(always)]
    pub(crate) fn route(&mut self, input: RealmInput) {
        match input {
            RealmInput::Inbound { session, message, size } => {
                // Only a call reads the time (for its deadline), and only
                // a call can bring the next deadline forward: other inputs
                // spare the clock and the timer.
                let now = self.core.reads_clock(&message).then(|| self.tick_clock_for_input());
                let now = now.filter(|_| matches!(message, WampMessage::Call { .. }));
                self.core.handle(session, message, &mut self.outbox);
                self.deliver(Some(session));
                if size > 0 {
                    if let Some(gate) = self.peers.get(&session).and_then(|p| p.gate.as_ref()) {
                        gate.routed(size);
                    }
                }
                if let Some(now) = now {
                    self.note_deadline(now);
                }
            }
            RealmInput::Leave { session } => {
                if let Some(peer) = self.peers.remove(&session) {
                    peer.outbound.release_producers();
                }
                self.core.leave(session, &mut self.outbox);
                self.deliver(None);
            }
        }
        // A session left, or was closed for what it sent.
        self.chores.idle_check |= self.peers.is_empty();
    }

    /// After a CALL routed at `now`: the timer is for the actor to arm if
    /// the earliest deadline comes before the armed one.
    fn note_deadline(&mut self, now: Duration) {
        let Some(deadline) = self.core.next_deadline() else { return };
        if self.timer_at.is_some_and(|at| at <= deadline) {
            return;
        }
        self.chores.deadline = Some(now);
    }

    /// Ends what timed out (the actor's deadline timer fired).
    pub(super) fn expire(&mut self) -> Duration {
        self.timer_at = None;
        let now = self.tick_clock();
        self.core.expire(&mut self.outbox);
        self.deliver(None);
        now
    }

    /// Carries out the outbox's effects. `producer` is the session whose
    /// input caused them: a destination that fills up holds it.
    pub(super) fn deliver(&mut self, producer: Option<Id>) {
        // The producer's gate, looked up when a message is first queued
        // (a delivery by direct call never needs it).
        let mut holder: Option<Option<(Id, Arc<Gate>)>> = None;
        let mut overflowed = Vec::new();
        while let Some(effect) = self.outbox.pop() {
            match effect {
                Effect::Send { to, message } => {
                    let Some(peer) = self.peers.get(&to) else { continue };
                    // Straight in, unless earlier deliveries wait in the
                    // queue or the session is too busy.
                    let message = match peer.direct.as_ref().filter(|_| peer.outbound.is_idle()) {
                        Some(link) => match link.peer() {
                            Some(direct) => match direct.deliver(message) {
                                Ok(()) => continue,
                                Err(message) => message,
                            },
                            None => message,
                        },
                        None => message,
                    };
                    let weight = weight(&message);
                    let producer = holder.get_or_insert_with(|| {
                        producer.and_then(|id| Some((id, self.peers.get(&id)?.gate.clone()?)))
                    });
                    let producer = producer.as_ref().map(|(id, gate)| (*id, gate));
                    match peer.outbound.push(ToPeer::Message(message), weight, producer) {
                        Queued::Full { arm_timer: true } => {
                            self.chores.stall_checks.push((to, self.flow.stall_timeout))
                        }
                        Queued::Dropped => {
                            tracing::trace!(realm = %self.core.name(), session = to, "event dropped: stalled")
                        }
                        Queued::Overflow => overflowed.push(to),
                        Queued::Accepted | Queued::Full { .. } | Queued::Gone => {}
                    }
                }
                Effect::Close { to, reason, message } => {
                    if let Some(peer) = self.peers.remove(&to) {
                        peer.outbound.release_producers();
                        peer.outbound.push(ToPeer::Close { reason, message }, 0, None);
                    }
                }
            }
        }
        for session in overflowed {
            let explanation = format!(
                "the session stopped reading: its outbound queue passed twice {} bytes with messages \
                 other than events, which the drop policy does not drop",
                self.flow.max_queued_bytes
            );
            self.end_stalled(session, explanation);
        }
    }

    /// Ends a session whose queue stalled: what is queued is discarded, its
    /// connection is told at once, and it leaves the realm (its pending
    /// calls fail with `wamp.error.canceled`).
    fn end_stalled(&mut self, session: Id, explanation: String) {
        let Some(peer) = self.peers.remove(&session) else { return };
        tracing::warn!(
            realm = %self.core.name(),
            session,
            queued = peer.outbound.queued_bytes(),
            %explanation,
            "closing a session that stopped reading"
        );
        peer.outbound.end_stalled(explanation);
        self.core.leave(session, &mut self.outbox);
        self.deliver(None);
        self.chores.idle_check |= self.peers.is_empty();
    }

    /// A session's queue went over its limit a while ago: if it is still
    /// full after the stall timeout, apply the realm's policy.
    pub(super) fn check_stall(&mut self, session: Id) {
        let Some(peer) = self.peers.get(&session) else { return };
        let timeout = self.flow.stall_timeout;
        match peer.outbound.check_stall(timeout) {
            Stall::Cleared => {}
            Stall::Pending(left) => self.chores.stall_checks.push((session, left)),
            Stall::Stalled => match self.flow.stall_policy {
                StallPolicy::Close => {
                    let explanation = format!(
                        "the session stopped reading: its outbound queue stayed over {} bytes for {}s",
                        self.flow.max_queued_bytes,
                        timeout.as_secs_f64()
                    );
                    self.end_stalled(session, explanation);
                }
                StallPolicy::Drop => {
                    tracing::warn!(
                        realm = %self.core.name(),
                        session,
                        "dropping events for a session whose queue stayed full for {timeout:?}"
                    );
                    peer.outbound.start_dropping();
                }
            },
        }
    }
}
