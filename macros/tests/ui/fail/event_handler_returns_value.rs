#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::subscribe("com.example.hello")]
    fn on_hello(&self, greeting: String) -> String {
        greeting
    }

    #[wamp::subscribe("com.example.bye")]
    async fn on_bye(&self) -> Result<u8, wamp::Error> {
        Ok(1)
    }
}

fn main() {}
