//! The components linked into a binary, collected with `inventory`, and
//! what the host needs to start any component, on its own thread or on
//! another.
//!
//! `#[wamp::component]` submits a [`ComponentEntry`] for every component
//! type that implements `Default` (or names a `factory`); [`Host::add_registered`](super::Host::add_registered)
//! runs them all. Such a component is made when its session starts, on
//! the thread it runs on, so any of them can run on a thread of its own
//! (`own_thread`). A component given by value can leave the thread it was
//! made on only if it is `Send`, which [`SendProbe`] finds out at compile
//! time.

use std::marker::PhantomData;
use std::time::Duration;

use crate::client::driver::{SessionActor, Start};

/// Builds a component's session, on the thread that calls it, once the
/// host knows where it runs.
pub type Launcher = Box<dyn FnOnce(Start, Option<Duration>) -> SessionActor>;

/// Builds a component's session on whichever thread calls it.
pub type PortableLauncher = Box<dyn FnOnce(Start, Option<Duration>) -> SessionActor + Send>;

/// How a component's session is built: on the thread the host runs on, or
/// on any thread.
pub enum Starter {
    /// The component cannot leave the thread it was made on.
    Here(Launcher),
    /// The component can be made, or moved, anywhere.
    Anywhere(PortableLauncher),
}

impl Starter {
    /// Builds the session on this thread.
    pub fn start(self, start: Start, call_timeout: Option<Duration>) -> SessionActor {
        match self {
            Starter::Here(launch) => launch(start, call_timeout),
            Starter::Anywhere(launch) => launch(start, call_timeout),
        }
    }
}

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
    pub start: Starter,
}

/// A component linked into the binary.
pub struct ComponentEntry {
    /// The component's type name.
    pub name: &'static str,
    /// Describes the component, to be made (with `Default` or its
    /// factory) when its session starts.
    pub make: fn() -> Launch,
}

inventory::collect!(ComponentEntry);

/// Every component linked into the binary, by name.
pub fn registered() -> Vec<&'static ComponentEntry> {
    let mut all: Vec<&'static ComponentEntry> = inventory::iter::<ComponentEntry>.into_iter().collect();
    all.sort_by_key(|e| e.name);
    all
}

/// A component value, ready to start: anywhere if it is `Send`.
pub fn launcher<C: super::Component>(component: C) -> Launch {
    described::<C>(component.starter())
}

/// A component that `make` makes on the thread its session starts on.
pub fn made_by<C: super::Component>(make: impl Factory<C>) -> Launch {
    described::<C>(Starter::Anywhere(Box::new(move |start, timeout| {
        super::session(make.make(), start, timeout)
    })))
}

/// What `#[wamp::component(factory = "...")]` may name: a function that
/// takes nothing and returns the component, called on the thread the
/// component runs on.
#[diagnostic::on_unimplemented(
    message = "a component's factory takes no arguments and returns the component (`fn() -> {C}`)",
    label = "not a `fn() -> {C}`",
    note = "read what the factory needs inside it (settings, `std::env`), or keep the component out of \
            the inventory with `inventory = false` and give it to the host by value: \
            `host.add_component(...)`; a factory that can fail must decide there what to do"
)]
pub trait Factory<C>: Send + 'static {
    /// Makes the component.
    fn make(self) -> C;
}

impl<C, F: FnOnce() -> C + Send + 'static> Factory<C> for F {
    fn make(self) -> C {
        self()
    }
}

fn described<C: super::Component>(start: Starter) -> Launch {
    Launch {
        name: C::name().to_owned(),
        realm: C::realm().map(str::to_owned),
        type_id: std::any::TypeId::of::<C>(),
        needs: C::data_needs(),
        start,
    }
}

/// Whether a component value can move to another thread: the generated
/// [`Component::starter`](super::Component::starter) calls
/// `(&&SendProbe::<Self>::new()).starter(self)`, which finds
/// [`StartsAnywhere`] on `&SendProbe` when the component is `Send` and
/// [`StartsHere`] on `SendProbe` otherwise (method lookup tries
/// `&&SendProbe` before `&SendProbe`).
pub struct SendProbe<C>(PhantomData<fn() -> C>);

impl<C> SendProbe<C> {
    /// The probe for one component type.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        SendProbe(PhantomData)
    }
}

/// Found for a component that is `Send`.
pub trait StartsAnywhere<C> {
    /// A starter that can build the session on any thread.
    fn starter(&self, component: C) -> Starter;
}

impl<C: super::Component + Send> StartsAnywhere<C> for &SendProbe<C> {
    fn starter(&self, component: C) -> Starter {
        Starter::Anywhere(Box::new(move |start, timeout| super::session(component, start, timeout)))
    }
}

/// Found for a component that is not `Send`.
pub trait StartsHere<C> {
    /// A starter that builds the session on the thread the component was
    /// made on.
    fn starter(&self, component: C) -> Starter;
}

impl<C: super::Component> StartsHere<C> for SendProbe<C> {
    fn starter(&self, component: C) -> Starter {
        Starter::Here(Box::new(move |start, timeout| super::session(component, start, timeout)))
    }
}
