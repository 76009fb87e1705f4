#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.add2")]
    fn add2(&self, (x, y): (i64, i64)) -> i64 {
        x + y
    }

    #[wamp::subscribe("com.example.hello")]
    fn on_hello(&self, _: String) {}
}

fn main() {}
