// Handler names that would give the typed client a method it already has,
// or two methods of one name.
#[derive(Default)]
struct Shop;

#[wamp::component(inventory = false, client = "ShopClient")]
impl Shop {
    #[wamp::procedure("com.example.new")]
    fn new(&self) {}

    #[wamp::procedure("com.example.options")]
    fn with_call_options(&self) {}

    #[wamp::subscribe("com.example.sold")]
    fn sold(&self) {}

    #[wamp::procedure("com.example.publish_sold")]
    fn publish_sold(&self) {}
}

fn main() {}
