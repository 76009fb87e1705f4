//! Prefix and wildcard patterns of subscriptions and registrations, and
//! how URIs are matched against them.
//!
//! Patterns are kept in a tree of URI components, so that matching a URI
//! visits only the branches its own components lead to: its cost grows
//! with the URI's length and with the patterns that share its components,
//! not with the number of unrelated patterns.
//!
//! * A **prefix** pattern `a.b.c` matches every URI that starts with that
//!   text: `a.b.c`, `a.b.c.d`, `a.b.cd`. It is kept as the path `a`, `b`
//!   and the partial last component `c`, which a URI's third component
//!   must start with.
//! * A **wildcard** pattern `a..c` matches URIs of as many components
//!   whose non-empty components are equal: `a.x.c`, not `a.x.y.c`.

use super::FastMap as HashMap;
use crate::protocol::Id;

pub use crate::protocol::options::MatchPolicy;

#[derive(Debug, Default)]
struct Node {
    children: HashMap<Box<str>, Node>,
    /// The child for an empty (any) component of wildcard patterns.
    any: Option<Box<Node>>,
    /// The wildcard pattern that ends here.
    end: Option<Id>,
    /// Prefix patterns whose partial last component follows this node.
    partials: HashMap<Box<str>, Id>,
    /// The byte lengths of `partials`' keys, ascending, each once: a URI
    /// component is looked up at these lengths only.
    partial_lengths: Vec<usize>,
}

impl Node {
    fn is_empty(&self) -> bool {
        self.children.is_empty() && self.any.is_none() && self.end.is_none() && self.partials.is_empty()
    }

    fn child_mut(&mut self, component: &str, wildcard: bool) -> &mut Node {
        if wildcard && component.is_empty() {
            return self.any.get_or_insert_with(Box::default);
        }
        self.children.entry(component.into()).or_default()
    }

    fn child(&self, component: &str, wildcard: bool) -> Option<&Node> {
        if wildcard && component.is_empty() {
            self.any.as_deref()
        } else {
            self.children.get(component)
        }
    }

    /// Removes the pattern along `path`, then whatever it leaves empty.
    fn remove(
        &mut self,
        path: &[&str],
        wildcard: bool,
        last: &mut dyn FnMut(&mut Node) -> Option<Id>,
    ) -> Option<Id> {
        let Some((first, rest)) = path.split_first() else { return last(self) };
        let removed;
        if wildcard && first.is_empty() {
            let child = self.any.as_deref_mut()?;
            removed = child.remove(rest, wildcard, last);
            if child.is_empty() {
                self.any = None;
            }
        } else {
            let child = self.children.get_mut(*first)?;
            removed = child.remove(rest, wildcard, last);
            if child.is_empty() {
                self.children.remove(*first);
            }
        }
        removed
    }
}

/// Splits a prefix pattern into its full components and its partial last
/// one.
fn split_prefix(pattern: &str) -> (Vec<&str>, &str) {
    match pattern.rsplit_once('.') {
        Some((path, partial)) => (path.split('.').collect(), partial),
        None => (Vec::new(), pattern),
    }
}

/// Patterns of one policy (prefix or wildcard), each with its id.
#[derive(Debug, Default)]
pub struct Patterns {
    root: Node,
    len: usize,
}

impl Patterns {
    #[cfg(test)]
    /// How many patterns are kept.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The id of a prefix pattern, if kept.
    pub fn get_prefix(&self, pattern: &str) -> Option<Id> {
        let (path, partial) = split_prefix(pattern);
        let mut node = &self.root;
        for component in path {
            node = node.child(component, false)?;
        }
        node.partials.get(partial).copied()
    }

    /// Keeps a prefix pattern with `id` (replacing an id it had).
    pub fn insert_prefix(&mut self, pattern: &str, id: Id) {
        let (path, partial) = split_prefix(pattern);
        let mut node = &mut self.root;
        for component in path {
            node = node.child_mut(component, false);
        }
        if node.partials.insert(partial.into(), id).is_none() {
            self.len += 1;
            if let Err(at) = node.partial_lengths.binary_search(&partial.len()) {
                node.partial_lengths.insert(at, partial.len());
            }
        }
    }

    /// Forgets a prefix pattern; returns its id.
    pub fn remove_prefix(&mut self, pattern: &str) -> Option<Id> {
        let (path, partial) = split_prefix(pattern);
        let removed = self.root.remove(&path, false, &mut |node: &mut Node| {
            let id = node.partials.remove(partial)?;
            if !node.partials.keys().any(|k| k.len() == partial.len()) {
                node.partial_lengths.retain(|l| *l != partial.len());
            }
            Some(id)
        });
        self.len -= usize::from(removed.is_some());
        removed
    }

    /// Calls `found` with the id and length of every prefix pattern `uri`
    /// starts with.
    pub fn prefixes_of(&self, uri: &str, mut found: impl FnMut(Id, usize)) {
        let mut node = &self.root;
        let mut offset = 0;
        for component in uri.split('.') {
            for &length in &node.partial_lengths {
                if length > component.len() {
                    break;
                }
                if let Some(id) = component.get(..length).and_then(|partial| node.partials.get(partial)) {
                    found(*id, offset + length);
                }
            }
            match node.children.get(component) {
                Some(child) => node = child,
                None => return,
            }
            offset += component.len() + 1;
        }
    }

    /// The id of a wildcard pattern, if kept.
    pub fn get_wildcard(&self, pattern: &str) -> Option<Id> {
        let mut node = &self.root;
        for component in pattern.split('.') {
            node = node.child(component, true)?;
        }
        node.end
    }

    /// Keeps a wildcard pattern with `id` (replacing an id it had).
    pub fn insert_wildcard(&mut self, pattern: &str, id: Id) {
        let mut node = &mut self.root;
        for component in pattern.split('.') {
            node = node.child_mut(component, true);
        }
        if node.end.replace(id).is_none() {
            self.len += 1;
        }
    }

    /// Forgets a wildcard pattern; returns its id.
    pub fn remove_wildcard(&mut self, pattern: &str) -> Option<Id> {
        let path: Vec<&str> = pattern.split('.').collect();
        let removed = self.root.remove(&path, true, &mut |node: &mut Node| node.end.take());
        self.len -= usize::from(removed.is_some());
        removed
    }

    /// Calls `found` with the id of every wildcard pattern `uri` matches,
    /// best first by the specification's rule (a pattern whose first
    /// wildcard comes later wins; on a tie, the next wildcard decides),
    /// until `found` returns `false`.
    pub fn wildcards_of(&self, uri: &str, mut found: impl FnMut(Id) -> bool) {
        visit(&self.root, uri.split('.'), &mut found);
    }
}

/// Depth first, a component's own branch before the wildcard one; returns
/// `false` once `found` asked to stop. The remaining components are an
/// iterator, copied at each fork, so matching allocates nothing.
fn visit(node: &Node, mut rest: std::str::Split<'_, char>, found: &mut dyn FnMut(Id) -> bool) -> bool {
    let Some(first) = rest.next() else {
        return node.end.map_or(true, &mut *found);
    };
    if let Some(child) = node.children.get(first) {
        if !visit(child, rest.clone(), found) {
            return false;
        }
    }
    match &node.any {
        Some(any) => visit(any, rest, found),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefixes(p: &Patterns, uri: &str) -> Vec<(Id, usize)> {
        let mut all = Vec::new();
        p.prefixes_of(uri, |id, len| all.push((id, len)));
        all
    }

    fn wildcards(p: &Patterns, uri: &str) -> Vec<Id> {
        let mut all = Vec::new();
        p.wildcards_of(uri, |id| {
            all.push(id);
            true
        });
        all
    }

    #[test]
    fn prefixes_match_as_text() {
        let mut p = Patterns::default();
        p.insert_prefix("com.myapp.myobject1", 1);
        p.insert_prefix("com.myapp.", 2);
        p.insert_prefix("com", 3);
        p.insert_prefix("org.x", 4);
        assert_eq!(p.len(), 4);
        assert_eq!(prefixes(&p, "com.myapp.myobject1.myprocedure1"), vec![(3, 3), (2, 10), (1, 19)]);
        assert_eq!(prefixes(&p, "com.myapp.myobject1-mysubobject1"), vec![(3, 3), (2, 10), (1, 19)]);
        assert_eq!(prefixes(&p, "com.myapp.myobject1"), vec![(3, 3), (2, 10), (1, 19)]);
        assert_eq!(prefixes(&p, "com.myapp.myobject"), vec![(3, 3), (2, 10)]);
        assert_eq!(prefixes(&p, "com.myapp"), vec![(3, 3)], "'com.myapp.' needs a component after the dot");
        assert_eq!(prefixes(&p, "company"), vec![(3, 3)]);
        assert_eq!(prefixes(&p, "org.y"), vec![]);
        assert_eq!(p.get_prefix("com.myapp."), Some(2));
        assert_eq!(p.remove_prefix("com.myapp."), Some(2));
        assert_eq!(p.remove_prefix("com.myapp."), None);
        assert_eq!(prefixes(&p, "com.myapp.myobject1"), vec![(3, 3), (1, 19)]);
        for pattern in ["com.myapp.myobject1", "com", "org.x"] {
            assert!(p.remove_prefix(pattern).is_some());
        }
        assert!(p.is_empty() && p.root.is_empty(), "{:?}", p.root);
    }

    #[test]
    fn prefixes_cut_inside_a_character_are_skipped() {
        let mut p = Patterns::default();
        p.insert_prefix("a.b", 1);
        assert_eq!(prefixes(&p, "a.é"), vec![]);
        p.insert_prefix("a.é", 2);
        assert_eq!(prefixes(&p, "a.éa"), vec![(2, 4)]);
    }

    #[test]
    fn wildcards_match_whole_components_best_first() {
        // The specification's example of registrations and calls.
        let mut p = Patterns::default();
        p.insert_wildcard("a1.b2..d4.e5", 4);
        p.insert_wildcard("a1.b2.c3..e5", 5);
        p.insert_wildcard("a1.b2..d4.e5..g7", 6);
        p.insert_wildcard("a1.b2..d4..f6.g7", 7);
        assert_eq!(wildcards(&p, "a1.b2.c55.d4.e5"), vec![4]);
        assert_eq!(wildcards(&p, "a1.b2.c3.d4.e5"), vec![5, 4]);
        assert_eq!(wildcards(&p, "a1.b2.c88.d4.e5.f6.g7"), vec![6, 7]);
        assert_eq!(wildcards(&p, "a2.b2.c2.d2.e2"), Vec::<Id>::new());
        assert_eq!(wildcards(&p, "a1.b2.c3.d4.e5.f"), Vec::<Id>::new(), "one component too many");
        let mut first = None;
        p.wildcards_of("a1.b2.c3.d4.e5", |id| {
            first = Some(id);
            false
        });
        assert_eq!(first, Some(5));
        assert_eq!(p.get_wildcard("a1.b2..d4.e5"), Some(4));
        for pattern in ["a1.b2..d4.e5", "a1.b2.c3..e5", "a1.b2..d4.e5..g7", "a1.b2..d4..f6.g7"] {
            assert!(p.remove_wildcard(pattern).is_some(), "{pattern}");
        }
        assert!(p.is_empty() && p.root.is_empty());
    }
}
