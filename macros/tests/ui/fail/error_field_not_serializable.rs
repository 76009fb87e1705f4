// Fields travel as arguments, so they convert through serde.
struct Opaque;

#[derive(wamp::Error)]
#[wamp(prefix = "com.example.error")]
enum Failure {
    Broken(Opaque),
}

fn main() {}
