// A factory creates the component for the inventory.
struct Shop;

impl Shop {
    fn open() -> Self {
        Shop
    }
}

#[wamp::component(factory = "Shop::open", inventory = false)]
impl Shop {
    #[wamp::procedure("com.example.open")]
    fn is_open(&self) -> bool {
        true
    }
}

struct Till;

#[wamp::component(factory = "not a path")]
impl Till {}

fn main() {}
