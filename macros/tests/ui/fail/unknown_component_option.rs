#[derive(Default)]
struct Calc;

#[wamp::component(realms = "realm1")]
impl Calc {}

#[derive(Default)]
struct Other;

#[wamp::component(inventory = "no")]
impl Other {}

fn main() {}
