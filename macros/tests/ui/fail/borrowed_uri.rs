// A procedure name built at run time goes to `Session::call` owned: a
// borrowed one would have to outlive the call's message.
use wamp::{Error, Session};

#[derive(Default)]
struct Relay;

#[wamp::component]
impl Relay {
    #[wamp::procedure("com.example.relay")]
    async fn relay(&self, target: String, ctx: &Session) -> Result<u64, Error> {
        ctx.call(&target, ()).await
    }
}

fn main() {}
