//! The Rust side beside an AutobahnPython peer, the script the example
//! ships: each calls the other and receives the other's event, in both
//! serializers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn python_calls_rust_and_rust_calls_python() {
    let mut rust = Command::new(env!("CARGO_BIN_EXE_python-peer"))
        .env_remove("WAMP_URL")
        .env("WAMP_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the Rust side");
    let mut log = BufReader::new(rust.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        let (mut url, mut ready) = (None, false);
        while url.is_none() || !ready {
            let line = log.next_line().await.unwrap().expect("the Rust side exited early");
            if let Some(u) = line.split("url=").nth(1) {
                url = u.split_whitespace().next().map(str::to_owned);
            }
            ready |= line.contains("component ready");
        }
        url.unwrap()
    })
    .await
    .expect("the Rust side gets ready");
    let (answers, mut answered) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = log.next_line().await {
            if line.contains("the Python peer answered") {
                let _ = answers.send(line);
            }
        }
    });

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
        let logged = tokio::time::timeout(Duration::from_secs(5), answered.recv()).await.unwrap().unwrap();
        assert!(logged.contains("shouted=HELLO FROM PYTHON"), "{logged}");
    }
}
