//! What the code `#[wamp::component]` generates refers to. Public only so
//! that the generated code can name it: not part of the API, and free to
//! change in any release.

pub use futures_util::future::LocalBoxFuture;
pub use inventory;

pub use crate::client::holding::{holding, Holding, StateAccess};
pub use crate::client::session::{Completion, EventFn, ProcedureFn};
pub use crate::component::args::ParameterReader;
pub use crate::component::registry::{launcher, registered, ComponentEntry, Launch};
pub use crate::component::{ComponentState, Description, ProcedureSpec, StateLock, SubscriptionSpec};

use crate::protocol::Payload;
use crate::Error;

pub use crate::client::payload::result_payload;

/// A procedure's `()` result.
pub fn unit_payload(_: ()) -> Result<Payload, Error> {
    Ok(Payload::default())
}

/// Reports an event handler that could not run (its arguments did not
/// fit) or failed.
pub fn event_failed(component: &str, topic: &str, error: &Error) {
    tracing::warn!(component, topic, %error, "event handler failed");
}
