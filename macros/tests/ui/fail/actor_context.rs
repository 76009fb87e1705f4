// An actix user reaches for the actor's `Context` out of habit; both
// preludes are in scope, and `Session` is what a handler takes.
use actix::prelude::*;
use wamp::prelude::*;

#[derive(Default)]
struct Ticker;

impl Actor for Ticker {
    type Context = Context<Self>;
}

#[wamp::component]
impl Ticker {
    #[wamp::procedure("com.example.tick")]
    fn tick(&self, ctx: &Context<Self>) -> u64 {
        let _ = ctx;
        1
    }

    #[wamp::procedure("com.example.session")]
    fn session(&self, session: &Session) -> Option<u64> {
        session.session_id()
    }

    async fn on_join(&self, ctx: &mut Context<Self>) {
        let _ = ctx;
    }
}

fn main() {}
