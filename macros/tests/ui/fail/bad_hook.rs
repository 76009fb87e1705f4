#[derive(Default)]
struct Calc;

#[wamp::component]
impl Calc {
    async fn on_join(&self, realm: String) {
        let _ = realm;
    }

    fn on_leave() {}

    fn on_disconnect(&self) -> bool {
        true
    }
}

fn main() {}
