// Application data is taken by value, and only by handlers.
use wamp::prelude::*;

struct Pool;

#[derive(Default)]
struct Store;

#[wamp::component]
impl Store {
    #[wamp::procedure("com.example.get")]
    fn get(&self, pool: &Data<Pool>) {
        let _ = pool;
    }

    fn on_join(&self, pool: Data<Pool>) {
        let _ = pool;
    }
}

fn main() {}
