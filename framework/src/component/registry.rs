//! The components linked into a binary, collected with `inventory`.
//!
//! `#[wamp::component]` submits a [`ComponentEntry`] for every component
//! type that implements `Default`; [`Host::add_registered`](super::Host::add_registered)
//! runs them all.

use crate::client::driver::{SessionActor, Start};

/// Builds a component's session once the host knows where it runs.
pub type Launcher = Box<dyn FnOnce(Start, Option<std::time::Duration>) -> SessionActor>;

/// A component linked into the binary.
pub struct ComponentEntry {
    /// The component's type name.
    pub name: &'static str,
    /// Creates the component (with `Default`) and describes it.
    pub make: fn() -> (Option<&'static str>, Launcher),
}

inventory::collect!(ComponentEntry);

/// Every component linked into the binary, by name.
pub fn registered() -> Vec<&'static ComponentEntry> {
    let mut all: Vec<&'static ComponentEntry> = inventory::iter::<ComponentEntry>.into_iter().collect();
    all.sort_by_key(|e| e.name);
    all
}

/// The launcher of a component value: its realm, and how to start it.
pub fn launcher<C: super::Component>(component: C) -> (Option<&'static str>, Launcher) {
    (C::realm(), Box::new(move |start, timeout| super::session(component, start, timeout)))
}
