//! The seed example: one component subscribes to `com.myapp.hello`,
//! publishes "Hello, world!" to it, registers `com.myapp.add2` and calls it.
//!
//! ```text
//! cargo run -p hello                                  # embedded router on 127.0.0.1:8080
//! WAMP_LISTEN=127.0.0.1:9000 cargo run -p hello       # ... listening elsewhere
//! WAMP_URL=ws://127.0.0.1:8080/ws cargo run -p hello  # join a router started separately
//! ```

use std::sync::atomic::{AtomicU64, Ordering};

use wamp::client::PublishOptions;
use wamp::prelude::*;

/// Greets itself and adds numbers.
#[derive(Default)]
struct Hello {
    /// How many additions it made.
    additions: AtomicU64,
}

#[wamp::component(prefix = "com.myapp")]
impl Hello {
    /// `com.myapp.add2(x, y)`: the sum.
    #[wamp::procedure("add2")]
    fn add2(&self, x: i64, y: i64) -> i64 {
        self.additions.fetch_add(1, Ordering::Relaxed);
        x + y
    }

    /// Logs every greeting published to `com.myapp.hello`.
    #[wamp::subscribe("hello")]
    fn on_hello(&self, greeting: String) {
        tracing::info!(%greeting, "com.myapp.hello received");
    }

    /// Once joined: greet (receiving the greeting too), then add.
    async fn on_join(&self, session: &Session) -> Result<(), Error> {
        let mine_too =
            PublishOptions { exclude_me: Some(false), acknowledge: true, ..PublishOptions::default() };
        session.publish_with("com.myapp.hello", ("Hello, world!",), mine_too).await?;
        let sum: i64 = session.call("com.myapp.add2", (2, 3)).await?;
        tracing::info!(
            sum,
            additions = self.additions.load(Ordering::Relaxed),
            "com.myapp.add2(2, 3) returned"
        );
        Ok(())
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    wamp::logging::init();
    // Embedded or remote, as wamp.toml and the WAMP_* variables say.
    let host = wamp::Host::from_env()?;
    host.add_registered().run().await
}
