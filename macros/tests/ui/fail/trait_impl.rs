trait Adder {
    fn add2(&self, x: i64, y: i64) -> i64;
}

#[derive(Default)]
struct Calc;

#[wamp::component]
impl Adder for Calc {
    fn add2(&self, x: i64, y: i64) -> i64 {
        x + y
    }
}

fn main() {}
