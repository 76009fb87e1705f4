#[derive(Default)]
struct Calc;

#[wamp::component(prefix = "com.example.")]
impl Calc {
    #[wamp::procedure("add2")]
    fn add2(&self) {}
}

fn main() {}
