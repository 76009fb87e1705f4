#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.add2", matching = "prefix")]
    fn add2(&self) {}

    #[wamp::subscribe("com.example.hello", invoke = "roundrobin")]
    fn on_hello(&self) {}

    #[wamp::procedure("com.example.add3", disclose_caller)]
    fn add3(&self) {}

    #[wamp::procedure("com.example.add4", disclose_caller = "yes")]
    fn add4(&self) {}

    #[wamp::procedure("com.example.add5", invoke = "single", invoke = "last")]
    fn add5(&self) {}
}

fn main() {}
