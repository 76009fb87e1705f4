struct Calc {
    base: i64,
}

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.base")]
    fn base(&self) -> i64 {
        self.base
    }
}

fn main() {}
