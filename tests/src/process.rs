//! Programs a test starts as a user would (an example, `wamp router`, a
//! scaffolded app), waited for by what they log.
//!
//! Both output streams are read from the start into one queue, so a
//! program never blocks on a full pipe, whatever the test reads; the lines
//! a test waited for stay available to [`Process::field`], and the whole
//! log so far goes into the message when the program exits or stays silent
//! too early.

use std::ffi::OsStr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// How long [`Process::wait_for`] waits for the lines it expects.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A command that runs an application binary the way its README does, on
/// its embedded router (no `WAMP_URL` from the test's environment) and on a
/// free loopback port (`WAMP_LISTEN=127.0.0.1:0`). Further variables may
/// override both.
pub fn app_command(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    command.env_remove("WAMP_URL").env("WAMP_LISTEN", "127.0.0.1:0");
    command
}

/// A started program, killed when this is dropped.
pub struct Process {
    child: Child,
    name: String,
    lines: mpsc::UnboundedReceiver<String>,
    seen: Vec<String>,
}

impl Process {
    /// Starts `command` with `RUST_LOG=info` (unless the command sets it)
    /// and both its output streams piped into the log.
    pub fn start(command: &mut Command) -> Self {
        let name = command.as_std().get_program().to_string_lossy().into_owned();
        if !command.as_std().get_envs().any(|(key, _)| key == "RUST_LOG") {
            command.env("RUST_LOG", "info");
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        let (sender, lines) = mpsc::unbounded_channel();
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(forward(stdout, sender.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(forward(stderr, sender));
        }
        Self { child, name, lines, seen: Vec::new() }
    }

    /// Reads the log until every needle has appeared, in any order; a needle
    /// listed `n` times must appear in `n` lines (`&["component ready"; 3]`
    /// waits for three components). Panics with the log so far if the
    /// program exits first or [`START_TIMEOUT`] passes.
    pub async fn wait_for(&mut self, needles: &[&str]) {
        let mut missing: Vec<&str> = needles.to_vec();
        let waited = tokio::time::timeout(START_TIMEOUT, async {
            while !missing.is_empty() {
                let Some(line) = self.next_line().await else { return false };
                let mut matched: Vec<&str> = Vec::new();
                missing.retain(|needle| {
                    if line.contains(needle) && !matched.contains(needle) {
                        matched.push(*needle);
                        false
                    } else {
                        true
                    }
                });
            }
            true
        })
        .await;
        match waited {
            Ok(true) => {}
            Ok(false) => panic!("{} exited before logging {missing:?}; its log:\n{}", self.name, self.log()),
            Err(_) => panic!(
                "{} did not log {missing:?} within {START_TIMEOUT:?}; its log:\n{}",
                self.name,
                self.log()
            ),
        }
    }

    /// The next line of the log (recorded for [`Process::field`]), or
    /// `None` once the program has closed both streams.
    pub async fn next_line(&mut self) -> Option<String> {
        let line = self.lines.recv().await?;
        self.seen.push(line.clone());
        Some(line)
    }

    /// The value of `key=` in the first line read so far that has one
    /// (tracing's `key=value` fields).
    pub fn field(&self, key: &str) -> Option<String> {
        let prefix = format!("{key}=");
        self.seen.iter().find_map(|line| {
            line.split(' ')
                .find_map(|word| word.strip_prefix(&prefix))
                .map(|value| value.trim_matches('"').to_owned())
        })
    }

    /// The `url=` the program logged (a router's WebSocket URL, or a web
    /// app's address); panics if it logged none.
    pub fn url(&self) -> String {
        self.field("url").unwrap_or_else(|| panic!("{} logged no url=; its log:\n{}", self.name, self.log()))
    }

    /// Whether any line read so far contains `needle`.
    pub fn logged(&self, needle: &str) -> bool {
        self.seen.iter().any(|line| line.contains(needle))
    }

    /// The lines read so far, one per line.
    pub fn log(&self) -> String {
        self.seen.join("\n")
    }

    /// The running program, to signal it or wait for its exit.
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }
}

/// Sends each line of `stream` to `lines` until the stream ends; keeps
/// reading when nobody listens any more, so that the program never blocks.
async fn forward(stream: impl AsyncRead + Unpin, lines: mpsc::UnboundedSender<String>) {
    let mut reader = BufReader::new(stream).lines();
    while let Ok(Some(line)) = reader.next_line().await {
        let _ = lines.send(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str) -> Process {
        Process::start(Command::new("sh").args(["-c", script]))
    }

    #[tokio::test]
    async fn waits_for_repeated_needles_from_both_streams_and_reads_fields() {
        let mut p = shell("echo 'a component ready'; echo 'listening url=ws://x:1/ws echo=e' >&2; echo 'b component ready'; sleep 5");
        p.wait_for(&["component ready", "url=", "component ready"]).await;
        assert_eq!(p.url(), "ws://x:1/ws");
        assert_eq!(p.field("echo").as_deref(), Some("e"));
        assert!(p.logged("b component"));
    }

    #[tokio::test]
    #[should_panic(expected = "exited before logging [\"component ready\"]")]
    async fn an_early_exit_names_what_is_missing() {
        shell("echo 'one component ready'").wait_for(&["component ready"; 2]).await;
    }
}
