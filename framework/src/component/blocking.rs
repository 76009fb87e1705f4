//! Handlers marked `blocking = true`: a method that is not `async`, run on
//! the blocking thread pool so that the component's thread (for an
//! embedded component, the router's) goes on routing meanwhile.
//!
//! The state moves to the worker thread for the run and back, in safe
//! code: the component is `Send` and `Default` (a placeholder stands in
//! while it is away). A task on the component's thread holds the state's
//! write lock from before the state leaves until it is back, whether or
//! not the handler still waits for the answer, so no other handler ever
//! sees the placeholder. A blocking handler therefore has the state to
//! itself while it runs, also when it takes `&self`.

use std::rc::Rc;

use super::state::StateLock;
use crate::client::driver::effects::panicked;
use crate::protocol::errors;
use crate::Error;

/// What a component needs for `blocking = true` handlers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run `blocking` handlers: it must be `Default` and `Send`",
    label = "`{Self}` moves to a worker thread for this handler",
    note = "the state moves to a worker thread for the run and back, and a `Default` value stands in \
            while it is away; derive `Default` (and keep the fields `Send`), or make the method `async` \
            and call `actix_web::rt::task::spawn_blocking` in it with the data it needs"
)]
pub trait MovesToWorker: Default + Send + 'static {}

impl<T: Default + Send + 'static> MovesToWorker for T {}

/// Checks, where the option is written, that `T` can run `blocking`
/// handlers.
pub fn moves_to_worker<T: MovesToWorker>() {}

/// Runs `f` with the state on the blocking pool; see the module docs.
pub async fn blocking<T, R>(
    state: &Rc<StateLock<T>>,
    f: impl FnOnce(&mut T) -> R + Send + 'static,
) -> Result<R, Error>
where
    T: MovesToWorker,
    R: Send + 'static,
{
    let state = Rc::clone(state);
    let (tx, rx) = tokio::sync::oneshot::channel();
    actix::spawn(async move {
        let mut guard = state.write().await;
        if tx.is_closed() {
            // Nobody waits for the answer any more (the call was canceled).
            return;
        }
        let mut value = std::mem::take(&mut *guard);
        let job = tokio::task::spawn_blocking(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut value)));
            (value, outcome)
        });
        let result = match job.await {
            Ok((value, outcome)) => {
                *guard = value;
                outcome.map_err(panicked)
            }
            Err(e) => {
                Err(Error::new(errors::RUNTIME_ERROR, format!("the blocking handler did not finish: {e}")))
            }
        };
        drop(guard);
        let _ = tx.send(result);
    });
    rx.await
        .unwrap_or_else(|_| Err(Error::new(errors::CANCELED, "the component stopped while the handler ran")))
}
