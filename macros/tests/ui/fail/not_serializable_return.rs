struct Opaque;

#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.opaque")]
    fn opaque(&self) -> Opaque {
        Opaque
    }

    #[wamp::procedure("com.example.maybe_opaque")]
    async fn maybe_opaque(&self) -> Result<Opaque, wamp::Error> {
        Ok(Opaque)
    }
}

fn main() {}
