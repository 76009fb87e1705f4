//! The Rust side of a Rust/Python pair: it serves `com.example.rust.add`,
//! and when the Python peer announces itself on `com.example.python.ready`
//! it calls the peer's `com.example.python.shout` and publishes the answer
//! on `com.example.rust.shouted`.
//!
//! ```text
//! cargo run -p python-peer                                   # embedded router on 127.0.0.1:8080
//! tests/peers/.venv/bin/python examples/python-peer/peer.py  # the AutobahnPython side
//! ```

use wamp::prelude::*;

/// The Rust component.
#[derive(Default)]
struct RustSide;

#[wamp::component(prefix = "com.example")]
impl RustSide {
    /// `com.example.rust.add(a, b)`, for the Python peer to call.
    #[wamp::procedure("rust.add")]
    fn add(&self, a: i64, b: i64) -> i64 {
        a + b
    }

    /// The Python peer is there: call its procedure, publish what it said.
    #[wamp::subscribe("python.ready")]
    async fn python_ready(&self, greeting: String, session: &Session) -> Result<(), Error> {
        let shouted: String = session.call("com.example.python.shout", (&greeting,)).await?;
        tracing::info!(%greeting, %shouted, "the Python peer answered");
        session.publish("com.example.rust.shouted", (shouted,)).await
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    wamp::logging::init();
    let host = wamp::Host::from_env()?;
    host.add_registered().run().await
}
