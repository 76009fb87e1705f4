//! The calculator beside an embedded router (or joined to `WAMP_URL`).
//!
//! ```text
//! cargo run -p calculator
//! wamp call com.example.calculator.divide 1 0   # com.example.calculator.error.division_by_zero
//! ```

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let host = wamp::Host::from_env().map_err(std::io::Error::other)?;
    calculator::add_components(host).run().await
}
