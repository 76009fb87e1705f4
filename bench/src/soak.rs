//! The soak: many sessions joining and leaving while calls and events
//! flow, for as long as asked; checks that nothing acknowledged or answered
//! was lost and that the router's memory goes back once everyone has left.
//!
//! ```text
//! cargo run --release -p wamp-bench -- soak --sessions 10000 --seconds 60
//! ```

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use wamp::protocol::{Dict, Payload, Serializer, Value, WampMessage};

use crate::load::Session;

type BoxError = Box<dyn std::error::Error>;

/// What the soak does.
#[derive(Debug, Clone, Copy)]
pub struct SoakConfig {
    /// Sessions kept joined (the crowd), besides the checkers.
    pub sessions: usize,
    /// How long calls and events flow.
    pub duration: Duration,
    /// Crowd sessions replaced per second.
    pub churn_per_sec: usize,
}

/// What the soak measured.
#[derive(Debug, Default)]
pub struct SoakReport {
    /// Sessions that joined during the soak (the crowd and its replacements).
    pub joins: u64,
    /// Calls answered per second.
    pub calls_per_sec: f64,
    /// Events received per second, by checkers and the crowd.
    pub events_per_sec: f64,
    /// Acknowledged publications a checker did not receive.
    pub lost_publications: u64,
    /// Calls sent and never answered.
    pub lost_calls: u64,
    /// Calls answered with an error.
    pub failed_calls: u64,
    /// Router memory before anyone joined, with the crowd joined, and after
    /// everyone left, in bytes.
    pub rss: (u64, u64, u64),
}

const SERIALIZER: Serializer = Serializer::MsgPack;
const CHECKERS: usize = 4;
const CALLERS: usize = 2;
const WINDOW: usize = 16;
const CROWD_TOPICS: usize = 100;

/// Runs the soak against the router at `url`; `rss` reads its memory.
pub async fn run(
    url: &str,
    config: SoakConfig,
    rss: impl Fn() -> Result<u64, BoxError>,
) -> Result<SoakReport, BoxError> {
    let mut report = SoakReport::default();
    let before = rss()?;
    let stop = Rc::new(Cell::new(false));
    let events = Rc::new(Cell::new(0u64));

    // The checkers: subscribers that never leave and must see every
    // acknowledged publication, in order.
    // Once the publisher is done: how many publications were acknowledged.
    let target: Rc<Cell<Option<u64>>> = Rc::default();
    let mut checkers = Vec::new();
    for _ in 0..CHECKERS {
        let mut session = subscribed(url, "soak.checked").await?;
        let (target, events) = (target.clone(), events.clone());
        checkers.push(tokio::task::spawn_local(async move {
            let (mut next, mut gaps) = (0u64, 0u64);
            loop {
                if target.get().is_some_and(|t| next >= t) {
                    break;
                }
                let wait =
                    if target.get().is_some() { Duration::from_secs(10) } else { Duration::from_millis(200) };
                match tokio::time::timeout(wait, session.recv()).await {
                    Ok(Ok(WampMessage::Event { payload, .. })) => {
                        let seq = payload.args_list().first().and_then(Value::as_u64).unwrap_or(u64::MAX);
                        gaps += seq.saturating_sub(next);
                        next = seq + 1;
                        events.set(events.get() + 1);
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(_)) => break,
                    // Silent for long after the end: what is missing is lost.
                    Err(_) if target.get().is_some() => break,
                    Err(_) => {}
                }
            }
            (next, gaps)
        }));
    }

    // The crowd: sessions subscribed to one of many topics, replaced as
    // the soak goes on.
    let crowd: Rc<RefCell<HashMap<u64, tokio::task::JoinHandle<()>>>> = Rc::default();
    let joins = Rc::new(Cell::new(0u64));
    let next_member = Rc::new(Cell::new(0u64));
    let join_members = |count: usize| {
        let (crowd, joins, next_member, events) =
            (crowd.clone(), joins.clone(), next_member.clone(), events.clone());
        let url = url.to_owned();
        async move {
            let members: Vec<u64> = (0..count)
                .map(|_| {
                    let id = next_member.get();
                    next_member.set(id + 1);
                    id
                })
                .collect();
            let mut joining = futures_util::stream::iter(members.into_iter().map(|id| {
                let url = url.clone();
                async move {
                    let topic = format!("soak.crowd.{}", id % CROWD_TOPICS as u64);
                    subscribed(&url, &topic).await.map(|s| (id, s))
                }
            }))
            .buffer_unordered(64);
            while let Some(joined) = joining.next().await {
                let (id, mut session) = joined?;
                joins.set(joins.get() + 1);
                let events = events.clone();
                let task = tokio::task::spawn_local(async move {
                    while let Ok(message) = session.recv().await {
                        if matches!(message, WampMessage::Event { .. }) {
                            events.set(events.get() + 1);
                        }
                    }
                });
                crowd.borrow_mut().insert(id, task);
            }
            Ok::<(), BoxError>(())
        }
    };
    join_members(config.sessions).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let joined = rss()?;

    // The callee answers every call with its argument.
    let mut callee = Session::join(url, SERIALIZER).await?;
    callee
        .send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: "soak.echo".into() })
        .await?;
    if !matches!(callee.recv().await?, WampMessage::Registered { .. }) {
        return Err("the soak callee could not register".into());
    }
    let callee_task = tokio::task::spawn_local(async move {
        while let Ok(message) = callee.recv().await {
            if let WampMessage::Invocation { request, payload, .. } = message {
                let _ = callee.send(&WampMessage::Yield { request, options: Dict::new(), payload }).await;
            }
        }
    });

    let started = Instant::now();
    let answered = Rc::new(Cell::new(0u64));
    let mut callers = Vec::new();
    for _ in 0..CALLERS {
        let mut session = Session::join(url, SERIALIZER).await?;
        let (stop, answered) = (stop.clone(), answered.clone());
        callers.push(tokio::task::spawn_local(async move {
            let (mut sent, mut failed, mut next) = (0u64, 0u64, 1u64);
            let call = |request: u64| WampMessage::Call {
                request,
                options: Dict::new(),
                procedure: "soak.echo".into(),
                payload: Payload::args(vec![Value::from(request)]),
            };
            for _ in 0..WINDOW {
                session.send(&call(next)).await?;
                next += 1;
                sent += 1;
            }
            let mut outstanding = WINDOW as u64;
            while outstanding > 0 {
                let message = match tokio::time::timeout(Duration::from_secs(30), session.recv()).await {
                    Ok(message) => message?,
                    Err(_) => break,
                };
                match message {
                    WampMessage::Result { request, payload, .. } => {
                        if payload.args_list().first().and_then(Value::as_u64) != Some(request) {
                            failed += 1;
                        }
                        answered.set(answered.get() + 1);
                    }
                    WampMessage::Error { .. } => failed += 1,
                    _ => continue,
                }
                outstanding -= 1;
                if !stop.get() {
                    session.send(&call(next)).await?;
                    next += 1;
                    sent += 1;
                    outstanding += 1;
                }
            }
            Ok::<_, BoxError>((sent, outstanding, failed))
        }));
    }

    // The publisher: acknowledged events to the checkers, and now and then
    // one to a crowd topic.
    let mut publisher = Session::join(url, SERIALIZER).await?;
    let publisher_stop = stop.clone();
    let publisher_task = tokio::task::spawn_local(async move {
        let ack = Dict::from([("acknowledge".to_owned(), Value::Bool(true))]);
        let (mut next, mut acknowledged, mut in_flight) = (0u64, 0u64, 0usize);
        let mut crowd_topic = 0usize;
        loop {
            while in_flight < WINDOW && !publisher_stop.get() {
                let publish = WampMessage::Publish {
                    request: next + 1,
                    options: ack.clone(),
                    topic: "soak.checked".into(),
                    payload: Payload::args(vec![Value::from(next)]),
                };
                publisher.send(&publish).await?;
                next += 1;
                in_flight += 1;
                if next % 16 == 0 {
                    crowd_topic = (crowd_topic + 1) % CROWD_TOPICS;
                    let crowd = WampMessage::Publish {
                        request: u64::MAX >> 12,
                        options: Dict::new(),
                        topic: format!("soak.crowd.{crowd_topic}").into(),
                        payload: Payload::args(vec![Value::from(next)]),
                    };
                    publisher.send(&crowd).await?;
                }
            }
            if in_flight == 0 {
                break;
            }
            match tokio::time::timeout(Duration::from_secs(30), publisher.recv()).await {
                Ok(Ok(WampMessage::Published { .. })) => {
                    acknowledged += 1;
                    in_flight -= 1;
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => return Err(e),
                Err(_) => break,
            }
        }
        Ok::<_, BoxError>(acknowledged)
    });

    // Churn until the time is up.
    let tick = Duration::from_millis(100);
    let per_tick = (config.churn_per_sec / 10).max(usize::from(config.churn_per_sec > 0));
    while started.elapsed() < config.duration {
        tokio::time::sleep(tick).await;
        if per_tick == 0 {
            continue;
        }
        let leaving: Vec<u64> = crowd.borrow().keys().take(per_tick).copied().collect();
        for id in leaving {
            if let Some(task) = crowd.borrow_mut().remove(&id) {
                task.abort();
            }
        }
        join_members(per_tick).await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let events_during = events.get();
    let answered_during = answered.get();
    stop.set(true);

    let acknowledged = publisher_task.await??;
    target.set(Some(acknowledged));
    for caller in callers {
        let (_sent, outstanding, failed) = caller.await??;
        report.lost_calls += outstanding;
        report.failed_calls += failed;
    }
    for checker in checkers {
        let (received, gaps) = checker.await?;
        report.lost_publications += gaps + acknowledged.saturating_sub(received);
    }
    callee_task.abort();
    for (_, task) in crowd.borrow_mut().drain() {
        task.abort();
    }
    // The allocator hands freed memory back after a delay (jemalloc's
    // dirty page decay is 10 s).
    tokio::time::sleep(Duration::from_secs(15)).await;
    report.joins = joins.get();
    report.calls_per_sec = answered_during as f64 / elapsed;
    report.events_per_sec = events_during as f64 / elapsed;
    report.rss = (before, joined, rss()?);
    Ok(report)
}

async fn subscribed(url: &str, topic: &str) -> Result<Session, BoxError> {
    let mut session = Session::join(url, SERIALIZER).await?;
    session.send(&WampMessage::Subscribe { request: 1, options: Dict::new(), topic: topic.into() }).await?;
    match session.recv().await? {
        WampMessage::Subscribed { .. } => Ok(session),
        other => Err(format!("expected SUBSCRIBED, got {other:?}").into()),
    }
}
