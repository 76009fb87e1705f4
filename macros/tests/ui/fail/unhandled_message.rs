// A component takes only the messages it has a #[wamp::message] method for.
struct Reset;
struct Add(u64);
struct Stop;

#[derive(Default)]
struct Counter {
    count: u64,
}

#[wamp::component(inventory = false)]
impl Counter {
    #[wamp::message]
    fn reset(&mut self, _: Reset) -> u64 {
        std::mem::take(&mut self.count)
    }

    #[wamp::message]
    fn add(&mut self, Add(n): Add) -> u64 {
        self.count += n;
        self.count
    }
}

async fn stop(counter: wamp::component::ComponentHandle<Counter>) {
    let _ = counter.send(Stop).await;
}

fn main() {}
