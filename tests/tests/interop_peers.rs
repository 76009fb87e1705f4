//! AutobahnPython and AutobahnJS (pinned, installed by
//! `tests/peers/install.sh`) run their full check list against our router,
//! with each serializer. The scripts print `PASS <check>` per check and
//! `DONE <count>`; the test requires every check to pass.
//!
//! `advanced.py` checks the advanced profile features AutobahnPython
//! speaks (publisher and caller identification, black- and whitelisting,
//! pattern subscriptions and registrations, shared registrations,
//! progressive results,
//! canceling, refused options).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::path::Path;
use std::process::Command;

use wamp::protocol::UriPolicy;
use wamp::RouterConfig;
use wamp_tests::{peer_js_dir, peer_python, workspace_root, TestRouter};

/// Checks `interop.py` and `interop.js` run; fewer fail the test.
const CHECKS: usize = 14;

/// Checks `advanced.py` runs.
const ADVANCED_CHECKS: usize = 15;

fn strict_router() -> TestRouter {
    TestRouter::with_config(RouterConfig { uri_check: UriPolicy::Strict, ..RouterConfig::default() })
}

fn run_peer(command: Command, what: &str) {
    run_checks(command, what, CHECKS);
}

fn run_checks(mut command: Command, what: &str, checks: usize) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let passed = stdout.lines().filter(|l| l.starts_with("PASS ")).count();
    let done = stdout.lines().any(|l| l == format!("DONE {checks}"));
    assert!(
        output.status.success() && done && passed == checks,
        "{what}: {passed} of {checks} checks passed (status {})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
}

fn python(script: &Path, url: &str, serializer: &str) -> Command {
    let mut c = Command::new(peer_python());
    c.arg(script).args([url, "realm1", serializer]);
    c
}

fn node(dir: &Path, url: &str, serializer: &str) -> Command {
    let mut c = Command::new("node");
    c.current_dir(dir).arg("interop.js").args([url, "realm1", serializer]);
    c
}

#[test]
fn autobahn_python_json() {
    let router = strict_router();
    let script = workspace_root().join("tests/peers/python/interop.py");
    run_peer(python(&script, &router.url, "json"), "AutobahnPython over JSON");
}

#[test]
fn autobahn_python_msgpack() {
    let router = strict_router();
    let script = workspace_root().join("tests/peers/python/interop.py");
    run_peer(python(&script, &router.url, "msgpack"), "AutobahnPython over MessagePack");
}

#[test]
fn autobahn_python_advanced_json() {
    let router = strict_router();
    let script = workspace_root().join("tests/peers/python/advanced.py");
    run_checks(python(&script, &router.url, "json"), "AutobahnPython advanced over JSON", ADVANCED_CHECKS);
}

#[test]
fn autobahn_python_advanced_msgpack() {
    let router = strict_router();
    let script = workspace_root().join("tests/peers/python/advanced.py");
    run_checks(
        python(&script, &router.url, "msgpack"),
        "AutobahnPython advanced over MessagePack",
        ADVANCED_CHECKS,
    );
}

#[test]
fn autobahn_js_json() {
    let router = strict_router();
    run_peer(node(&peer_js_dir(), &router.url, "json"), "AutobahnJS over JSON");
}

#[test]
fn autobahn_js_msgpack() {
    let router = strict_router();
    run_peer(node(&peer_js_dir(), &router.url, "msgpack"), "AutobahnJS over MessagePack");
}

/// The router with permessage-deflate on: the same checks, every message
/// compressed both ways, and one more check that each connection
/// negotiated it.
fn compressing_router() -> TestRouter {
    TestRouter::with_config(RouterConfig {
        uri_check: UriPolicy::Strict,
        compression: true,
        // Every message but the tiniest goes through the compressor.
        compression_min_size: 16,
        ..RouterConfig::default()
    })
}

#[test]
fn autobahn_python_compressed() {
    let router = compressing_router();
    let script = workspace_root().join("tests/peers/python/interop.py");
    for serializer in ["json", "msgpack"] {
        let mut command = python(&script, &router.url, serializer);
        command.env("WAMP_TEST_DEFLATE", "1");
        run_checks(command, &format!("AutobahnPython compressed over {serializer}"), CHECKS + 1);
    }
}

#[test]
fn autobahn_js_compressed() {
    let router = compressing_router();
    for serializer in ["json", "msgpack"] {
        let mut command = node(&peer_js_dir(), &router.url, serializer);
        command.env("WAMP_TEST_DEFLATE", "1");
        run_checks(command, &format!("AutobahnJS compressed over {serializer}"), CHECKS + 1);
    }
}

#[test]
fn without_compression_the_deflate_check_fails() {
    // The check is real: against the default router it does not pass.
    let router = strict_router();
    let script = workspace_root().join("tests/peers/python/interop.py");
    let mut command = python(&script, &router.url, "json");
    command.env("WAMP_TEST_DEFLATE", "1");
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains("FAIL permessage-deflate in use"), "{stdout}");
    let mut command = node(&peer_js_dir(), &router.url, "json");
    command.env("WAMP_TEST_DEFLATE", "1");
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{stdout}");
    assert!(stdout.contains("FAIL permessage-deflate in use"), "{stdout}");
}
