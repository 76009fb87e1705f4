//! The components linked into a binary, collected with `inventory`.
//!
//! `#[wamp::component]` submits a [`ComponentEntry`] for every component
//! type that implements `Default`; [`Host::add_registered`](super::Host::add_registered)
//! runs them all.

use crate::client::driver::{SessionActor, Start};

/// Builds a component's session once the host knows where it runs.
pub type Launcher = Box<dyn FnOnce(Start, Option<std::time::Duration>) -> SessionActor>;

/// A component ready to start.
pub struct Launch {
    /// The instance's name: the component's type name unless given.
    pub name: String,
    /// The realm it asks for; the host's default when `None`.
    pub realm: Option<String>,
    /// Its type, so the host can hand out typed handles.
    pub type_id: std::any::TypeId,
    /// The application data its handlers take.
    pub needs: Vec<super::DataNeed>,
    /// Starts its session.
    pub start: Launcher,
}

/// A component linked into the binary.
pub struct ComponentEntry {
    /// The component's type name.
    pub name: &'static str,
    /// Creates the component (with `Default`), ready to start.
    pub make: fn() -> Launch,
}

inventory::collect!(ComponentEntry);

/// Every component linked into the binary, by name.
pub fn registered() -> Vec<&'static ComponentEntry> {
    let mut all: Vec<&'static ComponentEntry> = inventory::iter::<ComponentEntry>.into_iter().collect();
    all.sort_by_key(|e| e.name);
    all
}

/// A component value, ready to start.
pub fn launcher<C: super::Component>(component: C) -> Launch {
    Launch {
        name: C::name().to_owned(),
        realm: C::realm().map(str::to_owned),
        type_id: std::any::TypeId::of::<C>(),
        needs: C::data_needs(),
        start: Box::new(move |start, timeout| super::session(component, start, timeout)),
    }
}
