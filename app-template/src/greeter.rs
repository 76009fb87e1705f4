//! The greeter: one procedure that answers, one subscription that listens,
//! one procedure that reports what it heard.

use std::collections::VecDeque;

/// How many notes the greeter remembers.
const NOTES_KEPT: usize = 100;

/// What the greeter refuses, one error URI per variant, under
/// `com.example.{{crate_name}}.error`. Callers get it back with
/// `wamp::Error::decode::<GreeterError>()`.
#[derive(Debug, PartialEq, wamp::Error)]
#[wamp(prefix = "com.example.{{crate_name}}.error")]
pub enum GreeterError {
    /// `...error.no_name`: the name was empty.
    #[wamp(message = "a greeting needs a name")]
    NoName,
}

/// Greets callers and remembers the last notes published to it.
///
/// Its URIs start with the prefix below: `com.example.{{crate_name}}.greet`,
/// `.note` and `.notes`. Change `com.example` to a domain you own.
/// `client = "GreeterClient"` also generates a typed client: one method per
/// procedure, and `publish_note` for the topic.
#[derive(Default)]
pub struct Greeter {
    notes: VecDeque<String>,
}

#[wamp::component(prefix = "com.example.{{crate_name}}", client = "GreeterClient", inventory = false)]
impl Greeter {
    /// `greet(name)`: a greeting for `name`; an empty name is refused with
    /// `GreeterError::NoName`.
    #[wamp::procedure("greet")]
    fn greet(&self, name: String) -> Result<String, GreeterError> {
        if name.trim().is_empty() {
            return Err(GreeterError::NoName);
        }
        Ok(format!("Hello, {name}!"))
    }

    /// Every event published to `note` with a text as its first argument.
    #[wamp::subscribe("note")]
    fn note(&mut self, text: String) {
        tracing::info!(%text, "note received");
        if self.notes.len() == NOTES_KEPT {
            self.notes.pop_front();
        }
        self.notes.push_back(text);
    }

    /// `notes()`: the notes received so far, oldest first.
    #[wamp::procedure("notes")]
    fn notes(&self) -> Vec<String> {
        self.notes.iter().cloned().collect()
    }
}
