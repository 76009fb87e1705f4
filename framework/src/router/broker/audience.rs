//! Who of a topic's subscribers receives one publication: the publisher's
//! black- and whitelists (`exclude*` and `eligible*` options).

use crate::auth::Identity;
use crate::protocol::{Dict, Id, Value};
use crate::router::FastSet;

/// The options of a PUBLISH that choose its receivers.
pub const KEYS: [&str; 6] =
    ["eligible", "eligible_authid", "eligible_authrole", "exclude", "exclude_authid", "exclude_authrole"];

/// The receivers a publication allows, from its options. Lists become sets,
/// so a long list costs its length once, not once per subscriber.
#[derive(Debug, Default)]
pub struct Audience<'a> {
    eligible: Option<FastSet<Id>>,
    eligible_authid: Option<FastSet<&'a str>>,
    eligible_authrole: Option<FastSet<&'a str>>,
    exclude: FastSet<Id>,
    exclude_authid: FastSet<&'a str>,
    exclude_authrole: FastSet<&'a str>,
}

fn sessions(options: &Dict, key: &str) -> Option<FastSet<Id>> {
    let list = options.get(key)?.as_list()?;
    Some(list.iter().filter_map(Value::as_u64).collect())
}

fn names<'a>(options: &'a Dict, key: &str) -> Option<FastSet<&'a str>> {
    let list = options.get(key)?.as_list()?;
    Some(list.iter().filter_map(Value::as_str).collect())
}

impl<'a> Audience<'a> {
    /// The lists of `options` (checked against `PUBLISH.Options`), or
    /// `None` when there are none and every subscriber may receive.
    pub fn from_options(options: &'a Dict) -> Option<Self> {
        if !KEYS.iter().any(|key| options.contains_key(*key)) {
            return None;
        }
        Some(Audience {
            eligible: sessions(options, "eligible"),
            eligible_authid: names(options, "eligible_authid"),
            eligible_authrole: names(options, "eligible_authrole"),
            exclude: sessions(options, "exclude").unwrap_or_default(),
            exclude_authid: names(options, "exclude_authid").unwrap_or_default(),
            exclude_authrole: names(options, "exclude_authrole").unwrap_or_default(),
        })
    }

    /// Whether `session` (who is `identity`) receives the publication:
    /// on every whitelist given, on no blacklist.
    pub fn admits(&self, session: Id, identity: &Identity) -> bool {
        let on = |list: &Option<FastSet<&str>>, name: &str| list.as_ref().map_or(true, |l| l.contains(name));
        self.eligible.as_ref().map_or(true, |l| l.contains(&session))
            && on(&self.eligible_authid, &identity.authid)
            && on(&self.eligible_authrole, &identity.authrole)
            && !self.exclude.contains(&session)
            && !self.exclude_authid.contains(identity.authid.as_str())
            && !self.exclude_authrole.contains(identity.authrole.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(authid: &str, authrole: &str) -> Identity {
        Identity { authid: authid.into(), authrole: authrole.into(), ..Identity::anonymous() }
    }

    fn list(values: &[Value]) -> Value {
        Value::List(values.to_vec())
    }

    #[test]
    fn every_whitelist_and_no_blacklist() {
        assert!(Audience::from_options(&Dict::new()).is_none());
        let options = Dict::from([
            ("eligible".to_owned(), list(&[1.into(), 2.into(), 3.into()])),
            ("eligible_authrole".to_owned(), list(&["staff".into(), "manager".into()])),
            ("exclude".to_owned(), list(&[2.into()])),
            ("exclude_authid".to_owned(), list(&["mallory".into()])),
        ]);
        let audience = Audience::from_options(&options).unwrap();
        assert!(audience.admits(1, &who("alice", "staff")));
        assert!(!audience.admits(2, &who("bob", "staff")), "excluded by session");
        assert!(!audience.admits(3, &who("mallory", "manager")), "excluded by authid");
        assert!(!audience.admits(3, &who("carol", "customer")), "not an eligible role");
        assert!(!audience.admits(4, &who("dave", "staff")), "not an eligible session");
        let empty = Dict::from([("eligible".to_owned(), list(&[]))]);
        assert!(!Audience::from_options(&empty).unwrap().admits(1, &who("a", "b")), "an empty whitelist");
    }
}
