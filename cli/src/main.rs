//! `wamp`: the actix-wamp command-line tool.
//!
//! `wamp router` runs a WAMP router. Settings come from built-in defaults,
//! then `--config FILE` (TOML), then `WAMP_*` environment variables, then
//! the command-line options. `wamp call`, `publish`, `subscribe` and
//! `register` join a live router as one session, for debugging
//! ([`tools`]). Logs go to standard error, filtered by `RUST_LOG` (default
//! `info`, `warn` for the session tools).

mod scaffold;
mod tools;

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

// jemalloc with background threads hands the memory of sessions that left
// back to the system within seconds; the system allocator kept it
// (docs/router.md, "Memory").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Tools for WAMP applications built with actix-wamp.
#[derive(Parser, Debug)]
#[command(name = "wamp", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a new application (one component, its test, a wamp.toml)
    /// from the template built into this tool.
    New(scaffold::NewArgs),
    /// Run a WAMP router (WebSocket, JSON and MessagePack).
    Router(RouterArgs),
    /// Call a procedure and print its result as a JSON line.
    Call(tools::CallArgs),
    /// Publish an event (acknowledged, so a refusal is reported).
    Publish(tools::PublishArgs),
    /// Print each event of a topic as a JSON line, until interrupted.
    Subscribe(tools::SubscribeArgs),
    /// Answer calls to a procedure (echoing, or with a fixed value),
    /// printing each as a JSON line, until interrupted.
    Register(tools::RegisterArgs),
}

#[derive(clap::Args, Debug)]
struct RouterArgs {
    /// Address to listen on, `host:port` [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// A TOML settings file (keys as in the configuration reference).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The WebSocket path [default: /ws].
    #[arg(long)]
    path: Option<String>,
    /// Serve this realm (repeatable); replaces the realms of the settings.
    #[arg(long = "realm", value_name = "URI")]
    realms: Vec<String>,
    /// Create realms on demand when a client asks for an unknown one.
    #[arg(long)]
    auto_create_realms: bool,
    /// Serve `wss://` with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<String>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The session tools print their results on standard output; their log
    // says only what went wrong, unless asked for more.
    let default_level = if matches!(cli.command, Command::Router(_)) { "info" } else { "warn" };
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level)))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let result = match cli.command {
        Command::New(args) => new_app(args),
        Command::Router(args) => router(args),
        Command::Call(args) => session_tool(tools::call(args)),
        Command::Publish(args) => session_tool(tools::publish(args)),
        Command::Subscribe(args) => session_tool(tools::subscribe(args)),
        Command::Register(args) => session_tool(tools::register(args)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wamp: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Creates an application and says what to do next.
fn new_app(args: scaffold::NewArgs) -> Result<(), Box<dyn std::error::Error>> {
    let dir = scaffold::new_app(&args)?;
    println!("{}", scaffold::next_steps(&dir, &args.name));
    Ok(())
}

/// Runs a session tool on an actix system of its own.
fn session_tool(
    tool: impl std::future::Future<Output = Result<(), tools::Failure>>,
) -> Result<(), tools::Failure> {
    actix_web::rt::System::new().block_on(tool)
}

fn router(args: RouterArgs) -> Result<(), Box<dyn std::error::Error>> {
    let mut config = wamp::RouterConfig::load(args.config.as_deref())?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(path) = args.path {
        config.path = path;
    }
    if !args.realms.is_empty() {
        config.realms = args.realms.into_iter().map(wamp::config::RealmConfig::named).collect();
    }
    config.auto_create_realms |= args.auto_create_realms;
    if args.tls_cert.is_some() {
        config.tls_cert = args.tls_cert;
        config.tls_key = args.tls_key;
    }
    let realms: Vec<String> = config.realms.iter().map(|r| r.name.clone()).collect();
    let auto_create = config.auto_create_realms;
    tracing::info!(realms = ?realms, auto_create, "starting router");
    actix_web::rt::System::new().block_on(async move {
        let router = wamp::Router::new(config);
        let server = wamp::transport::Server::bind(router)?;
        // Scripts wait for this line to learn the address (port 0 picks one).
        tracing::info!(url = %server.url(), "router listening");
        println!("{}", served(&server.url(), &realms, auto_create));
        server.run_until_signal().await
    })?;
    tracing::info!("router stopped");
    Ok(())
}

/// What `wamp router` prints once it listens: where, and which realms.
fn served(url: &str, realms: &[String], auto_create: bool) -> String {
    let mut listed = if realms.is_empty() { "none configured".to_owned() } else { realms.join(", ") };
    if auto_create {
        listed.push_str(" (and any other, created when a client asks for it)");
    }
    format!("WAMP router listening on {url}\nrealms: {listed}\nstop it with Ctrl-C")
}
