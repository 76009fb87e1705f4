//! Starting the example binary, shared by its tests.

// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// The running example and the URLs it logged.
pub struct Running {
    /// The process, killed when this is dropped.
    _child: Child,
    /// The plain echo endpoint.
    pub echo: String,
    /// The WAMP router endpoint.
    pub router: String,
}

/// The value of `key=` in a log line.
fn field(line: &str, key: &str) -> Option<String> {
    line.split(&format!("{key}=")).nth(1)?.split_whitespace().next().map(str::to_owned)
}

/// Starts `websocket-echo` on a free loopback port and waits for the line
/// that says where it listens.
pub async fn start() -> Running {
    start_with(&[]).await
}

/// [`start`] with further environment variables.
pub async fn start_with(vars: &[(&str, &str)]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_websocket-echo"))
        .env_remove("WAMP_URL")
        .env("WAMP_LISTEN", "127.0.0.1:0")
        .envs(vars.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start websocket-echo");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let line = lines.next_line().await.expect("read the log").expect("websocket-echo exited early");
            if line.contains("listening") {
                return line;
            }
        }
    })
    .await
    .expect("websocket-echo logs where it listens");
    // Keep reading its log so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Running {
        _child: child,
        echo: field(&line, "echo").expect("the echo URL in the log"),
        router: field(&line, "url").expect("the router URL in the log"),
    }
}
