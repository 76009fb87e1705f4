#[derive(Default)]
struct Calc;

#[wamp::component(prefix = "com.example")]
impl Calc {
    #[wamp::procedure("add")]
    fn add2(&self) {}

    #[wamp::procedure("add")]
    fn add3(&self) {}

    // A topic may have the name of a procedure.
    #[wamp::subscribe("add")]
    fn on_add(&self) {}

    #[wamp::subscribe("add")]
    fn on_add_again(&self) {}

    // The same URI as a pattern is another registration.
    #[wamp::procedure("add", match = "prefix")]
    fn add_any(&self) {}
}

fn main() {}
