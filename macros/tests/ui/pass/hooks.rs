//! Every form of lifecycle hook.

use wamp::prelude::*;

#[derive(Debug)]
pub struct HookError;

impl From<HookError> for Error {
    fn from(_: HookError) -> Self {
        Error::new("com.example.hook_error", "it failed")
    }
}

#[derive(Default)]
pub struct AsyncHooks {
    joined: bool,
}

#[wamp::component]
impl AsyncHooks {
    async fn on_join(&mut self, ctx: &Session) -> Result<(), Error> {
        self.joined = true;
        ctx.publish("com.example.joined", ()).await
    }

    async fn on_leave(&self) {}

    async fn on_disconnect(&mut self) -> Result<(), HookError> {
        self.joined = false;
        Err(HookError)
    }
}

#[derive(Default)]
pub struct SyncHooks;

#[component]
impl SyncHooks {
    /// Attributes from the prelude's glob import.
    #[procedure("com.example.sync_hooks.ping")]
    fn ping(&self) {}

    #[subscribe("com.example.sync_hooks.pong")]
    fn pong(&self) {}

    fn on_join(&self) {}

    fn on_leave(&mut self, ctx: wamp::Session) -> Result<(), wamp::Error> {
        let _ = ctx;
        Ok(())
    }

    fn on_disconnect(&self, _: &Session) {}
}

fn main() {}
