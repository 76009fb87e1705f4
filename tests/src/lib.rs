//! Helpers for the workspace's integration tests: a router on a free
//! loopback port in its own thread, a raw WebSocket WAMP client that can
//! send anything (including what no well-behaved peer sends), and the
//! locations of the pinned third-party peers, and programs started as a
//! user runs them ([`Process`]).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

pub mod crossbar;
pub mod process;

pub use process::{app_command, Process};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use wamp::protocol::{Dict, Id, Serializer, Value, WampMessage};
use wamp::{Router, RouterConfig};

/// How long a test waits for any single expected frame.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// A router serving on `127.0.0.1:0` in a thread of its own.
pub struct TestRouter {
    /// The `ws://` URL of the endpoint.
    pub url: String,
    /// The bound address.
    pub addr: SocketAddr,
    router: Router,
    system: actix_web::rt::System,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestRouter {
    /// Starts a router with default settings on a free port.
    pub fn start() -> Self {
        Self::with_config(RouterConfig::default())
    }

    /// Starts a router with `config` (its `listen` is replaced by a free
    /// loopback port).
    pub fn with_config(mut config: RouterConfig) -> Self {
        config.listen = "127.0.0.1:0".into();
        if config.workers == 0 {
            config.workers = 2;
        }
        Self::spawn(config)
    }

    fn spawn(config: RouterConfig) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                let router = Router::new(config);
                let server = wamp::transport::Server::bind(router.clone()).expect("bind a loopback port");
                tx.send((server.url(), server.local_addr(), router, actix_web::rt::System::current()))
                    .expect("test thread waits");
                actix_web::rt::spawn(server.run());
            });
            // Runs until `System::stop` (on drop).
            let _ = system.run();
        });
        let (url, addr, router, system) = rx.recv().expect("router thread started");
        TestRouter { url, addr, router, system, thread: Some(thread) }
    }

    /// Stops the router (every connection drops) and starts a fresh one
    /// on the same address, as a router restart looks to its clients.
    pub fn restart(&mut self) {
        let config = self.router.config().clone();
        self.stop();
        let mut config = RouterConfig { listen: self.addr.to_string(), ..config };
        if config.workers == 0 {
            config.workers = 2;
        }
        let started = Self::spawn(config);
        *self = started;
    }

    /// Stops the router's actix system and waits, at most
    /// [`STOP_TIMEOUT`], for its thread. A router that does not stop is a
    /// failure of its own; but while a test is already failing (this runs
    /// from `Drop` during the panic) the wait must not hide the failure
    /// behind a hang, so the thread is then left behind.
    fn stop(&mut self) {
        self.system.stop();
        let Some(thread) = self.thread.take() else { return };
        let deadline = std::time::Instant::now() + STOP_TIMEOUT;
        while !thread.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if thread.is_finished() {
            let _ = thread.join();
        } else if !std::thread::panicking() {
            panic!("the router's thread did not stop within {STOP_TIMEOUT:?} of System::stop");
        }
    }

    /// The router handle.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Runs `Router::shutdown` inside the router's actix system and returns
    /// once it has been started.
    pub fn begin_shutdown(&self, grace: Duration) {
        let router = self.router.clone();
        self.system.arbiter().spawn(async move {
            router.shutdown(grace).await;
        });
    }
}

/// How long [`TestRouter`] waits for its router to stop.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

impl Drop for TestRouter {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP relay on a free loopback port in front of a router, for tests
/// that lose the connection without a word from the router: [`Relay::cut`]
/// drops every relayed connection at once (the peer reads the end of the
/// stream, no GOODBYE) and takes no more.
pub struct Relay {
    /// The `ws://` URL that reaches the router through the relay.
    pub url: String,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    /// Relays to `router` (its WebSocket path kept). Runs on the current
    /// runtime.
    pub async fn start(router: &TestRouter) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let url = router.url.replacen(&router.addr.port().to_string(), &port.to_string(), 1);
        let (cut, mut on_cut) = tokio::sync::watch::channel(false);
        let target = router.addr;
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    accepted = listener.accept() => accepted,
                    _ = on_cut.changed() => return,
                };
                let Ok((mut inbound, _)) = accepted else { return };
                let mut on_cut = on_cut.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = on_cut.changed() => {}
                    }
                });
            }
        });
        Relay { url, cut }
    }

    /// Drops every relayed connection, and the listener.
    pub fn cut(&self) {
        let _ = self.cut.send(true);
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WAMP client that speaks raw frames, for tests.
pub struct RawClient {
    ws: Socket,
    /// The negotiated serializer.
    pub serializer: Serializer,
}

/// Opens a WebSocket offering `protocols`; returns the socket and the
/// negotiated subprotocol, or the HTTP error.
pub async fn open_socket(
    url: &str,
    protocols: &str,
) -> Result<(Socket, Option<String>), tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request()?;
    if !protocols.is_empty() {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_str(protocols).expect("header"));
    }
    let (ws, response) = tokio_tungstenite::connect_async(request).await?;
    let chosen =
        response.headers().get("Sec-WebSocket-Protocol").and_then(|v| v.to_str().ok()).map(str::to_owned);
    Ok((ws, chosen))
}

impl RawClient {
    /// Connects offering only `serializer`'s subprotocol.
    pub async fn connect(url: &str, serializer: Serializer) -> Self {
        let (ws, chosen) = open_socket(url, serializer.subprotocol()).await.expect("websocket connects");
        assert_eq!(chosen.as_deref(), Some(serializer.subprotocol()), "negotiated subprotocol");
        RawClient { ws, serializer }
    }

    /// Connects and joins `realm`; returns the client and its session id.
    pub async fn join(url: &str, serializer: Serializer, realm: &str) -> (Self, Id) {
        let mut client = Self::connect(url, serializer).await;
        client.send(&hello(realm)).await;
        match client.recv().await {
            WampMessage::Welcome { session, .. } => (client, session),
            other => panic!("expected WELCOME, got {other:?}"),
        }
    }

    /// Sends a message.
    pub async fn send(&mut self, message: &WampMessage) {
        let data = self.serializer.encode(message).expect("encode");
        if self.serializer.is_binary() {
            self.send_binary(data).await;
        } else {
            self.send_text(String::from_utf8(data).expect("json is utf-8")).await;
        }
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: impl Into<String>) {
        self.ws.send(Frame::text(text.into())).await.expect("send a text frame");
    }

    /// Sends a binary frame.
    pub async fn send_binary(&mut self, data: Vec<u8>) {
        self.ws.send(Frame::binary(data)).await.expect("send a binary frame");
    }

    /// Sends a ping with `payload`; `false` if the socket did not take it
    /// within `within` (the router stopped reading).
    pub async fn try_ping(&mut self, payload: Vec<u8>, within: Duration) -> bool {
        matches!(tokio::time::timeout(within, self.ws.send(Frame::Ping(payload.into()))).await, Ok(Ok(())))
    }

    /// Sends a message; `false` if the socket did not take it within
    /// `within` (the router stopped reading).
    pub async fn try_send(&mut self, message: &WampMessage, within: Duration) -> bool {
        let data = self.serializer.encode(message).expect("encode");
        let frame = if self.serializer.is_binary() {
            Frame::binary(data)
        } else {
            Frame::text(String::from_utf8(data).expect("json is utf-8"))
        };
        matches!(tokio::time::timeout(within, self.ws.send(frame)).await, Ok(Ok(())))
    }

    /// Sends `data` as a message split into frames of `chunk` bytes (a first
    /// frame, continuations, and a final one).
    pub async fn send_fragmented(&mut self, data: &[u8], chunk: usize) {
        let pieces: Vec<&[u8]> = data.chunks(chunk.max(1)).collect();
        for (i, piece) in pieces.iter().enumerate() {
            self.send_fragment(piece, i == 0, i + 1 == pieces.len()).await;
        }
    }

    /// Sends one fragment of a message: the `first` opens a text (JSON) or
    /// binary (MessagePack) message, the others continue it, the `last`
    /// ends it.
    pub async fn send_fragment(&mut self, piece: &[u8], first: bool, last: bool) {
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        use tokio_tungstenite::tungstenite::protocol::frame::Frame as RawFrame;
        let kind = if self.serializer.is_binary() { Data::Binary } else { Data::Text };
        let opcode = if first { OpCode::Data(kind) } else { OpCode::Data(Data::Continue) };
        let frame = RawFrame::message(piece.to_vec(), opcode, last);
        self.ws.send(Frame::Frame(frame)).await.expect("send a fragment");
    }

    /// The next data or close frame (pings and pongs skipped); `None` when
    /// the connection is gone.
    pub async fn next_frame(&mut self) -> Option<Frame> {
        loop {
            let frame = tokio::time::timeout(STEP_TIMEOUT, self.ws.next())
                .await
                .expect("a frame within the step timeout");
            match frame {
                None | Some(Err(_)) => return None,
                Some(Ok(Frame::Ping(_) | Frame::Pong(_))) => continue,
                Some(Ok(frame)) => return Some(frame),
            }
        }
    }

    /// The next WAMP message; panics on anything else.
    pub async fn recv(&mut self) -> WampMessage {
        match self.next_frame().await {
            Some(Frame::Text(text)) => {
                self.serializer.decode(text.as_bytes()).expect("valid WAMP from the router")
            }
            Some(Frame::Binary(data)) => self.serializer.decode(&data).expect("valid WAMP from the router"),
            other => panic!("expected a WAMP message, got {other:?}"),
        }
    }

    /// Expects the router to end the connection: a close frame (its code is
    /// returned) or the socket simply ending.
    pub async fn expect_closed(&mut self) -> Option<u16> {
        match self.next_frame().await {
            Some(Frame::Close(frame)) => frame.map(|f| f.code.into()),
            None => None,
            Some(other) => panic!("expected the connection to close, got {other:?}"),
        }
    }

    /// Expects the router's GOODBYE `wamp.close.system_shutdown`, answers
    /// it, and expects the connection to close.
    pub async fn answer_shutdown(&mut self) {
        use wamp::protocol::errors::{CLOSE_SYSTEM_SHUTDOWN, GOODBYE_AND_OUT};
        match self.recv().await {
            WampMessage::Goodbye { reason, .. } => assert_eq!(reason, CLOSE_SYSTEM_SHUTDOWN),
            other => panic!("expected GOODBYE, got {other:?}"),
        }
        self.send(&WampMessage::Goodbye { details: Dict::new(), reason: GOODBYE_AND_OUT.into() }).await;
        self.expect_closed().await;
    }

    /// Expects an ABORT or GOODBYE with `reason`, then the close.
    pub async fn expect_ended_with(&mut self, reason: &str) {
        match self.recv().await {
            WampMessage::Abort { reason: r, .. } | WampMessage::Goodbye { reason: r, .. } => {
                assert_eq!(r, reason, "close reason")
            }
            other => panic!("expected ABORT or GOODBYE ({reason}), got {other:?}"),
        }
        self.expect_closed().await;
    }
}

/// A HELLO announcing all four client roles.
pub fn hello(realm: &str) -> WampMessage {
    let role = || Value::Dict(Dict::new());
    let roles: Dict =
        ["caller", "callee", "publisher", "subscriber"].into_iter().map(|r| (r.to_owned(), role())).collect();
    WampMessage::Hello {
        realm: realm.into(),
        details: Dict::from([("roles".to_owned(), Value::Dict(roles))]),
    }
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Python interpreter of the pinned AutobahnPython install; panics with
/// the install command if it is missing.
pub fn peer_python() -> PathBuf {
    let python = workspace_root().join("tests/peers/.venv/bin/python");
    assert!(
        python.exists(),
        "AutobahnPython is not installed: run tests/peers/install.sh (scripts/test does) before the tests"
    );
    python
}

/// The folder of the pinned AutobahnJS install; panics with the install
/// command if it is missing.
pub fn peer_js_dir() -> PathBuf {
    let dir = workspace_root().join("tests/peers/js");
    assert!(
        dir.join("node_modules/autobahn").is_dir(),
        "AutobahnJS is not installed: run tests/peers/install.sh (scripts/test does) before the tests"
    );
    dir
}

/// An in-process session of `router`'s realm `realm`, identified as
/// `authid` (trusted, as a component is), started on the current arbiter
/// and not yet joined: wait for [`Client::joined`](wamp::client::Client::joined).
pub fn in_process(router: &wamp::Router, realm: &str, authid: &str) -> wamp::client::Client {
    let handle = wamp::internals::realm(router, realm).expect("the realm starts");
    wamp::internals::start_client(wamp::internals::SessionActor::new(
        wamp::internals::Start::Local {
            realm: handle,
            realm_name: realm.into(),
            identity: wamp::internals::local_identity(authid),
        },
        wamp::internals::Hooks::default(),
        None,
    ))
}

/// The settings of a host whose embedded router listens on a free
/// loopback port (see [`serve`]).
pub fn embedded() -> wamp::component::HostConfig {
    let mut config = wamp::component::HostConfig::default();
    config.router.listen = "127.0.0.1:0".into();
    config
}

/// A host configuration whose components join the router at `url` (a
/// [`TestRouter`]'s), with every other setting at its default.
pub fn remote(url: &str) -> wamp::component::HostConfig {
    wamp::component::HostConfig { url: Some(url.to_owned()), ..wamp::component::HostConfig::default() }
}

/// Starts `host` and waits until all its components have joined.
pub async fn start_joined(host: wamp::Host) -> wamp::component::RunningHost {
    let running = host.start().expect("the host starts");
    running.joined().await.expect("every component joined");
    running
}

/// Serves the WebSocket endpoint of `running`, a host with an embedded
/// router whose `listen` address is set (`127.0.0.1:0` in tests), on the
/// current actix system, and waits until all its components have joined:
/// the endpoint's URL.
pub async fn serve(running: &wamp::component::RunningHost) -> String {
    let server = running.bind().expect("an embedded router").expect("bind a loopback port");
    let url = server.url();
    actix_web::rt::spawn(server.run());
    running.joined().await.expect("every component joined");
    url
}

/// Where a test runs its components.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Beside an embedded router, whose endpoint the host serves.
    Embedded,
    /// Joined over WebSocket to a [`TestRouter`] in a thread of its own.
    Remote,
}

/// Declares two tests that run `run(mode)`, an `async fn` taking a
/// [`Mode`]: `embedded` and `remote`, or the two names given after `=>`.
///
/// ```text
/// wamp_tests::embedded_and_remote!(check);
/// wamp_tests::embedded_and_remote!(check_again => again_embedded, again_remote);
/// ```
#[macro_export]
macro_rules! embedded_and_remote {
    ($run:path) => {
        $crate::embedded_and_remote!($run => embedded, remote);
    };
    ($run:path => $embedded:ident, $remote:ident) => {
        #[actix_web::test]
        async fn $embedded() {
            $run($crate::Mode::Embedded).await;
        }

        #[actix_web::test]
        async fn $remote() {
            $run($crate::Mode::Remote).await;
        }
    };
}

/// A running host whose components have all joined, and the URL a client
/// reaches them at, for a test that runs the same checks embedded and
/// remote.
pub struct TestHost {
    /// The host.
    pub running: wamp::component::RunningHost,
    /// The `ws://` URL of the router the components joined.
    pub url: String,
    /// The router of a remote host; it stops when dropped.
    router: Option<TestRouter>,
}

impl TestHost {
    /// Starts the host `make` builds from the settings for `mode` (see
    /// [`embedded`] and [`remote`]), with a router at default settings.
    pub async fn start(mode: Mode, make: impl FnOnce(wamp::component::HostConfig) -> wamp::Host) -> Self {
        Self::with_router(mode, RouterConfig::default(), make).await
    }

    /// The same with `router` as the router's settings (its `listen` is
    /// replaced by a free loopback port), embedded or not.
    pub async fn with_router(
        mode: Mode,
        router: RouterConfig,
        make: impl FnOnce(wamp::component::HostConfig) -> wamp::Host,
    ) -> Self {
        match mode {
            Mode::Embedded => {
                let mut config = embedded();
                config.router = RouterConfig { listen: config.router.listen, ..router };
                let running = make(config).start().expect("the host starts");
                let url = serve(&running).await;
                TestHost { running, url, router: None }
            }
            Mode::Remote => {
                let router = TestRouter::with_config(router);
                let running = start_joined(make(remote(&router.url))).await;
                TestHost { running, url: router.url.clone(), router: Some(router) }
            }
        }
    }

    /// Shuts the host down, then stops a remote host's router.
    pub async fn shutdown(self) {
        self.running.shutdown().await;
        drop(self.router);
    }
}

/// Calls `procedure` until its callee has registered it (retrying on
/// `wamp.error.no_such_procedure` for up to five seconds), for tests where
/// a callee is still joining or reconnecting.
pub async fn call_when_registered<T>(
    client: &wamp::client::Client,
    procedure: &'static str,
    args: impl serde::Serialize + Clone,
) -> T
where
    T: serde::de::DeserializeOwned + Send + 'static,
{
    for _ in 0..100 {
        match client.call::<T>(procedure, args.clone()).await {
            Ok(v) => return v,
            Err(e) if e.uri == wamp::protocol::errors::NO_SUCH_PROCEDURE => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            Err(e) => panic!("calling {procedure}: {e}"),
        }
    }
    panic!("{procedure} was not registered within five seconds")
}

/// Asks `probe` every 10 ms, for up to ten seconds, until what it answers
/// satisfies `done`; returns the last answer either way, for the test to
/// assert on (so a failure shows what was seen).
pub async fn poll_until<T, F>(mut probe: impl FnMut() -> F, done: impl Fn(&T) -> bool) -> T
where
    F: std::future::Future<Output = T>,
{
    let mut seen = probe().await;
    for _ in 0..1000 {
        if done(&seen) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        seen = probe().await;
    }
    seen
}

/// A component answering `"pong"` to `com.test.pinger.ping`, at once: the
/// ping of [`first_of`].
#[derive(Default)]
pub struct Pinger;

#[wamp::component(prefix = "com.test.pinger", inventory = false)]
impl Pinger {
    /// Answers `"pong"`.
    #[wamp::procedure("ping")]
    fn ping(&self) -> &'static str {
        "pong"
    }
}

/// Which finishes first: `long` (a run of 700 ms), or a call to
/// [`Pinger`]'s `com.test.pinger.ping` made 150 ms after it started;
/// `done` names `long`, `"ping"` the ping. A ping that comes first shows
/// that the long run holds up neither the router nor the pinger.
pub async fn first_of<T, E: std::fmt::Debug>(
    long: impl std::future::Future<Output = Result<T, E>>,
    pinger: &wamp::client::Client,
    done: &'static str,
) -> &'static str {
    use futures_util::future::{select, Either};
    let long = std::pin::pin!(long);
    let ping = std::pin::pin!(async {
        // The long run is under way by now.
        tokio::time::sleep(Duration::from_millis(150)).await;
        pinger.call::<String>("com.test.pinger.ping", ()).await
    });
    match select(long, ping).await {
        Either::Left((outcome, ping)) => {
            outcome.expect("the long run");
            assert_eq!(ping.await.expect("the ping"), "pong");
            done
        }
        Either::Right((pong, long)) => {
            assert_eq!(pong.expect("the ping"), "pong");
            long.await.expect("the long run");
            "ping"
        }
    }
}

/// Certificates made at test time: a CA, and certificates it signs, as PEM
/// files in a temporary folder.
pub mod certs {
    use std::path::PathBuf;

    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

    /// A test CA and its folder.
    pub struct TestCa {
        issuer: Issuer<'static, KeyPair>,
        dir: tempfile::TempDir,
        /// The CA certificate's PEM file (what clients trust).
        pub ca_file: PathBuf,
    }

    /// A certificate chain and key file for a server.
    pub struct ServerCert {
        /// The certificate chain (PEM).
        pub cert_file: PathBuf,
        /// The private key (PEM).
        pub key_file: PathBuf,
    }

    impl TestCa {
        /// A new CA.
        pub fn new() -> Self {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, "actix-wamp test CA");
            let cert = params.self_signed(&key).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let ca_file = dir.path().join("ca.pem");
            std::fs::write(&ca_file, cert.pem()).unwrap();
            TestCa { issuer: Issuer::new(params, key), dir, ca_file }
        }

        /// A certificate for `localhost` and `127.0.0.1`, valid now, or
        /// expired a year ago if `expired`.
        pub fn server(&self, name: &str, expired: bool) -> ServerCert {
            let key = KeyPair::generate().unwrap();
            let mut params =
                CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
            params.distinguished_name.push(DnType::CommonName, "localhost");
            if expired {
                params.not_before = rcgen::date_time_ymd(2020, 1, 1);
                params.not_after = rcgen::date_time_ymd(2021, 1, 1);
            }
            let cert = params.signed_by(&key, &self.issuer).unwrap();
            let cert_file = self.dir.path().join(format!("{name}.pem"));
            let key_file = self.dir.path().join(format!("{name}.key"));
            std::fs::write(&cert_file, cert.pem()).unwrap();
            std::fs::write(&key_file, key.serialize_pem()).unwrap();
            ServerCert { cert_file, key_file }
        }
    }

    impl Default for TestCa {
        fn default() -> Self {
            Self::new()
        }
    }
}

/// The HTTP status of a WebSocket upgrade to `url` offering `protocol`,
/// with `origin` in its `Origin` header if given: 101 when accepted.
pub async fn upgrade_status(url: &str, protocol: Option<&str>, origin: Option<&str>) -> u16 {
    let mut request = url.into_client_request().unwrap();
    if let Some(protocol) = protocol {
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_str(protocol).unwrap());
    }
    if let Some(origin) = origin {
        request.headers_mut().insert("Origin", HeaderValue::from_str(origin).unwrap());
    }
    match tokio::time::timeout(STEP_TIMEOUT, tokio_tungstenite::connect_async(request))
        .await
        .expect("an answer")
    {
        Ok((mut ws, response)) => {
            let _ = ws.close(None).await;
            response.status().as_u16()
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("upgrade to {url}: {e}"),
    }
}

/// Runs an AutobahnPython check script (under `tests/peers/python/`)
/// against `url` with each serializer, with `env` set; fails unless it
/// exits successfully after printing `DONE <checks>`.
pub async fn python_checks(script: &str, url: &str, env: &[(&str, &str)], checks: usize) {
    let script = workspace_root().join("tests/peers/python").join(script);
    for serializer in ["json", "msgpack"] {
        let output = tokio::process::Command::new(peer_python())
            .arg(&script)
            .args([url, "realm1", serializer])
            .envs(env.iter().copied())
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.lines().any(|l| l == format!("DONE {checks}")),
            "AutobahnPython {} over {serializer}:\n{stdout}\n{}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Serves `make`'s plain WebSocket handlers at `/ws` on a free loopback
/// port, in an actix system of its own; returns the URL.
pub fn serve_websocket<H, F>(settings: wamp::websocket::Settings, make: F) -> String
where
    H: wamp::websocket::WebSocketHandler,
    F: Fn() -> H + Send + Clone + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = actix_web::HttpServer::new(move || {
                actix_web::App::new().service(wamp::websocket::endpoint(
                    "/ws",
                    settings.clone(),
                    make.clone(),
                ))
            })
            .workers(1)
            .bind("127.0.0.1:0")
            .expect("bind a loopback port");
            tx.send(server.addrs()[0]).expect("the test waits");
            let _ = server.run().await;
        });
    });
    format!("ws://{}/ws", rx.recv().expect("server started"))
}

impl TestRouter {
    /// A router serving `wss://` with `cert` and otherwise default settings.
    pub fn with_tls(cert: &certs::ServerCert) -> TestRouter {
        TestRouter::with_config(RouterConfig {
            tls_cert: Some(cert.cert_file.display().to_string()),
            tls_key: Some(cert.key_file.display().to_string()),
            ..RouterConfig::default()
        })
    }
}

/// A plain WebSocket handler that sends a WAMP HELLO for `realm1` as JSON
/// text, passes on the first text message back (a WELCOME or an ABORT)
/// and closes.
pub struct PlainHello(pub tokio::sync::mpsc::UnboundedSender<String>);

impl wamp::websocket::WebSocketHandler for PlainHello {
    fn on_open(&mut self, socket: &mut wamp::websocket::Socket) {
        let hello = r#"[1,"realm1",{"roles":{"caller":{}}}]"#;
        let _ = socket.send(wamp::websocket::WebSocketMessage::Text(hello.into()));
    }

    fn on_message(
        &mut self,
        socket: &mut wamp::websocket::Socket,
        message: wamp::websocket::WebSocketMessage,
    ) {
        if let wamp::websocket::WebSocketMessage::Text(text) = message {
            let _ = self.0.send(text);
        }
        socket.close(1000, "");
    }
}

/// An HTTP/1.1 response: status code and body.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body as text (lossy UTF-8).
    pub body: String,
}

/// Sends one HTTP/1.1 request (`Connection: close`) to `addr` and reads the
/// whole response; `body` goes as `application/json` when given. Enough for
/// tests of REST routes beside the WAMP endpoint, without an HTTP client
/// crate.
pub async fn http_request(addr: &str, method: &str, path: &str, body: Option<&str>) -> HttpResponse {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = TcpStream::connect(addr).await.unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(body) = body {
        request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or_default());
    stream.write_all(request.as_bytes()).await.unwrap_or_else(|e| panic!("send to {addr}: {e}"));
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut response))
        .await
        .unwrap_or_else(|_| panic!("{method} {path}: no complete response in 10 s"))
        .unwrap_or_else(|e| panic!("read from {addr}: {e}"));
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("not an HTTP response: {text}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head}"));
    let chunked = head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding: chunked"));
    let body = if chunked { dechunk(body) } else { body.to_owned() };
    HttpResponse { status, body }
}

/// The payload of a chunked body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}
