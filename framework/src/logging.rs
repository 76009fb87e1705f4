//! Logging for applications, set up with one call at the start of `main`.
//!
//! The framework reports through [`tracing`]: a span per session (its id
//! and realm), what a peer did wrong, what a limit refused. A library
//! never installs the subscriber that prints those records; the
//! application does, and [`init`] is the one the examples and the apps of
//! `wamp new` use. An application with its own `tracing_subscriber` set-up
//! (JSON lines, OpenTelemetry) calls that instead, and can build without
//! this module (`default-features = false`, then the features it needs).

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

/// Prints log records on standard output, those `RUST_LOG` selects
/// (`RUST_LOG=debug`, or `RUST_LOG=info,wamp::router=debug` for one part),
/// `info` and above when it is unset or unreadable; in colour only on a
/// terminal, so that a log piped into a file or a collector stays plain
/// text.
///
/// Does nothing when the process already has a global subscriber, so that
/// a test may call it as often as it likes.
///
/// The `main` of an application (it starts a router, so it is only
/// compiled here):
///
/// ```no_run
/// #[actix_web::main]
/// async fn main() -> std::io::Result<()> {
///     wamp::logging::init();
///     tracing::info!(version = env!("CARGO_PKG_VERSION"), "starting");
///     wamp::Host::from_env()?.add_registered().run().await
/// }
/// ```
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _already_set = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .try_init();
}
