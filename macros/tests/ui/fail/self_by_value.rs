#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.add2")]
    fn add2(self, x: i64, y: i64) -> i64 {
        x + y
    }

    #[wamp::procedure("com.example.add3")]
    fn add3(self: Box<Self>) {}
}

fn main() {}
