//! The notes component: every note published, kept and listed.

/// Notes kept.
const KEPT: usize = 1000;

/// Keeps the notes published to `com.example.notes.created`.
#[derive(Default)]
pub struct Notes {
    notes: Vec<String>,
}

#[wamp::component(prefix = "com.example.notes", client = "NotesClient", inventory = false)]
impl Notes {
    /// A new note, from any WAMP peer or from the REST API.
    #[wamp::subscribe("created")]
    fn created(&mut self, text: String) {
        if self.notes.len() == KEPT {
            self.notes.remove(0);
        }
        self.notes.push(text);
    }

    /// `list()`: the notes, oldest first.
    #[wamp::procedure("list")]
    fn list(&self) -> Vec<String> {
        self.notes.clone()
    }
}
