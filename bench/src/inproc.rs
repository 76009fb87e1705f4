//! Component calls: a component calling another component's procedure,
//! either through the embedded router on one thread (against a bare actix
//! request/response between two actors, `Addr::send`, in the same run) or
//! with both components in remote mode, over WebSocket to a router in
//! another process (against a WebSocket echo, measured by the caller of
//! this module).

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::{Actor, Context as ActorContext, Handler, Message};
use wamp::component::HostConfig;
use wamp::protocol::Serializer;

type BoxError = Box<dyn std::error::Error>;

/// The bare baseline: an actor that adds.
struct Adder;

impl Actor for Adder {
    type Context = ActorContext<Self>;
}

struct Add(i64, i64);

impl Message for Add {
    type Result = i64;
}

impl Handler<Add> for Adder {
    type Result = i64;

    fn handle(&mut self, msg: Add, _ctx: &mut Self::Context) -> i64 {
        msg.0 + msg.1
    }
}

/// The component under test: the same addition as a procedure, run on
/// the component's thread (the realm's), and once more on the blocking
/// pool, as every sync handler would run if none could hold the realm up.
/// Called through `Session::call` (arguments as WAMP values) and through
/// its generated client (arguments and result kept Rust values).
#[derive(Default)]
struct BenchAdder;

#[wamp::component(inventory = false, client = "BenchAdderClient")]
impl BenchAdder {
    #[wamp::procedure("bench.add2")]
    fn add2(&self, x: i64, y: i64) -> i64 {
        x + y
    }

    #[wamp::procedure("bench.add2_pooled", blocking = true)]
    fn add2_pooled(&self, x: i64, y: i64) -> i64 {
        x + y
    }
}

/// A component that only calls.
#[derive(Default)]
struct BenchCaller;

#[wamp::component(inventory = false)]
impl BenchCaller {}

/// Calls per second of `call` kept `window` deep, after `warmup`.
async fn rate<F, Fut>(warmup: Duration, duration: Duration, window: usize, call: F) -> Result<f64, BoxError>
where
    F: Fn() -> Fut + Clone + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + 'static,
{
    let count = Rc::new(Cell::new(0u64));
    let measuring = Rc::new(Cell::new(false));
    let stop = Rc::new(Cell::new(false));
    let mut tasks = Vec::new();
    for _ in 0..window {
        let (count, measuring, stop, call) = (count.clone(), measuring.clone(), stop.clone(), call.clone());
        tasks.push(tokio::task::spawn_local(async move {
            while !stop.get() {
                call().await?;
                if measuring.get() {
                    count.set(count.get() + 1);
                }
            }
            Ok::<(), String>(())
        }));
    }
    tokio::time::sleep(warmup).await;
    measuring.set(true);
    let began = Instant::now();
    tokio::time::sleep(duration).await;
    let done = count.get();
    let elapsed = began.elapsed().as_secs_f64();
    stop.set(true);
    for task in tasks {
        task.await??;
    }
    Ok(done as f64 / elapsed)
}

/// What the in-process comparison measured for one number of calls in
/// flight: the median of the rounds for each rate.
pub struct Row {
    /// Calls in flight.
    pub window: usize,
    /// Bare `Addr::send` round trips/s, if measured.
    pub bare: Option<f64>,
    /// Component calls/s through `Session::call`, if measured.
    pub component: Option<f64>,
    /// Component calls/s through the generated client, if measured.
    pub typed: Option<f64>,
    /// Component calls/s to the procedure on the blocking pool, if
    /// measured.
    pub pooled: Option<f64>,
    /// Component calls/s to the same procedure of a component on a thread
    /// of its own (`own_thread`), if measured.
    pub own_thread: Option<f64>,
    /// Per round, `Session::call`'s rate over the `Addr::send` rate of the
    /// same round (when both were measured).
    pub component_ratios: Vec<f64>,
    /// Per round, the generated client's rate over the `Addr::send` rate.
    pub typed_ratios: Vec<f64>,
}

/// What the in-process comparison measured.
pub struct Figures {
    /// One row per number of calls in flight.
    pub rows: Vec<Row>,
}

/// The middle value (the upper one of the two middle values of an even
/// count); `None` if there is none.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

/// One round's rates, `None` where not measured.
#[derive(Default)]
struct Round {
    bare: Option<f64>,
    component: Option<f64>,
    typed: Option<f64>,
    pooled: Option<f64>,
    own_thread: Option<f64>,
}

/// Calls in flight, in both modes.
pub const WINDOWS: [usize; 2] = [1, 16];

/// Which in-process measurements to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Measure {
    /// All five, for the ratios.
    All,
    /// Only the component calls routed on the components' thread, through
    /// `Session::call`.
    Component,
    /// Only the same calls through the component's generated client.
    Typed,
    /// Only the `Addr::send` baseline.
    Baseline,
}

/// Runs the in-process comparison (or the part `measure` names) on a
/// fresh actix system on this thread, `rounds` times in turn for each
/// number of calls in flight, so that a drift of the machine reaches the
/// baseline and the component calls alike.
pub fn run(
    warmup: Duration,
    duration: Duration,
    measure: Measure,
    rounds: usize,
) -> Result<Figures, BoxError> {
    let (baseline, components, typed) = match measure {
        Measure::All => (true, true, true),
        Measure::Component => (false, true, false),
        Measure::Typed => (false, false, true),
        Measure::Baseline => (true, false, false),
    };
    actix::System::new().block_on(async move {
        let adder = Adder.start();
        let config = HostConfig { call_timeout_secs: 0, ..HostConfig::default() };
        let mut rows = Vec::new();
        for window in WINDOWS {
            let mut measured = Vec::new();
            for _ in 0..rounds.max(1) {
                let mut round = Round::default();
                if baseline {
                    let addr = Rc::new(adder.clone());
                    let bare = rate(warmup, duration, window, move || {
                        let addr = addr.clone();
                        async move {
                            let sum = addr.send(Add(2, 3)).await.map_err(|e| e.to_string())?;
                            (sum == 5).then_some(()).ok_or_else(|| "wrong sum".to_owned())
                        }
                    })
                    .await?;
                    round.bare = Some(bare);
                }
                if components {
                    let via = Via::Session("bench.add2");
                    round.component =
                        Some(component_rate(config.clone(), warmup, duration, window, via).await?);
                }
                if typed {
                    round.typed =
                        Some(component_rate(config.clone(), warmup, duration, window, Via::Client).await?);
                }
                if measure == Measure::All {
                    let via = Via::Session("bench.add2_pooled");
                    round.pooled = Some(component_rate(config.clone(), warmup, duration, window, via).await?);
                    let config = HostConfig { own_thread: vec!["BenchAdder".into()], ..config.clone() };
                    let via = Via::Session("bench.add2");
                    round.own_thread = Some(component_rate(config, warmup, duration, window, via).await?);
                }
                measured.push(round);
            }
            let each = |field: fn(&Round) -> Option<f64>| median(measured.iter().filter_map(field).collect());
            let ratios = |field: fn(&Round) -> Option<f64>| -> Vec<f64> {
                measured.iter().filter_map(|round| Some(field(round)? / round.bare?)).collect()
            };
            rows.push(Row {
                window,
                bare: each(|r| r.bare),
                component: each(|r| r.component),
                typed: each(|r| r.typed),
                pooled: each(|r| r.pooled),
                own_thread: each(|r| r.own_thread),
                component_ratios: ratios(|r| r.component),
                typed_ratios: ratios(|r| r.typed),
            });
        }
        Ok(Figures { rows })
    })
}

/// Component calls/s with both components in remote mode, joined to the
/// router at `url`, on a fresh actix system on this thread.
pub fn run_remote(
    url: &str,
    serializer: Serializer,
    warmup: Duration,
    duration: Duration,
    window: usize,
) -> Result<f64, BoxError> {
    let config =
        HostConfig { url: Some(url.to_owned()), serializer, call_timeout_secs: 0, ..HostConfig::default() };
    actix::System::new().block_on(component_rate(
        config,
        warmup,
        duration,
        window,
        Via::Session("bench.add2"),
    ))
}

/// How the calling component calls `BenchAdder`.
#[derive(Clone, Copy)]
enum Via {
    /// `Session::call` of this procedure, with `(2, 3)`.
    Session(&'static str),
    /// `BenchAdderClient::add2(2, 3)`.
    Client,
}

/// Starts the two components as `config` says and measures `BenchCaller`
/// calling a procedure of `BenchAdder` as `via` says, `window` calls in
/// flight.
async fn component_rate(
    config: HostConfig,
    warmup: Duration,
    duration: Duration,
    window: usize,
    via: Via,
) -> Result<f64, BoxError> {
    let running = wamp::Host::new(config).add_component(BenchAdder).add_component(BenchCaller).start()?;
    running.joined().await?;
    let caller = running.clients()[1].clone();
    // The caller's loop runs inside its session, as a component's own code
    // would.
    let measured = caller
        .with_session(move |ctx| {
            Box::pin(async move {
                rate(warmup, duration, window, move || {
                    let ctx = ctx.clone();
                    async move {
                        let sum: i64 = match via {
                            Via::Session(procedure) => ctx.call(procedure, (2, 3)).await,
                            Via::Client => BenchAdderClient::new(ctx).add2(2, 3).await,
                        }
                        .map_err(|e| e.to_string())?;
                        (sum == 5).then_some(()).ok_or_else(|| "wrong sum".to_owned())
                    }
                })
                .await
                .map_err(|e| e.to_string())
            })
        })
        .await?;
    running.shutdown().await;
    Ok(measured?)
}
