//! What `#[wamp::component]` generates for a component: its procedures,
//! subscriptions and hooks as handlers over the shared state. Public only
//! through `wamp::__private`, for the generated code.

use std::rc::Rc;

use super::state::StateLock;
use crate::client::driver::Hooks;
use crate::client::{EventFn, ProcedureFn, RegisterOptions, StateAccess, SubscribeOptions};

/// A component's state as its handlers share it.
pub type ComponentState<C> = Rc<StateLock<C>>;

/// A procedure a component offers.
pub struct ProcedureSpec {
    /// The procedure URI.
    pub uri: String,
    /// REGISTER options.
    pub options: RegisterOptions,
    /// How the method takes the component's state.
    pub access: StateAccess,
    /// The handler.
    pub handler: ProcedureFn,
}

/// A topic a component subscribes to.
pub struct SubscriptionSpec {
    /// The topic URI.
    pub uri: String,
    /// SUBSCRIBE options.
    pub options: SubscribeOptions,
    /// The handler.
    pub handler: EventFn,
}

/// What a component offers, as handlers over its shared state.
#[derive(Default)]
pub struct Description {
    /// Its procedures.
    pub procedures: Vec<ProcedureSpec>,
    /// Its subscriptions.
    pub subscriptions: Vec<SubscriptionSpec>,
    /// Its lifecycle hooks (`on_start`, `on_join`, `on_leave`,
    /// `on_disconnect`); the host adds the `setup` that registers and
    /// subscribes the above.
    pub hooks: Hooks,
}
