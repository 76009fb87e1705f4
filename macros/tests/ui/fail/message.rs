use wamp::prelude::*;

struct Ping;
struct Pong;

#[derive(Default)]
struct Player;

#[wamp::component(inventory = false)]
impl Player {
    #[wamp::message]
    fn nothing(&self) {}

    #[wamp::message]
    fn two(&self, _ping: Ping, _pong: Pong) {}

    #[wamp::message]
    fn borrowed(&self, _ping: &Ping) {}

    #[wamp::message("com.example.ping")]
    fn with_uri(&self, _ping: Ping) {}

    #[wamp::message]
    fn details(&self, _ping: Ping, _call: CallDetails) {}

    #[wamp::message]
    fn first(&self, _ping: Ping) {}

    #[wamp::message]
    fn again(&mut self, _ping: Ping) {}

    #[wamp::message]
    fn with_options(&self, #[wamp(name = "p")] _pong: Pong) {}

    #[wamp::message]
    fn reference(&self, _pong: Pong) -> &str {
        "pong"
    }
}

fn main() {}
