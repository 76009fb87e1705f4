//! `wamp-bench`: measures our router over loopback WebSocket against a raw
//! WebSocket echo server in the same run, components calling each other in
//! remote mode against the same echo, and in-process component calls
//! against bare actix messages; every figure is a ratio to its baseline.
//!
//! ```text
//! cargo run --release -p wamp-bench            # the whole suite, a Markdown report on stdout
//! cargo run --release -p wamp-bench -- --duration 10 --idle 10000
//! cargo run --release -p wamp-bench -- --suite patterns   # unrelated patterns against exact routing
//! cargo run --release -p wamp-bench -- --suite compression   # permessage-deflate against none
//! ```
//!
//! The router and the echo server each run in a child process with one
//! worker thread; the load runs on one thread of this process. On a 2-core
//! machine that gives the server one core and the load the other. A third
//! child serves the router as an application does, beside a component
//! (`servers::Kind::Host`), for the RPC phases that call it.

mod compression;
mod inproc;
mod load;
mod patterns;
mod servers;
mod soak;
mod wire;

use std::process::Stdio;
use std::time::Duration;

use clap::{Parser, Subcommand};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use wamp::protocol::Serializer;

type BoxError = Box<dyn std::error::Error>;

// The allocator of `wamp router`: memory freed by sessions that left goes
// back to the system (docs/router.md, "Memory").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser, Debug)]
#[command(name = "wamp-bench", about = "Router throughput and latency against a WebSocket echo baseline")]
struct Cli {
    #[command(subcommand)]
    serve: Option<Serve>,
    /// Seconds each phase is measured.
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Seconds of warm-up before each phase is measured.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Client connections (callers, echo clients, subscribers).
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Idle sessions opened to measure memory per session; 0 skips it.
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
    /// Rounds of every phase; each figure is the median round (an
    /// in-process ratio: the median of the ratios of the rounds, each to
    /// the `Addr::send` rate of its own round).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Which comparisons to run.
    #[arg(long, value_enum, default_value_t = Suite::All)]
    suite: Suite,
    /// Do not pin the load to the first core and the servers to the second.
    #[arg(long)]
    no_pin: bool,
    /// Run the routers under test (alone, and beside a component) from
    /// this `wamp-bench` executable (one built from another commit, say),
    /// so two routers are compared with the same load; the echo server and
    /// the load stay this executable's.
    #[arg(long, value_name = "PATH")]
    router_exe: Option<std::path::PathBuf>,
    /// With `--suite local`: which of its measurements to run. One alone
    /// is for profiles (e.g. `bench/scripts/local-hot-code.sh`), and
    /// prints no ratio.
    #[arg(long, value_enum, default_value_t = inproc::Measure::All)]
    measure: inproc::Measure,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Suite {
    /// Both.
    All,
    /// Our router over loopback WebSocket against a WebSocket echo.
    Remote,
    /// Component calls in one process against bare actor messages.
    Local,
    /// Only the router phases with 64 KiB payloads and the fan-out.
    Payload,
    /// Only the router phases with 64-byte messages (RPC, also beside a
    /// component, and PubSub).
    Messages,
    /// Exact routing on the realm core, with and without 10,000 unrelated
    /// patterns and registrations.
    Patterns,
    /// permessage-deflate: bytes and CPU per message against none.
    Compression,
}

#[derive(Subcommand, Debug)]
enum Serve {
    /// (internal) run a server in this process.
    #[command(hide = true)]
    Serve {
        #[arg(value_enum)]
        kind: servers::Kind,
        /// Pin the server to this core.
        #[arg(long)]
        core: Option<usize>,
    },
    /// Many sessions joining and leaving while calls and events flow;
    /// fails if an acknowledged publication or an answered call is lost,
    /// or the router's memory does not go back once everyone has left.
    Soak {
        /// Sessions kept joined.
        #[arg(long, default_value_t = 10_000)]
        sessions: usize,
        /// Seconds the soak runs.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Sessions replaced per second.
        #[arg(long, default_value_t = 200)]
        churn: usize,
    },
}

/// Pins the calling thread (and the threads it starts later) to `core`.
fn pin(core: usize) -> Result<(), BoxError> {
    // The id is the CPU number: a child inherits its parent's affinity, so
    // listing the allowed cores there would show only the parent's.
    if core_affinity::set_for_current(core_affinity::CoreId { id: core }) {
        Ok(())
    } else {
        Err(format!("cannot pin to core {core}").into())
    }
}

fn main() -> Result<(), BoxError> {
    let cli = Cli::parse();
    if let Some(Serve::Serve { kind, core }) = cli.serve {
        if let Some(core) = core {
            pin(core)?;
        }
        return Ok(servers::serve(kind)?);
    }
    let cores = core_affinity::get_core_ids().map_or(0, |ids| ids.len());
    let server_core = (!cli.no_pin && cores >= 2).then_some(1);
    if server_core.is_some() {
        pin(0)?;
    }
    if let Some(Serve::Soak { sessions, seconds, churn }) = cli.serve {
        let config =
            soak::SoakConfig { sessions, duration: Duration::from_secs(seconds), churn_per_sec: churn };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let local = tokio::task::LocalSet::new();
        return local.block_on(&runtime, run_soak(config, server_core));
    }
    if cli.suite == Suite::Compression {
        return run_compression(&cli);
    }
    if cli.suite == Suite::Patterns {
        let figures = patterns::run(Duration::from_secs(cli.duration), cli.rounds)?;
        let n = patterns::UNRELATED;
        let row = |name: String, (none, with): (f64, f64), baseline: &str| Row {
            name,
            value: format!("{with:.0}"),
            baseline: format!("{none:.0} ({baseline})"),
            ratio: Some(with / none),
            target: "≥ 50%",
        };
        print_rows(vec![
            row(
                format!("realm core: PUBLISH to an exact topic/s, {n} unrelated prefix and wildcard subscriptions"),
                figures.publish,
                "none",
            ),
            row(
                format!("realm core: CALL + YIELD of an exact procedure/s, {n} other registrations"),
                figures.call,
                "no other",
            ),
        ]);
        return Ok(());
    }
    let mut local_rows = Vec::new();
    if matches!(cli.suite, Suite::All | Suite::Local) {
        let figures = inproc::run(
            Duration::from_secs(cli.warmup),
            Duration::from_secs(cli.duration),
            cli.measure,
            cli.rounds,
        )?;
        for inproc::Row {
            window,
            bare,
            component,
            typed,
            pooled,
            own_thread,
            component_ratios,
            typed_ratios,
        } in figures.rows
        {
            let name = format!("in-process component calls/s via the embedded router, {window} in flight");
            let typed_name = format!(
                "in-process component calls/s through the generated client (Rust values end to end), \
                 {window} in flight"
            );
            let (Some(bare), Some(component), Some(typed)) = (bare, component, typed) else {
                let measured =
                    |rate: Option<f64>| rate.map_or("not measured".to_owned(), |r| format!("{r:.0}"));
                for (name, rate) in [(name, component), (typed_name, typed)] {
                    local_rows.push(Row {
                        name,
                        value: measured(rate),
                        baseline: format!("{} (Addr::send round trips/s)", measured(bare)),
                        ratio: None,
                        target: "",
                    });
                }
                continue;
            };
            let value = format!("{component:.0}");
            let percents = |ratios: &[f64]| -> String {
                ratios.iter().map(|r| format!("{:.1}%", r * 100.0)).collect::<Vec<_>>().join(", ")
            };
            eprintln!(
                "in-process, {window} in flight (medians): {bare:.0} Addr::send/s, {component:.0} component \
                 calls/s, {typed:.0} through the generated client; per round, Session::call {} and the \
                 generated client {} of Addr::send",
                percents(&component_ratios),
                percents(&typed_ratios),
            );
            let baseline = format!("{bare:.0} (Addr::send round trips/s)");
            local_rows.push(Row {
                name,
                value,
                baseline: baseline.clone(),
                ratio: inproc::median(component_ratios),
                target: if window == 1 { "≥ 30%" } else { "" },
            });
            local_rows.push(Row {
                name: typed_name,
                value: format!("{typed:.0}"),
                baseline: baseline.clone(),
                ratio: inproc::median(typed_ratios),
                target: if window == 1 { "≥ 30%" } else { "" },
            });
            if let Some(pooled) = pooled {
                local_rows.push(Row {
                    name: format!(
                        "in-process calls/s to the same procedure on the blocking pool (`blocking = true`), \
                         {window} in flight"
                    ),
                    value: format!("{pooled:.0}"),
                    baseline: baseline.clone(),
                    ratio: Some(pooled / bare),
                    target: "",
                });
            }
            if let Some(own_thread) = own_thread {
                local_rows.push(Row {
                    name: format!(
                        "in-process calls/s to the same procedure of a component on a thread of its own \
                         (`own_thread`), {window} in flight"
                    ),
                    value: format!("{own_thread:.0}"),
                    baseline,
                    ratio: Some(own_thread / bare),
                    target: "",
                });
            }
        }
        if cli.suite == Suite::Local {
            print_rows(local_rows);
            return Ok(());
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, run(cli, server_core, local_rows))
}

/// A server in a child process.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    async fn start(
        kind: &str,
        core: Option<usize>,
        exe: Option<&std::path::Path>,
    ) -> Result<Server, BoxError> {
        let exe = match exe {
            Some(exe) => exe.to_owned(),
            None => std::env::current_exe()?,
        };
        let mut command = Command::new(exe);
        command.args(["serve", kind]);
        if let Some(core) = core {
            command.args(["--core", &core.to_string()]);
        }
        let mut child = command
            .env("RUST_LOG", "warn")
            // Every load comes from one address.
            .env("WAMP_MAX_CONNECTIONS_PER_ADDRESS", "1000000")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        while let Some(line) = lines.next_line().await? {
            if let Some(url) = line.strip_prefix("LISTENING ") {
                return Ok(Server { child, url: url.to_owned() });
            }
        }
        Err(format!("the {kind} server exited before listening").into())
    }

    /// The process id, while it runs.
    fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Resident memory in bytes.
    fn rss(&self) -> Result<u64, BoxError> {
        let pid = self.child.id().ok_or("server exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .ok_or("no VmRSS")?
            .parse()?;
        Ok(kib * 1024)
    }
}

struct Row {
    name: String,
    value: String,
    baseline: String,
    ratio: Option<f64>,
    target: &'static str,
}

async fn run(cli: Cli, core: Option<usize>, mut rows: Vec<Row>) -> Result<(), BoxError> {
    let warmup = Duration::from_secs(cli.warmup);
    let duration = Duration::from_secs(cli.duration);
    let n = cli.connections;
    let echo = Server::start("echo", core, None).await?;
    let router = Server::start("router", core, cli.router_exe.as_deref()).await?;
    if cli.suite == Suite::Payload {
        rows.extend(payload_phases(&echo, &router, &cli, warmup, duration).await?);
        print_rows(rows);
        return Ok(());
    }

    // The router as an application serves it, beside a component. A
    // `wamp-bench` of an older build (`--router-exe`) may have no such
    // server: its phases are then reported as not measured.
    let host = match Server::start("host", core, cli.router_exe.as_deref()).await {
        Ok(host) if load::answers(&host.url, Serializer::Json, servers::EMBEDDED_ECHO).await? => Some(host),
        Ok(_) => {
            eprintln!(
                "the host server does not answer {}: its phases are not measured",
                servers::EMBEDDED_ECHO
            );
            None
        }
        Err(error) => {
            eprintln!("no host server ({error}): its phases are not measured");
            None
        }
    };
    for window in [1usize, 64] {
        // Rounds interleave the echo and router phases, so drift of the
        // machine affects both sides alike; each figure is the median.
        let mut echo_runs = Vec::new();
        let mut rpc_runs: [Vec<load::Outcome>; 2] = [Vec::new(), Vec::new()];
        // On the host server: [serializer][callee: the load's, the embedded component].
        let mut host_runs: [[Vec<load::Outcome>; 2]; 2] = Default::default();
        let mut pubsub_runs: [Vec<load::Outcome>; 2] = [Vec::new(), Vec::new()];
        for round in 1..=cli.rounds.max(1) {
            let url = echo.url.clone();
            let base =
                load::measure(warmup, duration, echo.pid(), |m| load::echo(url, n, window, load::SMALL, m))
                    .await?;
            eprintln!("round {round}: echo, {window} in flight: {:.0} round trips/s", base.rate);
            echo_runs.push(base);
            for (i, serializer) in SERIALIZERS.into_iter().enumerate() {
                let url = router.url.clone();
                let rpc = load::measure(warmup, duration, router.pid(), |m| {
                    load::rpc(url, serializer, load::Callee::Load, n, window, load::SMALL, m)
                })
                .await?;
                eprintln!("round {round}: rpc {serializer}, {window} in flight: {:.0} calls/s", rpc.rate);
                rpc_runs[i].push(rpc);
                for (j, callee) in HOST_CALLEES.into_iter().enumerate() {
                    let Some(host) = &host else { break };
                    let url = host.url.clone();
                    let rpc = load::measure(warmup, duration, host.pid(), |m| {
                        load::rpc(url, serializer, callee, n, window, load::SMALL, m)
                    })
                    .await?;
                    eprintln!(
                        "round {round}: rpc {serializer} beside a component, {callee:?} callee, {window} in flight: {:.0} calls/s",
                        rpc.rate
                    );
                    host_runs[i][j].push(rpc);
                }
                if window == 64 {
                    let url = router.url.clone();
                    let ps = load::measure(warmup, duration, router.pid(), |m| {
                        load::pubsub(url, serializer, n, 64, load::SMALL, m)
                    })
                    .await?;
                    eprintln!("round {round}: pubsub {serializer}: {:.0} deliveries/s", ps.rate);
                    pubsub_runs[i].push(ps);
                }
            }
        }
        let base = median(echo_runs);
        rows.push(Row {
            name: format!("echo round trips/s, {n} connections × {window} in flight"),
            value: format!("{:.0}{}{}", base.rate, latency(&base), cpu(&base, "round trip")),
            baseline: "-".into(),
            ratio: None,
            target: "",
        });
        for (i, serializer) in SERIALIZERS.into_iter().enumerate() {
            let rpc = median(std::mem::take(&mut rpc_runs[i]));
            rows.push(Row {
                name: format!(
                    "RPC calls/s, {}, 1 callee, {n} callers × {window} in flight",
                    serializer.name()
                ),
                value: format!("{:.0}{}{}", rpc.rate, latency(&rpc), cpu(&rpc, "call")),
                baseline: format!("{:.0}", base.rate),
                ratio: Some(rpc.rate / base.rate),
                target: if window == 1 { "≥ 35%" } else { "≥ 20%" },
            });
        }
        for (i, serializer) in SERIALIZERS.into_iter().enumerate() {
            for (j, callee) in HOST_CALLEES.into_iter().enumerate() {
                let name = format!(
                    "RPC calls/s, {}, router beside a component, {}, {n} callers × {window} in flight",
                    serializer.name(),
                    match callee {
                        load::Callee::Load => "1 remote callee",
                        load::Callee::Embedded => "the component as callee",
                    }
                );
                let runs = std::mem::take(&mut host_runs[i][j]);
                if runs.is_empty() {
                    rows.push(Row {
                        name,
                        value: "not measured: the router's build has no `serve host`".into(),
                        baseline: format!("{:.0}", base.rate),
                        ratio: None,
                        target: "",
                    });
                    continue;
                }
                let rpc = median(runs);
                rows.push(Row {
                    name,
                    value: format!("{:.0}{}{}", rpc.rate, latency(&rpc), cpu(&rpc, "call")),
                    baseline: format!("{:.0}", base.rate),
                    ratio: Some(rpc.rate / base.rate),
                    target: "",
                });
            }
        }
        for (i, serializer) in SERIALIZERS.into_iter().enumerate() {
            if pubsub_runs[i].is_empty() {
                continue;
            }
            let ps = median(std::mem::take(&mut pubsub_runs[i]));
            rows.push(Row {
                name: format!(
                    "EVENT deliveries/s, {}, 1 publisher × 64 acknowledged in flight, {n} subscribers",
                    serializer.name()
                ),
                value: format!("{:.0}{}", ps.rate, cpu(&ps, "delivery")),
                baseline: format!("{:.0}", base.rate),
                ratio: Some(ps.rate / base.rate),
                target: "≥ 40%",
            });
        }
    }
    drop(host);
    if cli.suite == Suite::Messages {
        print_rows(rows);
        return Ok(());
    }
    rows.extend(payload_phases(&echo, &router, &cli, warmup, duration).await?);
    rows.extend(remote_components(&echo.url, &router.url, &cli, warmup, duration).await?);
    drop(router);
    drop(echo);

    if cli.idle > 0 {
        let router = Server::start("router", core, cli.router_exe.as_deref()).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = router.rss()?;
        let sessions = load::idle_sessions(&router.url, Serializer::MsgPack, cli.idle).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = router.rss()?;
        let per_session = after.saturating_sub(before) / cli.idle as u64;
        eprintln!("{} idle sessions: {} bytes each", sessions.len(), per_session);
        rows.push(Row {
            name: format!("router memory per idle joined session ({} sessions)", cli.idle),
            value: format!("{:.1} KiB", per_session as f64 / 1024.0),
            baseline: format!("RSS {:.1} → {:.1} MiB", mib(before), mib(after)),
            ratio: None,
            target: "≤ 64 KiB",
        });
        // Memory goes back once they leave (after the allocator's decay).
        drop(sessions);
        tokio::time::sleep(Duration::from_secs(15)).await;
        let left = router.rss()?;
        eprintln!("after the {} sessions left: RSS {:.1} MiB", cli.idle, mib(left));
        rows.push(Row {
            name: format!("router memory after the {} sessions left", cli.idle),
            value: format!("{:.1} MiB", mib(left)),
            baseline: format!("RSS {:.1} MiB before they joined", mib(before)),
            ratio: None,
            target: "",
        });
    }

    print_rows(rows);
    Ok(())
}

async fn run_soak(config: soak::SoakConfig, core: Option<usize>) -> Result<(), BoxError> {
    let router = Server::start("router", core, None).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = soak::run(&router.url, config, || router.rss()).await?;
    if let Some(pid) = router.child.id() {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0);
        eprintln!("router file descriptors after everyone left: {fds}");
    }
    let (before, joined, after) = report.rss;
    let per_session = joined.saturating_sub(before) as f64 / config.sessions.max(1) as f64;
    let grown = joined.saturating_sub(before);
    let kept = after.saturating_sub(before);
    print_rows(vec![
        Row {
            name: format!(
                "soak: {} sessions, {} replaced per second, {} s",
                config.sessions,
                config.churn_per_sec,
                config.duration.as_secs()
            ),
            value: format!("{} joins", report.joins),
            baseline: "-".into(),
            ratio: None,
            target: "",
        },
        row("calls answered/s", format!("{:.0}", report.calls_per_sec)),
        row("events received/s", format!("{:.0}", report.events_per_sec)),
        row("memory per joined session", format!("{:.1} KiB", per_session / 1024.0)),
        row(
            "router RSS: before, joined, after everyone left",
            format!("{:.1} / {:.1} / {:.1} MiB", mib(before), mib(joined), mib(after)),
        ),
        row("acknowledged publications lost", report.lost_publications.to_string()),
        row("calls never answered", report.lost_calls.to_string()),
        row("calls answered wrongly or with an error", report.failed_calls.to_string()),
    ]);
    let mut problems = Vec::new();
    if report.lost_publications > 0 || report.lost_calls > 0 || report.failed_calls > 0 {
        problems.push("messages were lost or calls failed".to_owned());
    }
    // Back to the baseline: at most a quarter of the growth stays.
    if kept > grown / 4 {
        problems.push(format!("{:.1} MiB of {:.1} MiB stayed after everyone left", mib(kept), mib(grown)));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; ").into())
    }
}

fn row(name: &str, value: String) -> Row {
    Row { name: name.to_owned(), value, baseline: "-".into(), ratio: None, target: "" }
}

/// Who answers the calls measured on the router beside a component.
const HOST_CALLEES: [load::Callee; 2] = [load::Callee::Load, load::Callee::Embedded];

/// The size of the large payloads: 64 KiB.
const LARGE: usize = 64 * 1024;

/// Messages in flight per connection with large payloads.
const LARGE_WINDOW: usize = 16;

/// Subscribers of the fan-out phase.
const FAN_OUT: usize = 1000;

/// The router with 64 KiB payloads (RPC and PubSub, against an echo of
/// 64 KiB messages), and one publication reaching 1,000 subscribers
/// (against the small-message echo with 64 in flight).
async fn payload_phases(
    echo: &Server,
    router: &Server,
    cli: &Cli,
    warmup: Duration,
    duration: Duration,
) -> Result<Vec<Row>, BoxError> {
    let n = cli.connections;
    let mut large_echo = Vec::new();
    let mut small_echo = Vec::new();
    let mut rpc_runs: [Vec<load::Outcome>; 2] = [Vec::new(), Vec::new()];
    let mut pubsub_runs: [Vec<load::Outcome>; 2] = [Vec::new(), Vec::new()];
    let mut fan_out_runs: [Vec<load::Outcome>; 2] = [Vec::new(), Vec::new()];
    for round in 1..=cli.rounds.max(1) {
        let url = echo.url.clone();
        let base =
            load::measure(warmup, duration, echo.pid(), |m| load::echo(url, n, LARGE_WINDOW, LARGE, m))
                .await?;
        eprintln!("round {round}: echo 64 KiB, {LARGE_WINDOW} in flight: {:.0} round trips/s", base.rate);
        large_echo.push(base);
        let url = echo.url.clone();
        let base =
            load::measure(warmup, duration, echo.pid(), |m| load::echo(url, n, 64, load::SMALL, m)).await?;
        small_echo.push(base);
        for (i, serializer) in SERIALIZERS.into_iter().enumerate() {
            let url = router.url.clone();
            let rpc = load::measure(warmup, duration, router.pid(), |m| {
                load::rpc(url, serializer, load::Callee::Load, n, LARGE_WINDOW, LARGE, m)
            })
            .await?;
            eprintln!("round {round}: rpc 64 KiB {serializer}: {:.0} calls/s", rpc.rate);
            rpc_runs[i].push(rpc);
            let url = router.url.clone();
            let ps = load::measure(warmup, duration, router.pid(), |m| {
                load::pubsub(url, serializer, n, LARGE_WINDOW, LARGE, m)
            })
            .await?;
            eprintln!("round {round}: pubsub 64 KiB {serializer}: {:.0} deliveries/s", ps.rate);
            pubsub_runs[i].push(ps);
            let url = router.url.clone();
            let fan = load::measure(warmup, duration, router.pid(), |m| {
                load::pubsub(url, serializer, FAN_OUT, 64, load::SMALL, m)
            })
            .await?;
            eprintln!("round {round}: fan-out {serializer}: {:.0} deliveries/s", fan.rate);
            fan_out_runs[i].push(fan);
        }
    }
    let large = median(large_echo);
    let small = median(small_echo);
    // Payload bytes per second, and per second of the server's CPU time:
    // the second does not depend on the load tool keeping up.
    let mib_per_s = |o: &load::Outcome, op: &str| {
        let per_cpu = o
            .cpu_per_op
            .map(|us| format!(", {:.0} MiB per server CPU second", LARGE as f64 / us / 1.048576))
            .unwrap_or_default();
        format!(
            "{:.0} ({:.0} MiB/s{per_cpu}){}",
            o.rate,
            o.rate * LARGE as f64 / (1024.0 * 1024.0),
            cpu(o, op)
        )
    };
    let mut rows = vec![Row {
        name: format!("echo round trips/s, 64 KiB, {n} connections × {LARGE_WINDOW} in flight"),
        value: mib_per_s(&large, "round trip"),
        baseline: "-".into(),
        ratio: None,
        target: "",
    }];
    for (i, serializer) in SERIALIZERS.into_iter().enumerate() {
        let rpc = median(std::mem::take(&mut rpc_runs[i]));
        rows.push(Row {
            name: format!(
                "RPC calls/s, 64 KiB, {}, 1 callee, {n} callers × {LARGE_WINDOW} in flight",
                serializer.name()
            ),
            value: mib_per_s(&rpc, "call"),
            baseline: format!("{:.0}", large.rate),
            ratio: Some(rpc.rate / large.rate),
            target: "",
        });
        let ps = median(std::mem::take(&mut pubsub_runs[i]));
        rows.push(Row {
            name: format!(
                "EVENT deliveries/s, 64 KiB, {}, 1 publisher × {LARGE_WINDOW} in flight, {n} subscribers",
                serializer.name()
            ),
            value: mib_per_s(&ps, "delivery"),
            baseline: format!("{:.0}", large.rate),
            ratio: Some(ps.rate / large.rate),
            target: "",
        });
    }
    for (i, serializer) in SERIALIZERS.into_iter().enumerate() {
        let fan = median(std::mem::take(&mut fan_out_runs[i]));
        rows.push(Row {
            name: format!(
                "EVENT deliveries/s, {}, 1 publisher × 64 in flight, {FAN_OUT} subscribers",
                serializer.name()
            ),
            value: format!("{:.0}", fan.rate),
            baseline: format!("{:.0} (echo, {n} × 64 in flight, 64 B)", small.rate),
            ratio: Some(fan.rate / small.rate),
            target: "",
        });
    }
    Ok(rows)
}

/// Components in remote mode: both are our client (`wamp::client`) on one
/// thread of this process, as a remote deployment runs them; the baseline
/// is an echo with as many messages in flight on one socket.
async fn remote_components(
    echo_url: &str,
    router_url: &str,
    cli: &Cli,
    warmup: Duration,
    duration: Duration,
) -> Result<Vec<Row>, BoxError> {
    let mut rows = Vec::new();
    for window in inproc::WINDOWS {
        let mut echo_runs = Vec::new();
        let mut component_runs: [Vec<load::Outcome>; 2] = [Vec::new(), Vec::new()];
        for round in 1..=cli.rounds.max(1) {
            let url = echo_url.to_owned();
            let base =
                load::measure(warmup, duration, None, |m| load::echo(url, 1, window, load::SMALL, m)).await?;
            eprintln!(
                "round {round}: echo, 1 connection, {window} in flight: {:.0} round trips/s",
                base.rate
            );
            echo_runs.push(base);
            for (i, serializer) in SERIALIZERS.into_iter().enumerate() {
                let url = router_url.to_owned();
                let rate = tokio::task::spawn_blocking(move || {
                    inproc::run_remote(&url, serializer, warmup, duration, window).map_err(|e| e.to_string())
                })
                .await??;
                eprintln!(
                    "round {round}: remote components {serializer}, {window} in flight: {rate:.0} calls/s"
                );
                component_runs[i].push(load::Outcome { rate, latency: None, cpu_per_op: None, busy: None });
            }
        }
        let base = median(echo_runs);
        for (i, serializer) in SERIALIZERS.into_iter().enumerate() {
            let calls = median(std::mem::take(&mut component_runs[i]));
            rows.push(Row {
                name: format!(
                    "component calls/s in remote mode, {}, {window} in flight (caller and callee both our client)",
                    serializer.name()
                ),
                value: format!("{:.0}", calls.rate),
                baseline: format!("{:.0} (echo round trips/s, 1 connection × {window} in flight)", base.rate),
                ratio: Some(calls.rate / base.rate),
                target: "",
            });
        }
    }
    Ok(rows)
}

/// The compression suite: its own table, one row per message and setting.
fn run_compression(cli: &Cli) -> Result<(), BoxError> {
    let duration = Duration::from_secs(cli.duration.max(1));
    println!("| message | serializer | compression | bytes/msg | of uncompressed | server write ns/msg | × uncompressed | client inflate ns/msg |");
    println!("|---|---|---|---|---|---|---|---|");
    let settings = compression::settings();
    for sample in compression::samples() {
        // The median of the rounds, per figure.
        let mut figures = Vec::new();
        for setting in &settings {
            let mut rounds = Vec::new();
            for _ in 0..cli.rounds.max(1) {
                rounds.push(compression::measure(&sample, setting, duration)?);
            }
            let median = |f: fn(&compression::Figures) -> f64| {
                let mut v: Vec<f64> = rounds.iter().map(f).collect();
                v.sort_by(f64::total_cmp);
                v[v.len() / 2]
            };
            figures.push((median(|f| f.bytes), median(|f| f.write_ns), median(|f| f.inflate_ns)));
        }
        let (base_bytes, base_ns, _) = figures[0];
        for (setting, (bytes, write_ns, inflate_ns)) in settings.iter().zip(figures) {
            let inflate = if inflate_ns > 0.0 { format!("{inflate_ns:.0}") } else { "-".into() };
            println!(
                "| {} | {:?} | {} | {:.0} | {:.1}% | {:.0} | {:.1} | {} |",
                sample.name,
                sample.serializer,
                setting.name,
                bytes,
                bytes / base_bytes * 100.0,
                write_ns,
                write_ns / base_ns,
                inflate
            );
        }
    }
    let connections = 300;
    println!();
    println!("| compression | resident memory per connection ({connections} connections, one message of each kind sent) |");
    println!("|---|---|");
    let mut kept = Vec::new();
    for setting in &settings {
        let (bytes, wires) = compression::memory_per_connection(setting, connections)?;
        kept.push(wires);
        println!("| {} | {:.1} KiB |", setting.name, bytes / 1024.0);
    }
    Ok(())
}

fn print_rows(rows: Vec<Row>) {
    println!("| measurement | value | baseline | ratio | target |");
    println!("|---|---|---|---|---|");
    for row in rows {
        let ratio = row.ratio.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "-".into());
        println!("| {} | {} | {} | {} | {} |", row.name, row.value, row.baseline, ratio, row.target);
    }
}

fn latency(outcome: &load::Outcome) -> String {
    match outcome.latency {
        Some((p50, p99)) => format!(" (p50 {p50} µs, p99 {p99} µs)"),
        None => String::new(),
    }
}

const SERIALIZERS: [Serializer; 2] = [Serializer::Json, Serializer::MsgPack];

/// The run with the median rate, with the median CPU time per operation
/// of all runs (which need not be the same run's).
fn median(mut runs: Vec<load::Outcome>) -> load::Outcome {
    let mut cpu: Vec<f64> = runs.iter().filter_map(|run| run.cpu_per_op).collect();
    cpu.sort_by(f64::total_cmp);
    runs.sort_by(|a, b| a.rate.total_cmp(&b.rate));
    let mid = runs.len() / 2;
    let mut run = runs.swap_remove(mid);
    run.cpu_per_op = cpu.get(cpu.len() / 2).copied();
    run
}

/// The server's CPU time per operation and how busy it was, for the value
/// column.
fn cpu(outcome: &load::Outcome, op: &str) -> String {
    match (outcome.cpu_per_op, outcome.busy) {
        (Some(per_op), Some(busy)) => {
            format!("; server CPU {per_op:.2} µs per {op}, {:.0}% busy", busy * 100.0)
        }
        _ => String::new(),
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
