// Attribute arguments in a form the macros do not read, and a component
// that is not a named type: each gets an error that shows the right form.
#[derive(Default)]
struct Sensor;

#[wamp::component(realm = "bad realm")]
impl Sensor {}

#[derive(Default)]
struct Meter;

#[wamp::component(inventory = false)]
impl Meter {
    #[wamp::procedure = "com.example.read"]
    fn read(&self) {}

    #[wamp::subscribe(com.example.reset)]
    fn reset(&self) {}
}

#[wamp::component(inventory = false)]
impl [u8; 4] {}

fn main() {}
