#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure]
    fn add2(&self, x: i64, y: i64) -> i64 {
        x + y
    }

    #[wamp::subscribe(match = "prefix")]
    fn on_event(&self) {}
}

fn main() {}
