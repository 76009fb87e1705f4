//! RFC 6455 conformance of the WebSocket layer, measured by the Autobahn
//! WebSocket testsuite's fuzzing client (PyPI `autobahntestsuite`, pinned
//! in tests/peers/install.sh) against the echo of this example.
//!
//! Every case's result is compared with `tests/autobahn/expected.json`:
//! any change, better or worse, fails the test, so an improvement is
//! recorded by updating the file. Left out: 9.* (performance, minutes
//! each). The permessage-deflate cases (12.*, 13.*) send about 8 GB
//! through the echo and take most of the run's time.

use std::path::Path;
use std::time::Duration;

use super::wstest::{self, Results, Selection};

/// Runs the suite's fuzzing client on `cases` against `url`, reporting
/// into `scratch`, and returns its results.
async fn run_suite(url: &str, cases: &[String], exclude: &[String], scratch: &Path) -> Results {
    std::fs::create_dir_all(scratch).unwrap();
    let reports = scratch.join("reports");
    let spec = serde_json::json!({
        "outdir": reports,
        "servers": [{ "agent": "actix-wamp", "url": url }],
        "cases": cases,
        "exclude-cases": exclude,
        "exclude-agent-cases": {},
    });
    let spec_path = scratch.join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let run = wstest::wstest("fuzzingclient", &spec_path, &[], scratch).output();
    let output = tokio::time::timeout(Duration::from_secs(1800), run)
        .await
        .expect("the testsuite finishes within 30 minutes")
        .expect("run the testsuite");
    assert!(output.status.success(), "the testsuite failed: {}", String::from_utf8_lossy(&output.stderr));
    wstest::read_results(&reports, "actix-wamp")
}

#[tokio::test]
async fn the_echo_passes_the_autobahn_testsuite_as_recorded() {
    // Compression on, for the permessage-deflate cases (12.*, 13.*); the
    // others do not offer it.
    let running = super::common::start_with(&[("WAMP_COMPRESSION", "true")]).await;
    let scratch = std::env::temp_dir().join(format!("wstest-{}", std::process::id()));
    // The suite's client is one single-threaded Python process: two of
    // them, on disjoint halves of the cases, take half the time.
    let (first, second) = (scratch.join("a"), scratch.join("b"));
    let selection = Selection::from_env();
    let [(cases_a, exclude_a), (cases_b, exclude_b)] = selection.halves();
    let (mut got, thirteen) = tokio::join!(
        run_suite(&running.echo, &cases_a, &exclude_a, &first),
        run_suite(&running.echo, &cases_b, &exclude_b, &second),
    );
    got.extend(thirteen);
    wstest::compare(&got, "expected.json", &selection, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
}
