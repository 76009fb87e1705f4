#[wamp::procedure("com.example.add2")]
fn add2(x: i64, y: i64) -> i64 {
    x + y
}

struct Calc;

impl Calc {
    #[wamp::subscribe("com.example.hello")]
    fn on_hello(&self, greeting: String) {
        let _ = greeting;
    }
}

struct Ping;

impl Calc {
    #[wamp::message]
    fn ping(&self, _ping: Ping) {}
}

fn main() {
    let _ = add2(1, 2);
    Calc.on_hello(String::new());
    Calc.ping(Ping);
}
