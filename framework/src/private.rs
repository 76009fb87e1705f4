//! What the code `#[wamp::component]` generates refers to. Public only so
//! that the generated code can name it: not part of the API, and free to
//! change in any release.

pub use futures_util::future::LocalBoxFuture;
pub use inventory;

pub use crate::client::details::IncomingCall;
pub use crate::client::holding::{holding, Holding, StateAccess};
pub use crate::client::pool_call::{relayed, to_pool, PooledCallDetails, Relay};
pub use crate::client::session::{Completion, EventFn, ProcedureFn};
pub use crate::component::args::ParameterReader;
pub use crate::component::blocking::{
    blocking, run_moved, MoveToPool, Mover, MovesToWorker, Placement, StayOnThread,
};
pub use crate::component::data::DataNeed;
pub use crate::component::description::{ComponentState, Description, ProcedureSpec, SubscriptionSpec};
pub use crate::component::registry::{
    launcher, made_by, registered, ComponentEntry, Factory, Launch, SendProbe, Starter, StartsAnywhere,
    StartsHere,
};
pub use crate::component::state::StateLock;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::protocol::{from_value, to_value, Payload};
pub use crate::protocol::{Dict, Value};
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

/// A field of a derived application error, as an argument. A value serde
/// cannot represent (a map with non-string keys) goes as null, logged.
pub fn to_arg<T: Serialize + ?Sized>(value: &T) -> Value {
    to_value(value).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "an error's field cannot be sent; it goes as null");
        Value::Null
    })
}

/// A field of a derived application error, read from an argument (an
/// absent one reads as null, so `Option` fields may be missing).
pub fn from_arg<T: DeserializeOwned>(value: Option<&Value>) -> Option<T> {
    from_value(value.cloned().unwrap_or(Value::Null)).ok()
}

/// The application data of type `T` for a `Data<T>` parameter. The host
/// checks every component's needs before it starts, so this fails only
/// for a session no host runs (a detached one, in a unit test).
pub fn app_data<T: 'static>(session: &crate::Session) -> Result<crate::Data<T>, Error> {
    session.app_data::<T>().ok_or_else(|| {
        Error::new(
            crate::protocol::errors::INVALID_ARGUMENT,
            format!(
                "no Data<{}> in this session: give it to the host with Host::app_data",
                std::any::type_name::<T>()
            ),
        )
        .of_kind(crate::ErrorKind::Invalid)
    })
}

/// A procedure's `Kwargs<T>` result as its payload: keyword arguments
/// only.
pub fn kwargs_result<T: Serialize>(value: &crate::client::Kwargs<T>) -> Result<Payload, Error> {
    crate::client::payload::kwargs_payload(&value.0)
}

/// A typed client's argument list with the keyword arguments of a
/// `#[wamp(kwargs)]` parameter added: `value` serializes to a map.
pub fn with_kwargs<T: Serialize + ?Sized>(
    mut args: crate::client::Arguments,
    value: &T,
) -> Result<crate::client::Arguments, Error> {
    let (_, kwargs) = crate::client::payload::kwargs_payload(value)?.into_parts();
    args.kwargs.extend(kwargs);
    Ok(args)
}

/// The gate of a handler with `concurrency = N`: at most `N` of its runs
/// at once, the others waiting in arrival order.
pub fn concurrency_gate(permits: usize) -> std::rc::Rc<tokio::sync::Semaphore> {
    std::rc::Rc::new(tokio::sync::Semaphore::new(permits))
}

/// Waits for a place at `gate`; the place is held until the returned
/// permit drops.
pub async fn enter(gate: &tokio::sync::Semaphore) -> Option<tokio::sync::SemaphorePermit<'_>> {
    // The gate is never closed.
    gate.acquire().await.ok()
}

/// Runs a handler with `timeout_ms = N`: dropped (its lock released)
/// after `N` ms, failing with `wamp.error.timeout`.
pub async fn within<T>(
    milliseconds: u64,
    run: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let limit = std::time::Duration::from_millis(milliseconds);
    match tokio::time::timeout(limit, run).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Error::new(
            crate::protocol::errors::TIMEOUT,
            format!("the handler did not finish within its timeout_ms ({milliseconds} ms)"),
        )
        .of_kind(crate::ErrorKind::Timeout)),
    }
}

/// Read access for a `&self` method: at once as [`try_read_owed`] gives
/// it, else once the writers ahead are done.
pub async fn read_owed<'a, T>(
    state: &'a StateLock<T>,
    ctx: &crate::Session,
) -> crate::component::state::ReadGuard<'a, T> {
    match try_read_owed(state, ctx) {
        Some(guard) => guard,
        None => state.read().await,
    }
}

/// Read access for a `&self` procedure or event handler now: as
/// [`StateLock::try_read`], and past waiting writers while a `&self` method
/// of the same component waits for one of its own procedures (see
/// `SessionState::reads_owed`).
pub fn try_read_owed<'a, T>(
    state: &'a StateLock<T>,
    ctx: &crate::Session,
) -> Option<crate::component::state::ReadGuard<'a, T>> {
    state.try_read().or_else(|| {
        if ctx.shared.reads_owed.get() > 0 {
            state.try_read_past_waiting_writers()
        } else {
            None
        }
    })
}

/// The arguments of a call as the handler's parameter types (the tuple
/// `T`): taken as they are if the caller sent that very tuple from this
/// process ([`Payload::Native`]), else the payload as values for
/// [`ParameterReader`].
#[inline(always)]
pub fn native_arguments<T: 'static>(payload: Payload) -> Result<Result<T, Payload>, Error> {
    match payload {
        Payload::Native(native) => match native.take_spread::<T>() {
            Ok(tuple) => Ok(Ok(tuple)),
            Err(native) => Ok(Err(Payload::Native(native).materialize()?)),
        },
        other => Ok(Err(other)),
    }
}

/// Whether a procedure's result may stay a Rust value: its session is
/// joined to a router in this process, which hands the value to a caller
/// in this process as it is and converts it for any other.
#[inline(always)]
pub fn in_process(session: &crate::Session) -> bool {
    session.in_process()
}

/// A typed client's result, read as the procedure's return type: taken as
/// it is if the procedure returned a `T` in this process, else converted.
#[inline(always)]
pub fn typed_result<T: DeserializeOwned + 'static>(payload: Payload) -> Result<T, Error> {
    crate::client::payload::result_as(payload)
}

/// A value on its way into a payload, kept as a Rust value when it can be
/// ([`AsNative`], for `Send + Sync` types: it may cross to another thread
/// of the process), and given back for conversion otherwise
/// ([`AsValues`]). The generated code calls `(&&Probe::new(value))`'s
/// methods: method lookup tries `&&Probe` before `&Probe`, so `AsNative`
/// wins when its bounds hold. `AsValues` asks for nothing, so a type that
/// cannot be sent at all is reported by the conversion, at its own span.
pub struct Probe<T>(std::cell::Cell<Option<T>>);

impl<T> Probe<T> {
    /// Holds `value` for one of the methods to take.
    pub fn new(value: T) -> Self {
        Probe(std::cell::Cell::new(Some(value)))
    }
}

/// What a probe's method gives: the payload holding the value, or the
/// value back to be converted.
pub type Probed<T> = Result<Payload, Option<T>>;

/// A value that can stay a Rust value.
pub trait AsNative {
    /// The value's type.
    type Value;
    /// A procedure's result (one positional argument, none for `()`),
    /// kept a Rust value if `native` (the caller sent one).
    fn result(&self, native: bool) -> Probed<Self::Value>;
    /// A typed client's arguments: a tuple, one positional argument per
    /// element.
    fn arguments(&self) -> Probed<Self::Value>;
}

impl<T: Serialize + Send + Sync + 'static> AsNative for &Probe<T> {
    type Value = T;

    fn result(&self, native: bool) -> Probed<T> {
        match self.0.take() {
            Some(value) if native => Ok(Payload::Native(crate::protocol::NativePayload::single(value))),
            other => Err(other),
        }
    }

    fn arguments(&self) -> Probed<T> {
        self.0.take().map(|tuple| Payload::Native(crate::protocol::NativePayload::spread(tuple))).ok_or(None)
    }
}

/// A value that cannot stay a Rust value (it is not `Send + Sync`): it is
/// given back, to go as WAMP values.
pub trait AsValues {
    /// The value's type.
    type Value;
    /// As [`AsNative::result`]: the value back.
    fn result(&self, native: bool) -> Probed<Self::Value>;
    /// As [`AsNative::arguments`]: the value back.
    fn arguments(&self) -> Probed<Self::Value>;
}

impl<T> AsValues for Probe<T> {
    type Value = T;

    fn result(&self, _native: bool) -> Probed<T> {
        Err(self.0.take())
    }

    fn arguments(&self) -> Probed<T> {
        Err(self.0.take())
    }
}

/// A procedure's result as a payload: the one a probe made, or the value
/// converted.
pub fn probed_result<T: Serialize>(probed: Probed<T>) -> Result<Payload, Error> {
    match probed {
        Ok(payload) => Ok(payload),
        Err(Some(value)) => result_payload(&value),
        Err(None) => Ok(Payload::default()),
    }
}
