#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.add2")]
    fn add2(x: i64, y: i64) -> i64 {
        x + y
    }

    #[wamp::procedure("com.example.limit")]
    const LIMIT: u32 = 10;
}

fn main() {}
