use wamp::prelude::*;

#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.add2")]
    fn add2(&self, details: &EventDetails) {
        let _ = details;
    }

    #[wamp::subscribe("com.example.hello")]
    fn on_hello(&self, details: CallDetails) {
        let _ = details;
    }

    #[wamp::subscribe("com.example.bye")]
    fn on_bye(&self, a: &Session, b: &Session) {
        let _ = (a, b);
    }

    #[wamp::procedure("com.example.mutate")]
    fn mutate(&self, ctx: &mut Session) {
        let _ = ctx;
    }
}

fn main() {}
