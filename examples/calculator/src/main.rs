//! The calculator beside an embedded router (or joined to `WAMP_URL`).
//!
//! ```text
//! cargo run -p calculator
//! wamp call com.example.calculator.divide 1 0   # com.example.calculator.error.division_by_zero
//! ```

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    wamp::logging::init();
    let host = wamp::Host::from_env()?;
    calculator::add_components(host).run().await
}
