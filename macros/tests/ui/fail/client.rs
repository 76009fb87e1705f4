#[derive(Default)]
struct Named;

#[wamp::component(inventory = false, client = "not a name")]
impl Named {}

/// Read by the component, but a caller cannot send it.
#[derive(serde::Deserialize)]
struct OnlyIn {
    _x: u32,
}

#[derive(Default)]
struct Sink;

#[wamp::component(inventory = false, client = "SinkClient")]
impl Sink {
    #[wamp::procedure("com.example.sink")]
    fn sink(&self, _value: OnlyIn) {}
}

/// Sent by the component, but a caller cannot read it.
#[derive(serde::Serialize)]
struct OnlyOut {
    x: u32,
}

#[derive(Default)]
struct Source;

#[wamp::component(inventory = false, client = "SourceClient")]
impl Source {
    #[wamp::procedure("com.example.source")]
    fn source(&self) -> OnlyOut {
        OnlyOut { x: 1 }
    }
}

fn main() {}
