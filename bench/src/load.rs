//! Load generators. Everything runs on one thread (a current-thread tokio
//! runtime with a `LocalSet`), so the load tool uses one core and the
//! server the other.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::{FutureExt as _, SinkExt as _, StreamExt as _};
use hdrhistogram::Histogram;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wamp::protocol::{Dict, Payload, Serializer, Value, WampMessage};

use crate::wire;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type BoxError = Box<dyn std::error::Error>;

// Type codes of the messages the load reads by their head.
const PUBLISHED: u64 = 17;
const EVENT: u64 = 36;
const RESULT: u64 = 50;
const INVOCATION: u64 = 68;

/// The size of the payload of most phases: 64 bytes.
pub const SMALL: usize = 64;

/// Shared state of one measured phase.
#[derive(Clone)]
pub struct Meter {
    measuring: Rc<Cell<bool>>,
    stop: Rc<Cell<bool>>,
    count: Rc<Cell<u64>>,
    latency: Rc<RefCell<Histogram<u64>>>,
}

impl Meter {
    fn new() -> Result<Self, BoxError> {
        Ok(Meter {
            measuring: Rc::new(Cell::new(false)),
            stop: Rc::new(Cell::new(false)),
            count: Rc::new(Cell::new(0)),
            latency: Rc::new(RefCell::new(Histogram::new_with_bounds(1, 60_000_000, 3)?)),
        })
    }

    fn done(&self, started: Option<Instant>) {
        if self.measuring.get() {
            self.count.set(self.count.get() + 1);
            if let Some(started) = started {
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX).max(1);
                let _ = self.latency.borrow_mut().record(micros);
            }
        }
    }
}

/// What a phase measured.
pub struct Outcome {
    /// Completed operations per second.
    pub rate: f64,
    /// Latency percentiles in microseconds (p50, p99), if recorded.
    pub latency: Option<(u64, u64)>,
    /// The server's CPU time per operation in microseconds, if measured.
    /// Unlike the rate it does not depend on how fast the load tool is, or
    /// on what else the machine runs: it says what an operation costs the
    /// server.
    pub cpu_per_op: Option<f64>,
    /// The share of one core the server used while measured.
    pub busy: Option<f64>,
}

/// The CPU time a process has used so far, all its threads together
/// (`/proc/<pid>/task/*/schedstat`, nanoseconds); `None` where the
/// system does not say.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(total))
}

/// Runs the tasks `start` spawns: `warmup`, then counts for `duration`,
/// and takes the CPU time the `server` process used meanwhile.
pub async fn measure<F, Fut>(
    warmup: Duration,
    duration: Duration,
    server: Option<u32>,
    start: F,
) -> Result<Outcome, BoxError>
where
    F: FnOnce(Meter) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<tokio::task::JoinHandle<Result<(), String>>>, BoxError>>,
{
    let meter = Meter::new()?;
    let tasks = start(meter.clone()).await?;
    tokio::time::sleep(warmup).await;
    meter.measuring.set(true);
    let began = Instant::now();
    let cpu_before = server.and_then(cpu_time);
    tokio::time::sleep(duration).await;
    let count = meter.count.get();
    let cpu_after = server.and_then(cpu_time);
    let elapsed = began.elapsed().as_secs_f64();
    meter.measuring.set(false);
    let cpu = cpu_before.zip(cpu_after).map(|(before, after)| after.saturating_sub(before).as_secs_f64());
    meter.stop.set(true);
    for task in &tasks {
        if task.is_finished() {
            // A task that ended early failed: report it.
            continue;
        }
        task.abort();
    }
    for task in tasks {
        match task.await {
            Ok(Err(e)) => return Err(format!("a load task failed: {e}").into()),
            Err(e) if e.is_panic() => return Err("a load task panicked".into()),
            _ => {}
        }
    }
    let latency = meter.latency.borrow();
    let latency =
        (!latency.is_empty()).then(|| (latency.value_at_quantile(0.5), latency.value_at_quantile(0.99)));
    Ok(Outcome {
        rate: count as f64 / elapsed,
        latency,
        cpu_per_op: cpu.filter(|_| count > 0).map(|cpu| cpu * 1e6 / count as f64),
        busy: cpu.map(|cpu| cpu / elapsed),
    })
}

/// Opens a WebSocket, offering `protocol` if given.
pub async fn open(url: &str, protocol: Option<&str>) -> Result<Socket, BoxError> {
    let mut request = url.into_client_request()?;
    if let Some(protocol) = protocol {
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_str(protocol)?);
    }
    let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true).await?;
    Ok(socket)
}

/// A joined WAMP session over a raw socket.
pub struct Session {
    socket: Socket,
    serializer: Serializer,
}

impl Session {
    /// Connects and joins `realm1`.
    pub async fn join(url: &str, serializer: Serializer) -> Result<Session, BoxError> {
        let socket = open(url, Some(serializer.subprotocol())).await?;
        let mut session = Session { socket, serializer };
        let roles: Dict = ["caller", "callee", "publisher", "subscriber"]
            .into_iter()
            .map(|r| (r.to_owned(), Value::Dict(Dict::new())))
            .collect();
        let details = Dict::from([("roles".to_owned(), Value::Dict(roles))]);
        session.send(&WampMessage::Hello { realm: "realm1".into(), details }).await?;
        match session.recv().await? {
            WampMessage::Welcome { .. } => Ok(session),
            other => Err(format!("expected WELCOME, got {other:?}").into()),
        }
    }

    /// Queues a message (sent when `recv` waits).
    pub async fn send(&mut self, message: &WampMessage) -> Result<(), BoxError> {
        let data = self.serializer.encode(message)?;
        let frame = if self.serializer.is_binary() {
            Frame::binary(data)
        } else {
            Frame::text(String::from_utf8(data)?)
        };
        // Queued, not flushed: `recv` flushes when it has to wait, so
        // pipelined messages leave in one write.
        self.socket.feed(frame).await?;
        Ok(())
    }

    /// Queues a message built from a template (sent when a receive waits).
    async fn send_frame(&mut self, frame: wire::Frame) -> Result<(), BoxError> {
        let frame = match frame {
            wire::Frame::Text(text) => Frame::text(text),
            wire::Frame::Binary(data) => Frame::binary(data),
        };
        self.socket.feed(frame).await?;
        Ok(())
    }

    /// The next message as it arrived, with its type code and first id
    /// ([`wire::head`]).
    async fn recv_raw(&mut self) -> Result<(u64, u64, bytes::Bytes), BoxError> {
        loop {
            let data = match next_frame(&mut self.socket).await {
                Some(Ok(Frame::Text(text))) => bytes::Bytes::from(text),
                Some(Ok(Frame::Binary(data))) => data,
                Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => continue,
                Some(Ok(other)) => return Err(format!("unexpected frame {other:?}").into()),
                Some(Err(e)) => return Err(e.into()),
                None => return Err("connection closed".into()),
            };
            let (code, id) =
                wire::head(self.serializer, &data).ok_or("a message without a type and an id")?;
            return Ok((code, id, data));
        }
    }

    /// The next message.
    pub async fn recv(&mut self) -> Result<WampMessage, BoxError> {
        loop {
            match next_frame(&mut self.socket).await {
                Some(Ok(Frame::Text(text))) => return Ok(self.serializer.decode(text.as_bytes())?),
                Some(Ok(Frame::Binary(data))) => return Ok(self.serializer.decode(&data)?),
                Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => continue,
                Some(Ok(other)) => return Err(format!("unexpected frame {other:?}").into()),
                Some(Err(e)) => return Err(e.into()),
                None => return Err("connection closed".into()),
            }
        }
    }
}

/// The next frame; flushes queued writes first if none is ready yet.
async fn next_frame(socket: &mut Socket) -> Option<Result<Frame, tokio_tungstenite::tungstenite::Error>> {
    if let Some(frame) = socket.next().now_or_never() {
        return frame;
    }
    if let Err(e) = socket.flush().await {
        return Some(Err(e));
    }
    socket.next().await
}

/// Arguments of one string of `size` bytes.
fn payload(size: usize) -> Payload {
    Payload::args(vec![Value::from("x".repeat(size))])
}

fn spawn<F>(f: F) -> tokio::task::JoinHandle<Result<(), String>>
where
    F: std::future::Future<Output = Result<(), BoxError>> + 'static,
{
    tokio::task::spawn_local(async move { f.await.map_err(|e| e.to_string()) })
}

/// `connections` echo clients, each keeping `window` messages of `size`
/// bytes in flight.
pub async fn echo(
    url: String,
    connections: usize,
    window: usize,
    size: usize,
    meter: Meter,
) -> Result<Vec<tokio::task::JoinHandle<Result<(), String>>>, BoxError> {
    let mut tasks = Vec::new();
    let data = bytes::Bytes::from(vec![b'x'; size]);
    for _ in 0..connections {
        let mut socket = open(&url, None).await?;
        let meter = meter.clone();
        let data = data.clone();
        tasks.push(spawn(async move {
            let mut sent = std::collections::VecDeque::with_capacity(window);
            for _ in 0..window {
                sent.push_back(Instant::now());
                socket.feed(Frame::binary(data.clone())).await?;
            }
            while !meter.stop.get() {
                match next_frame(&mut socket).await {
                    Some(Ok(Frame::Binary(_))) => {
                        let started = sent.pop_front();
                        meter.done(if window == 1 { started } else { None });
                        sent.push_back(Instant::now());
                        socket.feed(Frame::binary(data.clone())).await?;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err("echo connection closed".into()),
                }
            }
            Ok(())
        }));
    }
    Ok(tasks)
}

/// Who answers the calls of [`rpc`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callee {
    /// A session of the load registers `bench.echo` and answers each
    /// INVOCATION with a YIELD of its arguments: a call is four messages.
    Load,
    /// The component the router embeds answers `bench.echo.embedded`
    /// (`servers::EMBEDDED_ECHO`): a call is two messages on the wire.
    Embedded,
}

impl Callee {
    /// The procedure called.
    pub fn procedure(self) -> &'static str {
        match self {
            Callee::Load => "bench.echo",
            Callee::Embedded => crate::servers::EMBEDDED_ECHO,
        }
    }
}

/// Whether the router at `url` has `procedure` registered: one call with
/// the payload of [`rpc`], answered by a RESULT (a router of an older
/// build, given with `--router-exe`, may not embed the echo component).
pub async fn answers(url: &str, serializer: Serializer, procedure: &'static str) -> Result<bool, BoxError> {
    let mut caller = Session::join(url, serializer).await?;
    let call = WampMessage::Call {
        request: 1,
        options: Dict::new(),
        procedure: procedure.into(),
        payload: payload(SMALL),
    };
    caller.send(&call).await?;
    match caller.recv().await? {
        WampMessage::Result { .. } => Ok(true),
        WampMessage::Error { .. } => Ok(false),
        other => Err(format!("expected RESULT or ERROR, got {other:?}").into()),
    }
}

/// `callers` caller sessions keeping `window` calls of `size` bytes in
/// flight each, answered by `callee`; counts RESULTs carrying the CALL's
/// arguments back.
pub async fn rpc(
    url: String,
    serializer: Serializer,
    callee: Callee,
    callers: usize,
    window: usize,
    size: usize,
    meter: Meter,
) -> Result<Vec<tokio::task::JoinHandle<Result<(), String>>>, BoxError> {
    let procedure = callee.procedure();
    let mut tasks = Vec::new();
    if callee == Callee::Load {
        tasks.push(echo_callee(&url, serializer, procedure, size).await?);
    }
    let call = wire::Template::new(serializer, |request| WampMessage::Call {
        request,
        options: Dict::new(),
        procedure: procedure.into(),
        payload: payload(size),
    })?;
    let call = Rc::new(call);
    for _ in 0..callers {
        let mut caller = Session::join(&url, serializer).await?;
        let meter = meter.clone();
        let call = call.clone();
        tasks.push(spawn(async move {
            let mut next_request = 1u64;
            let mut started = HashMap::with_capacity(window);
            for _ in 0..window {
                started.insert(next_request, Instant::now());
                caller.send_frame(call.frame(next_request)).await?;
                next_request += 1;
            }
            while !meter.stop.get() {
                let (code, request, data) = caller.recv_raw().await?;
                if code != RESULT {
                    return Err(format!("expected RESULT, got a message of type {code}").into());
                }
                let Some(began) = started.remove(&request) else {
                    return Err(format!("a RESULT for request {request}, which is not in flight").into());
                };
                if !call.carried_by(&data) {
                    return Err("a RESULT without the arguments of its CALL".into());
                }
                meter.done((window == 1).then_some(began));
                started.insert(next_request, Instant::now());
                caller.send_frame(call.frame(next_request)).await?;
                next_request += 1;
            }
            Ok(())
        }));
    }
    Ok(tasks)
}

/// A session that registers `procedure` and answers each INVOCATION with a
/// YIELD of the `size`-byte payload its CALL carried.
async fn echo_callee(
    url: &str,
    serializer: Serializer,
    procedure: &'static str,
    size: usize,
) -> Result<tokio::task::JoinHandle<Result<(), String>>, BoxError> {
    let mut callee = Session::join(url, serializer).await?;
    callee
        .send(&WampMessage::Register { request: 1, options: Dict::new(), procedure: procedure.into() })
        .await?;
    match callee.recv().await? {
        WampMessage::Registered { .. } => {}
        other => return Err(format!("expected REGISTERED, got {other:?}").into()),
    }
    let answer = wire::Template::new(serializer, |request| WampMessage::Yield {
        request,
        options: Dict::new(),
        payload: payload(size),
    })?;
    Ok(spawn(async move {
        loop {
            let (code, request, data) = callee.recv_raw().await?;
            if code == INVOCATION {
                if !answer.carried_by(&data) {
                    return Err("an INVOCATION without the arguments of its CALL".into());
                }
                callee.send_frame(answer.frame(request)).await?;
            }
        }
    }))
}

/// One publisher keeping `window` acknowledged publications of `size`
/// bytes in flight and `subscribers` subscribers; counts deliveries (events
/// received).
pub async fn pubsub(
    url: String,
    serializer: Serializer,
    subscribers: usize,
    window: usize,
    size: usize,
    meter: Meter,
) -> Result<Vec<tokio::task::JoinHandle<Result<(), String>>>, BoxError> {
    let mut tasks = Vec::new();
    let joined = futures_util::stream::iter((0..subscribers).map(|_| Session::join(&url, serializer)))
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    let options = Dict::from([("acknowledge".to_owned(), Value::Bool(true))]);
    let publish = Rc::new(wire::Template::new(serializer, |request| WampMessage::Publish {
        request,
        options: options.clone(),
        topic: "bench.topic".into(),
        payload: payload(size),
    })?);
    for subscriber in joined {
        let mut subscriber = subscriber?;
        subscriber
            .send(&WampMessage::Subscribe { request: 1, options: Dict::new(), topic: "bench.topic".into() })
            .await?;
        match subscriber.recv().await? {
            WampMessage::Subscribed { .. } => {}
            other => return Err(format!("expected SUBSCRIBED, got {other:?}").into()),
        }
        let meter = meter.clone();
        let publish = publish.clone();
        tasks.push(spawn(async move {
            loop {
                let (code, _, data) = subscriber.recv_raw().await?;
                if code == EVENT {
                    if !publish.carried_by(&data) {
                        return Err("an EVENT without the arguments of its PUBLISH".into());
                    }
                    meter.done(None);
                }
            }
        }));
    }
    let mut publisher = Session::join(&url, serializer).await?;
    let meter = meter.clone();
    tasks.push(spawn(async move {
        let mut next_request = 1u64;
        for _ in 0..window {
            publisher.send_frame(publish.frame(next_request)).await?;
            next_request += 1;
        }
        while !meter.stop.get() {
            let (code, _, _) = publisher.recv_raw().await?;
            if code == PUBLISHED {
                publisher.send_frame(publish.frame(next_request)).await?;
                next_request += 1;
            }
        }
        Ok(())
    }));
    Ok(tasks)
}

/// Opens `count` joined sessions and keeps them open; returns them.
pub async fn idle_sessions(
    url: &str,
    serializer: Serializer,
    count: usize,
) -> Result<Vec<Session>, BoxError> {
    let mut sessions = Vec::with_capacity(count);
    let mut pending =
        futures_util::stream::iter((0..count).map(|_| Session::join(url, serializer))).buffer_unordered(64);
    while let Some(session) = pending.next().await {
        sessions.push(session?);
    }
    Ok(sessions)
}
