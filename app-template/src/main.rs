//! Runs the app's components: beside an embedded router by default, or
//! joined to the router `url` names (wamp.toml, or WAMP_URL).

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    wamp::logging::init();
    // Settings from wamp.toml and WAMP_* variables.
    let host = wamp::Host::from_env()?;
    {{crate_name}}::add_components(host).run().await
}
