//! RFC 6455 conformance of our WebSocket client, measured by the Autobahn
//! WebSocket testsuite's fuzzing server (PyPI `autobahntestsuite`, pinned
//! in tests/peers/install.sh): the client ([`wamp::websocket::connect`],
//! offering permessage-deflate) runs every case as an echo, as the suite
//! expects of a client.
//!
//! Every case's result is compared with
//! `tests/autobahn/expected-client.json`: any change, better or worse,
//! fails the test. Which cases run: see
//! [`Selection`](super::wstest::Selection) (`WSTEST_FULL=1` for all).

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use super::wstest::{self, Results, Selection};
use wamp::websocket::{self, ClientOptions, Compression, Socket, WebSocketHandler, WebSocketMessage};

/// Sends every message back.
struct Echo;

impl WebSocketHandler for Echo {
    fn on_message(&mut self, socket: &mut Socket, message: WebSocketMessage) {
        let _ = socket.send(message);
    }
}

/// Keeps the text messages it gets.
struct Collect(Rc<RefCell<Vec<String>>>);

impl WebSocketHandler for Collect {
    fn on_message(&mut self, _: &mut Socket, message: WebSocketMessage) {
        if let WebSocketMessage::Text(text) = message {
            self.0.borrow_mut().push(text);
        }
    }
}

fn options(url: String) -> ClientOptions {
    ClientOptions::new(url).compression(Compression::enabled()).connect_timeout(Duration::from_secs(30))
}

/// Starts the suite's fuzzing server on `cases`, reporting into
/// `scratch/reports`, and returns it with its URL once it listens.
async fn fuzzing_server(
    cases: &[String],
    exclude: &[String],
    scratch: &Path,
) -> (tokio::process::Child, String) {
    std::fs::create_dir_all(scratch).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("ws://127.0.0.1:{port}");
    let spec = serde_json::json!({
        "url": url,
        "outdir": scratch.join("reports"),
        "cases": cases,
        "exclude-cases": exclude,
        "exclude-agent-cases": {},
    });
    let spec_path = scratch.join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    // Its errors go to a file: a pipe nobody reads would stop it once full.
    let log = scratch.join("stderr.log");
    let mut server = wstest::wstest("fuzzingserver", &spec_path, &["--webport", "0"], scratch)
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    for _ in 0..600 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return (server, url);
        }
        if let Ok(Some(status)) = server.try_wait() {
            panic!(
                "the fuzzing server ended ({status}): {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the fuzzing server did not listen within 60 s");
}

/// Runs every case the server at `url` has, then has it write its
/// reports, and returns the results.
async fn run_cases(url: &str, scratch: &Path) -> Results {
    let texts = Rc::new(RefCell::new(Vec::new()));
    let counter =
        websocket::connect(options(format!("{url}/getCaseCount")), Collect(texts.clone())).await.unwrap();
    counter.closed().await;
    let count: usize = texts.borrow().first().expect("a case count").parse().expect("a number");
    assert!(count > 0, "no cases");
    for case in 1..=count {
        let case_url = format!("{url}/runCase?case={case}&agent=actix-wamp");
        let connection = websocket::connect(options(case_url), Echo).await.unwrap();
        tokio::time::timeout(Duration::from_secs(120), connection.closed())
            .await
            .unwrap_or_else(|_| panic!("case {case} of {url} did not end within 2 minutes"));
    }
    let update = format!("{url}/updateReports?agent=actix-wamp");
    websocket::connect(options(update), Echo).await.unwrap().closed().await;
    wstest::read_results(&scratch.join("reports"), "actix-wamp")
}

#[actix_web::test]
async fn the_client_passes_the_autobahn_fuzzing_server_as_recorded() {
    let scratch = std::env::temp_dir().join(format!("wstest-client-{}", std::process::id()));
    // The suite's server is one single-threaded Python process: two of
    // them, on disjoint halves of the cases, take half the time.
    let (first, second) = (scratch.join("a"), scratch.join("b"));
    let selection = Selection::from_env();
    let [(cases_a, exclude_a), (cases_b, exclude_b)] = selection.halves();
    let (_a, url_a) = fuzzing_server(&cases_a, &exclude_a, &first).await;
    let (_b, url_b) = fuzzing_server(&cases_b, &exclude_b, &second).await;
    let (mut got, thirteen) = tokio::join!(run_cases(&url_a, &first), run_cases(&url_b, &second));
    got.extend(thirteen);
    wstest::compare(&got, "expected-client.json", &selection, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
}
