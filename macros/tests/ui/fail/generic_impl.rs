#[derive(Default)]
struct Calc<T> {
    value: T,
}

#[wamp::component]
impl<T: Default + 'static> Calc<T> {
    #[wamp::procedure("com.example.add2")]
    fn add2(&self, x: i64, y: i64) -> i64 {
        x + y
    }
}

fn main() {
    let _ = Calc::<u8>::default().value;
}
