//! An actix-web REST service that adds WAMP: the router's endpoint at
//! `/ws` beside the REST routes, a component that keeps notes, and REST
//! handlers that publish events and call procedures as a WAMP session.
//!
//! * [`notes`]: the `Notes` component (`com.example.notes.list`, subscribed
//!   to `com.example.notes.created`).
//! * [`rest`]: the REST routes, which reach WAMP through the session of a
//!   component of their own, [`rest::Gateway`].

pub mod notes;
pub mod rest;

/// Adds the service's components to `host`.
pub fn add_components(host: wamp::Host) -> wamp::Host {
    host.add_component(notes::Notes::default()).add_component(rest::Gateway)
}
