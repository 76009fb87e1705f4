//! `wamp new` as a newcomer uses it: scaffold an app next to a local
//! checkout of the framework, build and test it, run it, and call it with
//! `wamp call`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use tokio::process::Command;
use wamp_tests::{app_command, Process};

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// A folder for this test's apps, outside the checkout (whose workspace
/// would otherwise claim them), emptied first; and a build folder kept
/// across runs.
fn workspace(name: &str) -> (PathBuf, PathBuf) {
    let apps = std::env::temp_dir().join(format!("wamp-new-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&apps);
    std::fs::create_dir_all(&apps).unwrap();
    (apps, Path::new(env!("CARGO_TARGET_TMPDIR")).join("wamp-new-target"))
}

async fn wamp(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_wamp")).args(args).env_remove("WAMP_URL").output();
    tokio::time::timeout(Duration::from_secs(30), output).await.expect("wamp ends").expect("run wamp")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn a_new_app_builds_passes_its_tests_runs_and_answers_wamp_call() {
    let (apps, target) = workspace("scaffolded");
    let framework = checkout().join("framework");
    let made = wamp(&[
        "new",
        "demo-app",
        "--path",
        apps.to_str().unwrap(),
        "--framework-path",
        framework.to_str().unwrap(),
    ])
    .await;
    assert!(made.status.success(), "{}", text(&made.stderr));
    assert!(text(&made.stdout).contains("cargo run"), "it says what to do next: {}", text(&made.stdout));
    let app = apps.join("demo-app");
    // The versions this checkout is tested with, so that the build needs no
    // registry and matches CI.
    std::fs::copy(checkout().join("Cargo.lock"), app.join("Cargo.lock")).unwrap();

    // Its own tests, with warnings as errors: the template must compile clean.
    let tested = Command::new(env!("CARGO"))
        .arg("test")
        .current_dir(&app)
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", "-D warnings")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .await
        .expect("run cargo test");
    let report = text(&tested.stdout);
    assert!(tested.status.success(), "cargo test of the new app failed:\n{report}\n{}", text(&tested.stderr));
    for test in ["greets_by_name_and_refuses_an_empty_name", "remembers_the_notes_published_to_it"] {
        assert!(report.contains(&format!("test {test} ... ok")), "{test} did not pass:\n{report}");
    }

    // Run as `cargo run` would (wamp.toml in the working directory), on a
    // free port.
    let mut running = Process::start(app_command(target.join("debug").join("demo-app")).current_dir(&app));
    running.wait_for(&["url=", "component ready"]).await;
    let url = running.url();

    let greeted = wamp(&["call", "com.example.demo_app.greet", "Ada", "--url", &url]).await;
    assert!(greeted.status.success(), "{}", text(&greeted.stderr));
    assert_eq!(text(&greeted.stdout).trim(), r#"{"args":["Hello, Ada!"],"kwargs":{}}"#);
    let refused = wamp(&["call", "com.example.demo_app.greet", "", "--url", &url]).await;
    assert!(!refused.status.success());
    assert!(
        text(&refused.stderr).contains("com.example.demo_app.error.no_name"),
        "{}",
        text(&refused.stderr)
    );

    // The AutobahnPython script of the app's README, as a reader would paste it.
    let readme = std::fs::read_to_string(app.join("README.md")).unwrap();
    let script = readme.split("```python\n").nth(1).and_then(|rest| rest.split("```").next()).unwrap();
    let script_file = apps.join("greet.py");
    std::fs::write(&script_file, script.replace("ws://127.0.0.1:8080/ws", &url)).unwrap();
    let python = Command::new(wamp_tests::peer_python()).arg(&script_file).kill_on_drop(true).output();
    let python =
        tokio::time::timeout(Duration::from_secs(30), python).await.expect("the script ends").unwrap();
    assert!(python.status.success(), "{}", text(&python.stderr));
    let printed = text(&python.stdout);
    assert!(printed.lines().any(|line| line == "Hello, Python!"), "{printed}\n{}", text(&python.stderr));

    let published = wamp(&["publish", "com.example.demo_app.note", "hi", "--url", &url]).await;
    assert!(published.status.success(), "{}", text(&published.stderr));
    let mut notes = String::new();
    for _ in 0..50 {
        let called = wamp(&["call", "com.example.demo_app.notes", "--url", &url]).await;
        assert!(called.status.success(), "{}", text(&called.stderr));
        notes = text(&called.stdout);
        if notes.contains("hi") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(notes.trim(), r#"{"args":[["hi"]],"kwargs":{}}"#);
    drop(running);
    std::fs::remove_dir_all(apps).unwrap();
}

#[tokio::test]
async fn it_refuses_a_bad_name_an_existing_folder_and_a_wrong_framework_path() {
    let (apps, _) = workspace("refused");
    let dir = apps.to_str().unwrap();
    let bad_name = wamp(&["new", "My App", "--path", dir]).await;
    assert!(!bad_name.status.success());
    assert!(text(&bad_name.stderr).contains("cannot name an application"), "{}", text(&bad_name.stderr));

    let first = wamp(&["new", "twice", "--path", dir]).await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    let manifest = std::fs::read_to_string(apps.join("twice").join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"twice\""), "{manifest}");
    assert!(
        manifest.contains(&format!("wamp = \"{}\"", env!("CARGO_PKG_VERSION").rsplit_once('.').unwrap().0))
    );
    let again = wamp(&["new", "twice", "--path", dir]).await;
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("exists already"), "{}", text(&again.stderr));

    let elsewhere = wamp(&["new", "other", "--path", dir, "--framework-path", dir]).await;
    assert!(!elsewhere.status.success());
    assert!(text(&elsewhere.stderr).contains("is not the framework"), "{}", text(&elsewhere.stderr));
    assert!(!apps.join("other").exists(), "nothing is written for a refused app");
    std::fs::remove_dir_all(apps).unwrap();
}
