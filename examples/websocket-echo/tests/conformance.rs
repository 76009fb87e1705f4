//! RFC 6455 conformance of the WebSocket layer, measured by the Autobahn
//! WebSocket testsuite's fuzzing client (PyPI `autobahntestsuite`, pinned
//! in tests/peers/install.sh) against the echo of this example.
//!
//! Every case's result is compared with `tests/autobahn/expected.json`:
//! any change, better or worse, fails the test, so an improvement is
//! recorded by updating the file. Left out: 9.* (performance, minutes
//! each). The permessage-deflate cases (12.*, 13.*) send about 8 GB
//! through the echo and take most of the run's time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// What the suite reports per case: the behaviour, and the closing
/// behaviour.
type Results = BTreeMap<String, (String, String)>;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python 2 the suite was installed for, and where it was installed.
fn testsuite() -> (String, PathBuf) {
    let dir = workspace().join("tests/peers/.wstest");
    let python = std::fs::read_to_string(dir.join("python")).unwrap_or_else(|_| {
        panic!(
            "the Autobahn WebSocket testsuite is not installed in {}: run tests/peers/install.sh \
             (scripts/test does)",
            dir.display()
        )
    });
    (python.trim().to_owned(), dir)
}

fn results(value: &serde_json::Value) -> Results {
    let cases = value.as_object().expect("an object of cases");
    cases
        .iter()
        .map(|(case, result)| {
            let field = |name: &str, index: usize| {
                result
                    .get(name)
                    .or_else(|| result.get(index))
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_else(|| panic!("case {case}: no {name} in {result}"))
                    .to_owned()
            };
            (case.clone(), (field("behavior", 0), field("behaviorClose", 1)))
        })
        .collect()
}

/// Runs the suite's fuzzing client on `cases` against `url`, reporting
/// into `scratch`, and returns its results.
async fn run_suite(url: &str, cases: &[&str], exclude: &[&str], scratch: &Path) -> Results {
    let (python, installed) = testsuite();
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
    // `site.addsitedir` (not PYTHONPATH): the packages installed with
    // `pip --target` include namespace packages that need their .pth files.
    let launcher = format!(
        "import site, sys; site.addsitedir({:?}); \
         sys.argv = ['wstest', '-m', 'fuzzingclient', '-s', {:?}]; \
         from autobahntestsuite.wstest import run; run()",
        installed.display().to_string(),
        spec_path.display().to_string(),
    );
    let run = Command::new(&python)
        .arg("-c")
        .arg(launcher)
        .current_dir(scratch)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(900), run)
        .await
        .expect("the testsuite finishes within 15 minutes")
        .expect("run the testsuite");
    assert!(output.status.success(), "the testsuite failed: {}", String::from_utf8_lossy(&output.stderr));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("index.json")).expect("the suite's index.json"))
            .unwrap();
    results(index.get("actix-wamp").expect("results for our agent"))
}

#[tokio::test]
async fn the_echo_passes_the_autobahn_testsuite_as_recorded() {
    // Compression on, for the permessage-deflate cases (12.*, 13.*); the
    // others do not offer it.
    let running = common::start_with(&[("WAMP_COMPRESSION", "true")]).await;
    let scratch = std::env::temp_dir().join(format!("wstest-{}", std::process::id()));
    // The suite's client is one single-threaded Python process: two of
    // them, on disjoint halves of the cases, take half the time.
    let (first, second) = (scratch.join("a"), scratch.join("b"));
    let (mut got, thirteen) = tokio::join!(
        run_suite(&running.echo, &["*"], &["9.*", "13.*"], &first),
        run_suite(&running.echo, &["13.*"], &[], &second),
    );
    got.extend(thirteen);

    let expected_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/autobahn/expected.json");
    let expected = results(&serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap());
    let mut changes = Vec::new();
    for (case, want) in &expected {
        match got.get(case) {
            Some(have) if have == want => {}
            Some(have) => changes.push(format!("{case}: expected {want:?}, got {have:?}")),
            None => changes.push(format!("{case}: expected {want:?}, not run")),
        }
    }
    for (case, have) in &got {
        if !expected.contains_key(case) {
            changes.push(format!("{case}: not expected, got {have:?}"));
        }
    }
    assert!(
        changes.is_empty(),
        "{} case(s) differ from {} (reports in {}):\n{}",
        changes.len(),
        expected_path.display(),
        scratch.display(),
        changes.join("\n")
    );
    let _ = std::fs::remove_dir_all(&scratch);
}
