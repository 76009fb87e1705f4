// An error enum the derive cannot map: each gets an error at its place.
#[derive(Debug, wamp::Error)]
#[wamp(prefix = "com.shop.error")]
enum Generic<T> {
    Failed(T),
}

#[derive(Debug, wamp::Error)]
#[wamp(prefix = "com.shop.error")]
enum Empty {}

#[derive(Debug, wamp::Error)]
#[wamp(prefix = "com.shop.error", uri = "com.shop.error.all")]
enum EnumLevelUri {
    Failed,
}

fn main() {}
