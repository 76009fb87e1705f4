//! Who a session is (authentication) and what it may do (authorization).
//!
//! * Authentication: the methods a realm offers ([`AuthMethod`]:
//!   `anonymous`, `ticket`, `wampcra`, `cryptosign`) and the principals it
//!   knows ([`Principal`]). The router answers HELLO with WELCOME or
//!   CHALLENGE and checks AUTHENTICATE before any realm is created or
//!   joined, and slows down peer addresses that fail too often.
//! * Authorization: the permissions of a realm's roles per URI pattern
//!   ([`RoleConfig`], [`Permission`]), which the realm checks on every
//!   CALL, REGISTER, PUBLISH and SUBSCRIBE.
//!
//! The settings are part of each realm's configuration
//! ([`RealmConfig`](crate::config::RealmConfig)); the guide
//! [`security`](crate::guide::security) explains them
//! around a complete example.

pub(crate) mod authenticator;
pub(crate) mod authorizer;
pub(crate) mod cryptosign;
pub(crate) mod dynamic;
pub(crate) mod error;
mod hex;
pub(crate) mod identity;
mod permissions;
mod secret;
mod settings;
mod throttle;
pub(crate) mod wampcra;

pub use authenticator::{AuthConfigError, DYNAMIC_PROVIDER, STATIC_PROVIDER};
pub(crate) use authenticator::{Authenticator, Next, Pending, Query};
pub(crate) use error::AuthError;
pub(crate) use identity::Identity;
pub(crate) use permissions::{Denied, Roles};
pub use secret::{Secret, SecretError, SecretSource};
pub use settings::{
    default_methods, Action, AuthMethod, Permission, Principal, RoleConfig, DEFAULT_ANONYMOUS_ROLE,
    TRUSTED_ROLE,
};
pub(crate) use throttle::FailureLimit;

/// Lower-case hex digits of `bytes` (cryptosign keys and signatures).
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// The bytes of hex `text`, or `None` if it is not hex.
pub(crate) fn hex_decode(text: &str) -> Option<Vec<u8>> {
    hex::decode(text)
}
