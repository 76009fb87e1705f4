// Each variant needs a valid URI of its own.
#[derive(Debug, wamp::Error)]
enum ShopError {
    // No URI and no prefix on the enum.
    SoldOut,
    #[wamp(uri = "com.shop.bad uri")]
    BadUri,
    #[wamp(uri = "com.shop.closed")]
    Closed,
    #[wamp(uri = "com.shop.closed")]
    AlsoClosed,
    #[wamp(uri = "com.shop.late", message = "too late")]
    Late(u32),
    #[wamp(url = "com.shop.typo")]
    Typo,
}

#[derive(Debug, wamp::Error)]
#[wamp(prefix = "com..shop")]
enum BadPrefix {
    Empty,
}

fn main() {}
