//! {{project-name}}: WAMP components, run by `src/main.rs`.
//!
//! Each component is a type whose methods are WAMP procedures and
//! subscriptions (`#[wamp::component]`). A new component is a new module
//! beside `greeter`, added to the host in [`add_components`].

mod greeter;

pub use greeter::{Greeter, GreeterClient, GreeterError};

/// Adds every component of the app to `host`: `main` runs them, the tests
/// start them the same way.
///
/// They are listed here rather than collected with
/// `wamp::Host::add_registered`, which finds only the components of
/// library code the binary itself refers to.
pub fn add_components(host: wamp::Host) -> wamp::Host {
    host.add_component(Greeter::default())
}
