#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example..add2")]
    fn add2(&self) {}

    #[wamp::procedure("com.example.add 3")]
    fn add3(&self) {}

    #[wamp::subscribe("com.example.#")]
    fn on_event(&self) {}

    // Empty components are fine in patterns.
    #[wamp::subscribe("com.example..event", match = "wildcard")]
    fn on_any(&self) {}
}

#[derive(Default)]
struct Prefixed;

#[wamp::component(prefix = "com.example")]
impl Prefixed {
    #[wamp::procedure(".add2")]
    fn add2(&self) {}
}

fn main() {}
