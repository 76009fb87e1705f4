// An application error type is an enum: one variant per error URI.
#[derive(Debug, wamp::Error)]
struct NotFound {
    what: String,
}

fn main() {}
