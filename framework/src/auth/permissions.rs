//! Authorization: what each role of a realm may do on which URIs.
//!
//! A realm without roles in its configuration lets every session do
//! everything (the router's behaviour before authorization existed, and
//! right for an anonymous development realm). A realm with roles denies
//! whatever its roles do not allow, except to the `trusted` role of
//! in-process components, which may do everything unless the realm defines
//! a role of that name itself.

use std::collections::HashMap;

use super::settings::{Action, Permission, RoleConfig, TRUSTED_ROLE};
use crate::protocol::options::MatchPolicy;

/// The URIs of the meta API start with this; the role's `meta_api` flag,
/// not its rules, decides whether it may call and subscribe to them.
const META_PREFIX: &str = "wamp.";

/// The roles of one realm.
#[derive(Debug, Clone, Default)]
pub struct Roles {
    roles: HashMap<String, RoleConfig>,
}

/// An action was refused: the requester gets `wamp.error.not_authorized`
/// with this explanation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

impl Roles {
    /// The roles of a realm's configuration.
    pub fn new(configs: &[RoleConfig]) -> Self {
        Roles { roles: configs.iter().map(|r| (r.name.clone(), r.clone())).collect() }
    }

    fn role(&self, name: &str) -> Result<Option<&RoleConfig>, Denied> {
        match self.roles.get(name) {
            Some(role) => Ok(Some(role)),
            None if name == TRUSTED_ROLE => Ok(None),
            None => Err(Denied(format!("the role '{name}' has no permissions in this realm"))),
        }
    }

    /// Whether `role` may perform `action` on `uri` (a URI, or the pattern
    /// of a pattern-based subscription or registration).
    pub fn check(&self, role: &str, action: Action, uri: &str) -> Result<(), Denied> {
        let Some(config) = self.role(role)? else { return Ok(()) };
        let allowed = if uri.starts_with(META_PREFIX) && matches!(action, Action::Call | Action::Subscribe) {
            config.meta_api
        } else {
            decisive_rule(&config.permissions, uri).is_some_and(|rule| rule.allow.contains(&action))
        };
        if allowed {
            Ok(())
        } else {
            Err(Denied(format!("the role '{role}' may not {} '{uri}'", action.name())))
        }
    }

    /// Whether `role` may ask for its identity to be disclosed: as a
    /// caller (`caller`), else as a publisher.
    pub fn check_disclosure(&self, role: &str, caller: bool) -> Result<(), Denied> {
        let Some(config) = self.role(role)? else { return Ok(()) };
        let (allowed, what) = if caller {
            (config.disclose_caller, "caller")
        } else {
            (config.disclose_publisher, "publisher")
        };
        if allowed {
            Ok(())
        } else {
            Err(Denied(format!("the role '{role}' may not ask for {what} disclosure (disclose_me)")))
        }
    }
}

/// The rule that decides for `uri`: an exact rule, else the longest
/// matching prefix, else the matching wildcard with the most fixed
/// components (the first listed among equals).
fn decisive_rule<'a>(rules: &'a [Permission], uri: &str) -> Option<&'a Permission> {
    let matching = || rules.iter().filter(move |r| r.match_policy.matches(&r.uri, uri));
    if let Some(exact) = matching().find(|r| r.match_policy == MatchPolicy::Exact) {
        return Some(exact);
    }
    let longest_prefix =
        matching().filter(|r| r.match_policy == MatchPolicy::Prefix).fold(None::<&Permission>, |best, r| {
            match best {
                Some(b) if b.uri.len() >= r.uri.len() => Some(b),
                _ => Some(r),
            }
        });
    if longest_prefix.is_some() {
        return longest_prefix;
    }
    let fixed = |r: &Permission| r.uri.split('.').filter(|c| !c.is_empty()).count();
    matching().filter(|r| r.match_policy == MatchPolicy::Wildcard).fold(None, |best, r| match best {
        Some(b) if fixed(b) >= fixed(r) => Some(b),
        _ => Some(r),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(uri: &str, match_policy: MatchPolicy, allow: &[Action]) -> Permission {
        Permission { uri: uri.into(), match_policy, allow: allow.to_vec() }
    }

    fn roles() -> Roles {
        use Action::*;
        Roles::new(&[
            RoleConfig {
                name: "full".into(),
                permissions: vec![rule("", MatchPolicy::Prefix, &[Call, Register, Publish, Subscribe])],
                disclose_caller: true,
                disclose_publisher: false,
                meta_api: true,
            },
            RoleConfig {
                name: "mixed".into(),
                permissions: vec![
                    rule("com.app.", MatchPolicy::Prefix, &[Call, Subscribe]),
                    rule("com.app.admin.", MatchPolicy::Prefix, &[]),
                    rule("com.app.admin.status", MatchPolicy::Exact, &[Call]),
                    rule("com..events", MatchPolicy::Wildcard, &[Subscribe]),
                    rule("com.app..events", MatchPolicy::Wildcard, &[Publish]),
                ],
                disclose_caller: false,
                disclose_publisher: false,
                meta_api: false,
            },
        ])
    }

    #[test]
    fn the_most_specific_rule_decides() {
        let r = roles();
        assert!(r.check("mixed", Action::Call, "com.app.add").is_ok());
        assert!(r.check("mixed", Action::Register, "com.app.add").is_err());
        assert!(r.check("mixed", Action::Call, "com.app.admin.reset").is_err(), "the longer prefix decides");
        assert!(r.check("mixed", Action::Call, "com.app.admin.status").is_ok(), "an exact rule wins");
        assert!(r.check("mixed", Action::Subscribe, "com.other.events").is_ok());
        assert!(r.check("mixed", Action::Publish, "com.other.events").is_err());
        assert!(r.check("mixed", Action::Publish, "org.app.events").is_err(), "no rule matches: denied");
        // `com.app.` (prefix) matches com.app.x.events too and wins over wildcards.
        assert!(r.check("mixed", Action::Subscribe, "com.app.x.events").is_ok());
        assert!(r.check("mixed", Action::Publish, "com.app.x.events").is_err());
        assert!(r.check("full", Action::Register, "anything.at.all").is_ok());
    }

    #[test]
    fn the_meta_api_and_disclosure_are_separate_flags() {
        let r = roles();
        assert!(r.check("full", Action::Call, "wamp.session.list").is_ok());
        assert!(r.check("mixed", Action::Call, "wamp.session.list").is_err());
        assert!(r.check("mixed", Action::Subscribe, "wamp.session.on_join").is_err());
        assert!(r.check_disclosure("full", true).is_ok());
        assert!(r.check_disclosure("full", false).is_err());
        assert!(r.check_disclosure("mixed", true).is_err());
    }

    #[test]
    fn unknown_roles_may_do_nothing_and_trusted_may_do_everything() {
        let r = roles();
        let denied = r.check("nobody", Action::Call, "com.app.add").unwrap_err();
        assert!(denied.0.contains("'nobody'"), "{denied}");
        assert!(r.check(TRUSTED_ROLE, Action::Register, "com.app.add").is_ok());
        assert!(r.check_disclosure(TRUSTED_ROLE, false).is_ok());
        let denial = r.check("mixed", Action::Register, "com.app.add").unwrap_err();
        assert_eq!(denial.0, "the role 'mixed' may not register 'com.app.add'");
    }
}
