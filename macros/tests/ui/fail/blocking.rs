use wamp::prelude::*;

#[derive(Default)]
struct Worker;

#[wamp::component(inventory = false)]
impl Worker {
    #[wamp::procedure("com.example.already_async", blocking = true)]
    async fn already_async(&self) {}

    #[wamp::procedure("com.example.with_session", blocking = true)]
    fn with_session(&self, _session: &Session) {}
}

/// Not `Send`: it cannot go to a worker thread.
struct Unplaceable {
    shared: std::rc::Rc<u64>,
}

#[wamp::component(inventory = false)]
impl Unplaceable {
    #[wamp::procedure("com.example.crunch", blocking = true)]
    fn crunch(&mut self) {}
}

fn main() {}
