#[wamp::component]
#[derive(Default)]
struct Calc {
    calls: u64,
}

#[wamp::component(realm = "realm1")]
fn add2(x: i64, y: i64) -> i64 {
    x + y
}

fn main() {
    let _ = Calc::default().calls;
    let _ = add2(1, 2);
}
