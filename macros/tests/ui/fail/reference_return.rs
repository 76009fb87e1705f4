#[derive(Default)]
struct Calc {
    name: String,
}

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.name")]
    fn name(&self) -> &str {
        &self.name
    }
}

fn main() {}
