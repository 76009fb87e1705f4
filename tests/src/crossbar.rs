//! A Crossbar.io router (the pinned install from `tests/peers/install.sh`)
//! running as a child process on a free loopback port, for testing our
//! client against the reference implementation.
//!
//! Each [`CrossbarRouter`] gets a node directory of its own under the system
//! temporary directory, so tests can run side by side; the directory (with
//! Crossbar's log, keys and pid file) is removed when the router is dropped.

use std::fs::{self, File};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use wamp::protocol::Serializer;

use crate::{open_socket, workspace_root, RawClient};

/// The realm every [`CrossbarRouter`] serves.
pub const CROSSBAR_REALM: &str = "realm1";

/// The public key of `docs/examples/cs-user.key` (as in
/// `docs/examples/cs-user.pub`).
const CS_USER_PUBKEY: &str = "0add7f0604fab0b987c407c2fc5a4a36a0fc666726351c2860caddf44800ee5f";

/// How long [`CrossbarRouter::start`] waits for the router to accept a
/// session before giving up.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long [`CrossbarRouter::stop`] waits for the port to be released.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause between two readiness probes.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// How many bytes of Crossbar's log a readiness panic shows.
const LOG_TAIL: usize = 6_000;

/// Numbers the node directories made by this process.
static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A Crossbar.io router serving one realm ([`CROSSBAR_REALM`]) over
/// WebSocket on `127.0.0.1`, with a role that may call, register, publish
/// and subscribe on any URI. Sessions join anonymously, or with the ticket,
/// WAMP-CRA (plain and salted) and cryptosign principals of
/// `docs/examples/auth.toml` (same authids, secrets and key). Both
/// `wamp.2.json` and `wamp.2.msgpack` are offered.
///
/// ```no_run
/// let mut router = wamp_tests::crossbar::CrossbarRouter::start();
/// // ... connect clients to `router.url` ...
/// router.restart(); // same port: clients can reconnect
/// ```
pub struct CrossbarRouter {
    /// The `ws://` URL of the WebSocket endpoint.
    pub url: String,
    /// The realm the router serves ([`CROSSBAR_REALM`]).
    pub realm: String,
    /// The loopback port the router listens on; kept across restarts.
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl CrossbarRouter {
    /// Starts Crossbar on a free loopback port and returns once a WAMP
    /// session can join its realm. Panics if Crossbar is not installed, or
    /// with the tail of its log if it is not ready within about a minute.
    pub fn start() -> Self {
        let executable = crossbar_executable();
        let port = free_port();
        let dir = fresh_dir();
        let cbdir = dir.join(".crossbar");
        fs::create_dir_all(&cbdir).expect("create the Crossbar node directory");
        fs::write(cbdir.join("config.json"), config(port)).expect("write the Crossbar configuration");
        let mut router = CrossbarRouter {
            url: format!("ws://127.0.0.1:{port}/ws"),
            realm: CROSSBAR_REALM.to_owned(),
            port,
            dir,
            child: None,
        };
        router.spawn(&executable);
        router
    }

    /// The node's temporary directory (holds `.crossbar/` and `crossbar.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Kills the Crossbar process and waits for it to exit, and for the
    /// port to be released. Does nothing if it is not running.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            // The listening socket belongs to Crossbar's router worker, a
            // child of the killed controller: it exits on its own once it
            // loses the controller, a moment later.
            let addr = self.addr();
            let deadline = Instant::now() + STOP_TIMEOUT;
            while TcpStream::connect_timeout(&addr, POLL_INTERVAL).is_ok() && Instant::now() < deadline {
                thread::sleep(POLL_INTERVAL);
            }
        }
    }

    /// Stops the router and starts it again on the same port, returning once
    /// a session can join. Sessions open before the call are gone after it.
    pub fn restart(&mut self) {
        self.stop();
        // A killed node leaves its pid file behind. Crossbar ignores a stale
        // one, but refuses to start if that pid now belongs to another
        // Crossbar process (say, a router of a test running alongside).
        let _ = fs::remove_file(self.dir.join(".crossbar/node.pid"));
        self.spawn(&crossbar_executable());
    }

    /// Starts the process (appending to the log) and waits until ready.
    fn spawn(&mut self, executable: &Path) {
        let log_path = self.log_path();
        let log = File::options().create(true).append(true).open(&log_path).expect("open the Crossbar log");
        let child = Command::new(executable)
            .arg("start")
            .arg("--cbdir")
            .arg(self.dir.join(".crossbar"))
            .args(["--loglevel", "info", "--color", "false"])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("share the log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", executable.display()));
        self.child = Some(child);
        self.wait_ready();
    }

    /// The listening address.
    fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Polls until a WAMP session joins, the process dies, or time runs out.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        let addr = self.addr();
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().expect("poll Crossbar")) {
                self.child = None;
                panic!(
                    "Crossbar exited before it was ready ({status}); its log ends with:\n{}",
                    self.log_tail()
                );
            }
            if TcpStream::connect_timeout(&addr, POLL_INTERVAL).is_ok() && self.session_joins() {
                return;
            }
            if Instant::now() >= deadline {
                self.stop();
                panic!(
                    "Crossbar was not ready on port {} within {READY_TIMEOUT:?}; its log ends with:\n{}",
                    self.port,
                    self.log_tail()
                );
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// Whether a JSON session can join the realm now.
    ///
    /// Crossbar opens its TCP port a moment before it mounts the WebSocket
    /// path on it, so a plain WebSocket upgrade is tried first: in that
    /// window it fails with an HTTP error instead of a panic. Only then is a
    /// session joined with `RawClient::join`, which panics on anything but
    /// WELCOME; that panic is caught (its message still printed) and also
    /// counts as "not ready yet".
    fn session_joins(&self) -> bool {
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        let json = Serializer::Json.subprotocol();
        let upgraded = runtime.block_on(async {
            let opened = tokio::time::timeout(Duration::from_secs(5), open_socket(&self.url, json)).await;
            matches!(opened, Ok(Ok((_, Some(chosen)))) if chosen == json)
        });
        if !upgraded {
            return false;
        }
        let joined = panic::catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(RawClient::join(&self.url, Serializer::Json, &self.realm))
        }));
        joined.is_ok()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("crossbar.log")
    }

    /// The last few kilobytes of Crossbar's log.
    fn log_tail(&self) -> String {
        let log = fs::read(self.log_path()).unwrap_or_default();
        let start = log.len().saturating_sub(LOG_TAIL);
        String::from_utf8_lossy(&log[start..]).into_owned()
    }
}

impl Drop for CrossbarRouter {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// The `crossbar` command of the pinned install; panics with the install
/// command if it is missing.
fn crossbar_executable() -> PathBuf {
    let crossbar = workspace_root().join("tests/peers/.venv-crossbar/bin/crossbar");
    assert!(
        crossbar.exists(),
        "Crossbar is not installed: run tests/peers/install.sh (scripts/test does) before the tests"
    );
    crossbar
}

/// A loopback port nobody listens on right now (the OS picks it; the
/// listener is dropped so Crossbar can bind it).
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
    listener.local_addr().expect("bound address").port()
}

/// A new, empty directory for one router, unique per process and router.
fn fresh_dir() -> PathBuf {
    let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("wamp-tests-crossbar-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create a temporary directory");
    dir
}

/// The node configuration: one router worker with [`CROSSBAR_REALM`], where
/// the `anonymous` role may do anything, and a web transport on
/// `127.0.0.1:port` whose `/ws` path speaks WAMP over WebSocket with JSON
/// and MessagePack and admits anonymous clients in that role.
fn config(port: u16) -> String {
    format!(
        r#"{{
  "version": 2,
  "controller": {{}},
  "workers": [
    {{
      "type": "router",
      "realms": [
        {{
          "name": "{CROSSBAR_REALM}",
          "roles": [
            {{
              "name": "anonymous",
              "permissions": [
                {{
                  "uri": "",
                  "match": "prefix",
                  "allow": {{ "call": true, "register": true, "publish": true, "subscribe": true }},
                  "disclose": {{ "caller": false, "publisher": false }},
                  "cache": true
                }}
              ]
            }}
          ]
        }}
      ],
      "transports": [
        {{
          "type": "web",
          "endpoint": {{ "type": "tcp", "interface": "127.0.0.1", "port": {port} }},
          "paths": {{
            "ws": {{
              "type": "websocket",
              "serializers": ["json", "msgpack"],
              "auth": {{
                "anonymous": {{ "type": "static", "role": "anonymous" }},
                "ticket": {{
                  "type": "static",
                  "principals": {{ "ticket-user": {{ "ticket": "ticket-secret", "role": "anonymous" }} }}
                }},
                "wampcra": {{
                  "type": "static",
                  "users": {{
                    "cra-user": {{ "secret": "cra-secret", "role": "anonymous" }},
                    "cra-salted": {{
                      "secret": "salted-secret", "role": "anonymous",
                      "salt": "interop-salt", "iterations": 100, "keylen": 32
                    }}
                  }}
                }},
                "cryptosign": {{
                  "type": "static",
                  "principals": {{
                    "cs-user": {{ "realm": "{CROSSBAR_REALM}", "role": "anonymous", "authorized_keys": ["{CS_USER_PUBKEY}"] }}
                  }}
                }}
              }}
            }}
          }}
        }}
      ]
    }}
  ]
}}
"#
    )
}
