//! In-process calls: a component calling another component's procedure
//! through the embedded router, against a bare actix request/response
//! between two actors (`Addr::send`), in the same run, on one thread.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix::{Actor, Context as ActorContext, Handler, Message};
use wamp::component::HostConfig;

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

/// The component under test: the same addition as a procedure.
#[derive(Default)]
struct BenchAdder;

#[wamp::component(inventory = false)]
impl BenchAdder {
    #[wamp::procedure("bench.add2")]
    fn add2(&self, x: i64, y: i64) -> i64 {
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

/// What the in-process comparison measured.
pub struct Figures {
    /// `(window, bare Addr::send round trips/s, component calls/s)`.
    pub rows: Vec<(usize, f64, f64)>,
}

/// Runs the comparison on a fresh actix system on this thread.
pub fn run(warmup: Duration, duration: Duration) -> Result<Figures, BoxError> {
    actix::System::new().block_on(async move {
        let adder = Adder.start();
        let config = HostConfig { call_timeout_secs: 0, ..HostConfig::default() };
        let running = wamp::Host::new(config).add_component(BenchAdder).add_component(BenchCaller).start()?;
        running.joined().await?;
        let caller = running.clients()[1].clone();
        let mut rows = Vec::new();
        for window in [1usize, 16] {
            let addr = Rc::new(adder.clone());
            let bare = rate(warmup, duration, window, move || {
                let addr = addr.clone();
                async move {
                    let sum = addr.send(Add(2, 3)).await.map_err(|e| e.to_string())?;
                    (sum == 5).then_some(()).ok_or_else(|| "wrong sum".to_owned())
                }
            })
            .await?;
            // The caller's loop runs inside its session, as a component's
            // own code would.
            let component = caller
                .with_context(move |ctx| {
                    Box::pin(async move {
                        rate(warmup, duration, window, move || {
                            let ctx = ctx.clone();
                            async move {
                                let sum: i64 =
                                    ctx.call("bench.add2", (2, 3)).await.map_err(|e| e.to_string())?;
                                (sum == 5).then_some(()).ok_or_else(|| "wrong sum".to_owned())
                            }
                        })
                        .await
                        .map_err(|e| e.to_string())
                    })
                })
                .await??;
            rows.push((window, bare, component));
        }
        running.shutdown().await;
        Ok(Figures { rows })
    })
}
