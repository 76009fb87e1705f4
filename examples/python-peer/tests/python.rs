//! The Rust side beside an AutobahnPython peer, the script the example
//! ships: each calls the other and receives the other's event, in both
//! serializers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::path::Path;
use std::time::Duration;

use tokio::process::Command;
use wamp_tests::{app_command, Process};

#[tokio::test]
async fn python_calls_rust_and_rust_calls_python() {
    let mut rust = Process::start(&mut app_command(env!("CARGO_BIN_EXE_python-peer")));
    rust.wait_for(&["url=", "component ready"]).await;
    let url = rust.url();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peer.py");
    for serializer in ["json", "msgpack"] {
        let python = Command::new(wamp_tests::peer_python())
            .arg(&script)
            .args([url.as_str(), "realm1", serializer])
            .kill_on_drop(true)
            .output();
        let output =
            tokio::time::timeout(Duration::from_secs(60), python).await.expect("the peer ends").unwrap();
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{serializer}: {printed}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let lines: Vec<&str> = printed.lines().collect();
        assert!(lines.contains(&"rust add(2, 3) = 5"), "{serializer}: {printed}");
        assert!(
            lines.contains(&"rust called python shout, then published: HELLO FROM PYTHON"),
            "{serializer}: {printed}"
        );
        let logged = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(line) = rust.next_line().await {
                if line.contains("the Python peer answered") {
                    return line;
                }
            }
            panic!("the Rust side exited; its log:\n{}", rust.log());
        })
        .await
        .expect("the Rust side logs the Python peer's answer");
        assert!(logged.contains("shouted=HELLO FROM PYTHON"), "{logged}");
    }
}
