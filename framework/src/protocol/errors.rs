//! The WAMP URIs for errors and close reasons, in one place.
//!
//! Router and client code refer to these constants, never to string
//! literals, so a typo cannot silently create a new error.

/// A peer broke the protocol (wrong message for the session's state,
/// malformed message, wrong serialization).
pub const PROTOCOL_VIOLATION: &str = "wamp.error.protocol_violation";
/// A URI (realm, topic, procedure) is not valid.
pub const INVALID_URI: &str = "wamp.error.invalid_uri";
/// The realm of a HELLO does not exist.
pub const NO_SUCH_REALM: &str = "wamp.error.no_such_realm";
/// A CALL named a procedure nobody registered.
pub const NO_SUCH_PROCEDURE: &str = "wamp.error.no_such_procedure";
/// A REGISTER named a procedure that is already registered.
pub const PROCEDURE_ALREADY_EXISTS: &str = "wamp.error.procedure_already_exists";
/// An UNREGISTER named a registration the session does not own.
pub const NO_SUCH_REGISTRATION: &str = "wamp.error.no_such_registration";
/// An UNSUBSCRIBE named a subscription the session does not hold.
pub const NO_SUCH_SUBSCRIPTION: &str = "wamp.error.no_such_subscription";
/// A call's arguments do not fit the procedure.
pub const INVALID_ARGUMENT: &str = "wamp.error.invalid_argument";
/// A call was canceled (by its caller, or because its callee left).
pub const CANCELED: &str = "wamp.error.canceled";
/// A call or other request timed out.
pub const TIMEOUT: &str = "wamp.error.timeout";
/// The peer is not authorized for the action.
pub const NOT_AUTHORIZED: &str = "wamp.error.not_authorized";
/// The router is shutting down (ABORT reason before a session is open).
pub const SYSTEM_SHUTDOWN_ERROR: &str = "wamp.error.system_shutdown";
/// An option asked for a feature the router does not offer.
pub const OPTION_NOT_ALLOWED: &str = "wamp.error.option_not_allowed";
/// A peer asked for a feature another peer of the request does not
/// support (e.g. progressive call invocations to a callee without them).
pub const FEATURE_NOT_SUPPORTED: &str = "wamp.error.feature_not_supported";
/// The session was closed by the other side while a request was open.
pub const NO_SUCH_SESSION: &str = "wamp.error.no_such_session";
/// A callee failed unexpectedly while running a call (for us: the handler
/// panicked). Not in the specification; the URI Autobahn uses for the
/// same case.
pub const RUNTIME_ERROR: &str = "wamp.error.runtime_error";

/// GOODBYE reason: a normal close initiated by the sender.
pub const CLOSE_NORMAL: &str = "wamp.close.normal";
/// GOODBYE reason: the answer to a peer's GOODBYE.
pub const GOODBYE_AND_OUT: &str = "wamp.close.goodbye_and_out";
/// GOODBYE reason: the router is shutting down.
pub const CLOSE_SYSTEM_SHUTDOWN: &str = "wamp.close.system_shutdown";
/// GOODBYE reason: the router closed this session (e.g. it was killed).
pub const CLOSE_REALM: &str = "wamp.close.close_realm";
/// GOODBYE reason: the router closed a session that stopped reading
/// while its outbound queue was full (the realm's `close` stall policy).
/// Not in the specification, hence outside the `wamp.` namespace.
pub const CLOSE_STALLED: &str = "actix_wamp.close.stalled";
/// A SUBSCRIBE would take the session past the router's
/// `max_subscriptions_per_session`. Not in the specification.
pub const TOO_MANY_SUBSCRIPTIONS: &str = "actix_wamp.error.too_many_subscriptions";
/// A REGISTER would take the session past the router's
/// `max_registrations_per_session`. Not in the specification.
pub const TOO_MANY_REGISTRATIONS: &str = "actix_wamp.error.too_many_registrations";
/// A CALL would take the caller past the router's
/// `max_calls_per_session` calls in flight. Not in the specification.
pub const TOO_MANY_CALLS: &str = "actix_wamp.error.too_many_calls";
/// A CALL would take its callee past the router's
/// `max_invocations_per_session` invocations in flight. Not in the
/// specification.
pub const CALLEE_OVERLOADED: &str = "actix_wamp.error.callee_overloaded";
/// `wamp.session.add_testament` would take the session past the
/// router's `max_testament_bytes_per_session`. Not in the specification.
pub const TESTAMENT_LIMIT: &str = "actix_wamp.error.testament_limit";
/// None of the authentication methods a client offered is available.
pub const NO_AUTH_METHOD: &str = "wamp.error.no_auth_method";
/// ABORT: the client did not prove who it said it was.
pub const AUTHENTICATION_FAILED: &str = "wamp.error.authentication_failed";
/// ERROR: the role may not ask for its identity to be disclosed.
pub const OPTION_DISALLOWED_DISCLOSE_ME: &str = "wamp.error.option_disallowed.disclose_me";
