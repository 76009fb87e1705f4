//! The chat page in headless Chromium (Debian's `chromium`, driven by
//! playwright-core from `web/e2e.mjs`): two people exchange messages, a
//! third joins late and gets the history, a closed page leaves the online
//! list. The page loads AutobahnJS from the app itself.
//!
//! `tests/peers/install.sh` (run by `scripts/test`) installs Chromium and
//! `web/node_modules`. Set `CHAT_SCREENSHOT=docs/images/chat.png` to update
//! the guide's screenshot.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;
use wamp::client::{Client, ConnectOptions};
use wamp_tests::{app_command, http_request, Process};

/// Starts the chat on a free port; returns it with its page's URL.
async fn start() -> (Process, String) {
    let mut chat = Process::start(&mut app_command(env!("CARGO_BIN_EXE_chat")));
    chat.wait_for(&["url=", "component ready"]).await;
    assert!(!chat.logged("AutobahnJS is not installed"), "{}", chat.log());
    let url = chat.url();
    (chat, url)
}

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

#[actix_web::test]
async fn two_browsers_chat_and_a_late_one_gets_the_history() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "Chromium is missing ({chromium}): run tests/peers/install.sh");
    assert!(
        web_dir().join("node_modules/playwright-core").exists(),
        "the page's packages are missing: run tests/peers/install.sh (or `npm ci` in examples/chat/web)"
    );
    let (_chat, url) = start().await;
    let addr = url.trim_start_matches("http://").trim_end_matches('/').to_owned();

    // The app serves the page and AutobahnJS itself.
    let page = http_request(&addr, "GET", "/", None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/vendor/autobahn.min.js"), "{}", page.body);
    let autobahn = http_request(&addr, "GET", "/vendor/autobahn.min.js", None).await;
    assert_eq!(autobahn.status, 200, "{}", autobahn.body);

    let screenshot = std::env::var_os("CHAT_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("chat.png"));
    let _ = std::fs::remove_file(&screenshot);
    let e2e = Command::new("node")
        .arg("e2e.mjs")
        .args([url.as_str(), screenshot.to_str().unwrap()])
        .current_dir(web_dir())
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true)
        .output();
    let output =
        tokio::time::timeout(Duration::from_secs(120), e2e).await.expect("the browser test ends").unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && printed.lines().any(|l| l == "E2E OK 7"),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let png = std::fs::read(&screenshot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 5_000, "not a screenshot of a page");

    // What the browsers did, as the component remembers it.
    let client = Client::connect(ConnectOptions::new(format!("ws://{addr}/ws"), "realm1")).await.unwrap();
    let history: Vec<chat::Line> = client.call("com.example.chat.history", ()).await.unwrap();
    let texts: Vec<&str> = history.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["hello bob", "hi ada, how are you?", "bob left"]);
    // The browsers closed: nobody is online any more.
    let mut online = vec![String::new()];
    for _ in 0..100 {
        online = client.call("com.example.chat.online", ()).await.unwrap();
        if online.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(online.is_empty(), "{online:?}");
}
