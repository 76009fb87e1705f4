#[derive(Default)]
struct Limited;

#[wamp::component(inventory = false)]
impl Limited {
    #[wamp::procedure("com.example.sync", concurrency = 4)]
    fn sync(&self) {}

    #[wamp::subscribe("com.example.sync_event", timeout_ms = 100)]
    fn sync_event(&self) {}

    #[wamp::procedure("com.example.zero", concurrency = 0)]
    async fn zero(&self) {}

    #[wamp::procedure("com.example.text", timeout_ms = "1s")]
    async fn text(&self) {}

    #[wamp::procedure("com.example.grind", blocking = true, concurrency = 2)]
    fn grind(&self) {}
}

fn main() {}
