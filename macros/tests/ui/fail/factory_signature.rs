// A factory takes no arguments and returns the component itself.
struct Shop {
    name: String,
}

impl Shop {
    fn open(name: &str) -> Self {
        Shop { name: name.to_owned() }
    }
}

#[wamp::component(factory = "Shop::open")]
impl Shop {
    #[wamp::procedure("com.example.shop.name")]
    fn name(&self) -> String {
        self.name.clone()
    }
}

struct Till;

impl Till {
    fn open() -> Result<Self, String> {
        Ok(Till)
    }
}

#[wamp::component(factory = "Till::open")]
impl Till {}

fn main() {}
