//! The attributes imported by name, a component without `Default` kept out
//! of the inventory, and a component in a module.

use wamp::{component, procedure, subscribe};

pub struct Settings {
    pub greeting: String,
}

#[component(inventory = false)]
impl Settings {
    #[procedure("com.example.greeting")]
    fn greeting(&self) -> String {
        self.greeting.clone()
    }

    #[subscribe("com.example.greeting.set")]
    fn set(&mut self, greeting: String) {
        self.greeting = greeting;
    }
}

mod nested {
    #[derive(Default)]
    pub struct Inner;

    #[wamp::component(realm = "other.realm", inventory = true)]
    impl Inner {
        #[wamp::procedure("com.example.inner")]
        fn inner(&self) {}
    }
}

fn main() {
    let _ = nested::Inner;
    let _ = Settings { greeting: String::new() };
}

/// Methods under `#[cfg]`: their registrations follow them.
#[derive(Default)]
pub struct Configured;

#[wamp::component]
impl Configured {
    #[cfg(any())]
    #[wamp::procedure("com.example.configured")]
    fn never(&self, missing: NotAType) {}

    #[cfg(all())]
    #[wamp::procedure("com.example.configured")]
    fn always(&self) {}

    #[cfg(any())]
    fn on_join(&self) {}
}

#[derive(Default)]
pub struct AllConfiguredOut;

#[wamp::component]
impl AllConfiguredOut {
    #[cfg(any())]
    #[wamp::procedure("com.example.never")]
    fn never(&self) {}
}
