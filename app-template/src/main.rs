//! Runs the app's components: beside an embedded router by default, or
//! joined to the router `url` names (wamp.toml, or WAMP_URL).

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    // Settings from wamp.toml and WAMP_* variables.
    let host = wamp::Host::from_env().map_err(std::io::Error::other)?;
    {{crate_name}}::add_components(host).run().await
}
