struct Opaque;

#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    #[wamp::procedure("com.example.take")]
    fn take(&self, x: i64, opaque: Opaque) {
        let _ = (x, opaque);
    }

    #[wamp::subscribe("com.example.hello")]
    fn on_hello(&self, opaque: Vec<Opaque>) {
        let _ = opaque;
    }
}

fn main() {}
