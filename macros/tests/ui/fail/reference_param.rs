#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.greet")]
    fn greet(&self, name: &str) -> String {
        format!("Hello, {name}")
    }

    #[wamp::procedure("com.example.sum")]
    fn sum(&self, xs: &[i64]) -> i64 {
        xs.iter().sum()
    }
}

fn main() {}
