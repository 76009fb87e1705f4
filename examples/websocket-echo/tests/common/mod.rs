//! Starting the example binary, shared by its tests.

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use wamp_tests::{app_command, Process};

/// The running example and the URLs it logged.
pub struct Running {
    /// The process, killed when this is dropped.
    _process: Process,
    /// The plain echo endpoint.
    pub echo: String,
    /// The WAMP router endpoint.
    pub router: String,
}

/// Starts `websocket-echo` on a free loopback port and waits for the line
/// that says where it listens.
pub async fn start() -> Running {
    start_with(&[]).await
}

/// [`start`] with further environment variables.
pub async fn start_with(vars: &[(&str, &str)]) -> Running {
    let mut process =
        Process::start(app_command(env!("CARGO_BIN_EXE_websocket-echo")).envs(vars.iter().copied()));
    process.wait_for(&["listening"]).await;
    Running {
        echo: process.field("echo").expect("the echo URL in the log"),
        router: process.url(),
        _process: process,
    }
}
