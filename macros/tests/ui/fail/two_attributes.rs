#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.add2")]
    #[wamp::subscribe("com.example.add2")]
    fn add2(&self) {}
}

fn main() {}
