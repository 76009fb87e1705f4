#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.show")]
    fn show(&self, x: impl serde::de::DeserializeOwned) {
        let _ = x;
    }

    #[wamp::procedure("com.example.numbers")]
    fn numbers(&self) -> impl serde::Serialize {
        vec![1, 2, 3]
    }
}

fn main() {}
