#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.echo")]
    fn echo<T: serde::Serialize>(&self, x: T) -> T {
        x
    }

    #[wamp::procedure("com.example.len")]
    fn len<'a>(&'a self, x: String) -> usize {
        x.len()
    }
}

fn main() {}
