//! The loose URI rule, checked at compile time so that a typo in a
//! procedure or topic fails the build instead of the REGISTER.
//!
//! A URI is a non-empty list of dot-separated components; no component
//! holds whitespace or `#`. Patterns (`match = "prefix"` or
//! `match = "wildcard"`) may also have empty components.

/// Why a URI breaks the rule.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The URI is the empty string.
    Empty,
    /// Component `n` (from 1) is empty.
    EmptyComponent(usize),
    /// Component `n` (from 1) holds whitespace or `#`.
    BadCharacter {
        /// Its position, from 1.
        index: usize,
        /// The component.
        component: String,
        /// The character.
        found: char,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Empty => f.write_str("it is empty"),
            Problem::EmptyComponent(index) => write!(f, "component {index} is empty"),
            Problem::BadCharacter { index, component, found: '#' } => {
                write!(f, "component {index} (`{component}`) contains `#`")
            }
            Problem::BadCharacter { index, component, found } => {
                write!(f, "component {index} (`{component}`) contains whitespace ({found:?})")
            }
        }
    }
}

/// Checks `uri`; `pattern` allows empty components.
pub(crate) fn check(uri: &str, pattern: bool) -> Result<(), Problem> {
    if uri.is_empty() {
        return Err(Problem::Empty);
    }
    for (index, component) in uri.split('.').enumerate() {
        if component.is_empty() && !pattern {
            return Err(Problem::EmptyComponent(index + 1));
        }
        if let Some(found) = component.chars().find(|c| c.is_whitespace() || *c == '#') {
            return Err(Problem::BadCharacter { index: index + 1, component: component.to_owned(), found });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn plain_uris() {
        assert!(check("com.example.add2", false).is_ok());
        assert!(check("add2", false).is_ok());
        assert!(check("com.example-app.add_2", false).is_ok());
        assert!(check("", false).is_err());
        assert!(check("com..add2", false).is_err());
        assert!(check("com.example.", false).is_err());
        assert!(check(".com", false).is_err());
        assert!(check("com.exa mple", false).is_err());
        assert!(check("com.example\t", false).is_err());
        assert!(check("com.#.x", false).is_err());
    }

    #[test]
    fn patterns_may_have_empty_components() {
        assert!(check("com..add2", true).is_ok());
        assert!(check("..", true).is_ok());
        assert!(check("com.example.", true).is_ok());
        assert!(check("com. .x", true).is_err());
        assert!(check("", true).is_err());
    }

    #[test]
    fn messages_name_the_component() {
        let message = |uri| check(uri, false).unwrap_err().to_string();
        assert_eq!(message("com.exa mple"), "component 2 (`exa mple`) contains whitespace (' ')");
        assert_eq!(message("com.#"), "component 2 (`#`) contains `#`");
        assert_eq!(message("a..b"), "component 2 is empty");
        assert_eq!(message(""), "it is empty");
    }
}
