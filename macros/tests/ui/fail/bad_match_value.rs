#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.add2", match = "glob")]
    fn add2(&self) {}

    #[wamp::procedure("com.example.add3", invoke = "round_robin")]
    fn add3(&self) {}

    #[wamp::subscribe("com.example.hello", match = prefix)]
    fn on_hello(&self) {}
}

fn main() {}
