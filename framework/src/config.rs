//! Router settings, layered: built-in defaults, then a TOML file, then
//! `WAMP_*` environment variables.
//!
//! Every key, its default and its variable:
//!
//! | key | default | environment |
//! |---|---|---|
//! | `listen` | `127.0.0.1:8080` | `WAMP_LISTEN` |
//! | `path` | `/ws` | `WAMP_PATH` |
//! | `realms` | `[{ name = "realm1" }]` | (file only) |
//! | `auto_create_realms` | `false` | `WAMP_AUTO_CREATE_REALMS` |
//! | `uri_check` | `loose` | `WAMP_URI_CHECK` |
//! | `max_message_size` | `16777216` (16 MiB) | `WAMP_MAX_MESSAGE_SIZE` |
//! | `ping_interval_secs` | `30` (0: off) | `WAMP_PING_INTERVAL_SECS` |
//! | `ping_timeout_secs` | `30` | `WAMP_PING_TIMEOUT_SECS` |
//! | `shutdown_grace_secs` | `5` | `WAMP_SHUTDOWN_GRACE_SECS` |
//! | `max_queued_bytes` | `16777216` (16 MiB) | `WAMP_MAX_QUEUED_BYTES` |
//! | `stall_timeout_ms` | `10000` | `WAMP_STALL_TIMEOUT_MS` |
//! | `stall_policy` | `close` (or `drop`) | `WAMP_STALL_POLICY` |
//! | `hello_timeout_secs` | `10` | `WAMP_HELLO_TIMEOUT_SECS` |
//! | `max_uri_length` | `1024` | `WAMP_MAX_URI_LENGTH` |
//! | `max_subscriptions_per_session` | `10000` | `WAMP_MAX_SUBSCRIPTIONS_PER_SESSION` |
//! | `max_registrations_per_session` | `1000` | `WAMP_MAX_REGISTRATIONS_PER_SESSION` |
//! | `max_calls_per_session` | `1000` | `WAMP_MAX_CALLS_PER_SESSION` |
//! | `max_invocations_per_session` | `10000` | `WAMP_MAX_INVOCATIONS_PER_SESSION` |
//! | `call_timeout_ms` | `300000` (0: none) | `WAMP_CALL_TIMEOUT_MS` |
//! | `allow_session_kill` | `false` | `WAMP_ALLOW_SESSION_KILL` |
//! | `max_retained_events` | `10000` | `WAMP_MAX_RETAINED_EVENTS` |
//! | `max_retained_bytes` | `67108864` (64 MiB) | `WAMP_MAX_RETAINED_BYTES` |
//! | `max_testament_bytes_per_session` | `65536` | `WAMP_MAX_TESTAMENT_BYTES_PER_SESSION` |
//! | `max_realms` | `100` | `WAMP_MAX_REALMS` |
//! | `realm_idle_timeout_secs` | `60` | `WAMP_REALM_IDLE_TIMEOUT_SECS` |
//! | `max_connections` | `100000` | `WAMP_MAX_CONNECTIONS` |
//! | `max_connections_per_address` | `10000` | `WAMP_MAX_CONNECTIONS_PER_ADDRESS` |
//! | `workers` | `0` (one per core) | `WAMP_WORKERS` |
//! | `tls_cert` | none (plain `ws://`) | `WAMP_TLS_CERT` |
//! | `tls_key` | none | `WAMP_TLS_KEY` |
//! | `tls_handshake_timeout_ms` | `3000` | `WAMP_TLS_HANDSHAKE_TIMEOUT_MS` |
//! | `allowed_origins` | `["*"]` (any) | `WAMP_ALLOWED_ORIGINS` (comma-separated) |
//! | `max_auth_failures` | `10` (0: no limit) | `WAMP_MAX_AUTH_FAILURES` |
//! | `auth_failure_window_secs` | `60` | `WAMP_AUTH_FAILURE_WINDOW_SECS` |
//!
//! Each realm (`[[realms]]`) has `name`, the back-pressure overrides
//! `max_queued_bytes`, `stall_timeout_ms` and `stall_policy`, and the
//! authentication and authorization settings `authmethods` (default
//! `["anonymous"]`), `anonymous_role` (default `anonymous`), `principals`,
//! `roles`, `authenticator`, `authenticator_realm`, `authorizer`,
//! `authorizer_realm` and `authorizer_cache_secs` (see
//! `docs/security.md`).
//!
//! ```
//! let config = wamp::RouterConfig::default();
//! assert_eq!(config.listen, "127.0.0.1:8080");
//! assert_eq!(config.realms[0].name, "realm1");
//! ```

use std::path::Path;
use std::time::Duration;

use config::Source as _;
use serde::{Deserialize, Serialize};

use crate::auth::{self, AuthMethod, Principal, RoleConfig};
use crate::protocol::{UriPolicy, UriRules};
use crate::router::broker::retained::RetentionLimits;
use crate::router::flow::FlowSettings;
pub use crate::router::flow::StallPolicy;
use crate::router::realm::{RealmSettings, SessionLimits};
use crate::websocket::Compression;

/// A realm the router serves. The optional settings override the
/// router-wide ones of the same name for this realm; the authentication
/// and authorization settings are explained in `docs/security.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RealmConfig {
    /// The realm's URI.
    pub name: String,
    /// See [`RouterConfig::max_queued_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queued_bytes: Option<usize>,
    /// See [`RouterConfig::stall_timeout_ms`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_timeout_ms: Option<u64>,
    /// See [`RouterConfig::stall_policy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stall_policy: Option<StallPolicy>,
    /// The authentication methods the realm offers (default: only
    /// `anonymous`). A client gets the first method it lists in
    /// `HELLO.Details.authmethods` that is here.
    #[serde(default = "auth::default_methods")]
    pub authmethods: Vec<AuthMethod>,
    /// The role of anonymous sessions.
    #[serde(default = "default_anonymous_role")]
    pub anonymous_role: String,
    /// The users of the `ticket`, `wampcra` and `cryptosign` methods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<Principal>,
    /// The roles and their permissions. Without roles, every session may
    /// do everything; with them, whatever a session's role does not allow
    /// is refused (`trusted`, the role of in-process components, may do
    /// everything unless defined here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<RoleConfig>>,
    /// A procedure that vouches for users the realm's `principals` do not
    /// list (a dynamic authenticator; see `docs/security.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator: Option<String>,
    /// The realm where `authenticator` is registered (default: this one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_realm: Option<String>,
    /// A procedure asked whether a WebSocket session may call, register,
    /// publish or subscribe (a dynamic authorizer; see
    /// `docs/security.md`), besides the realm's `roles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer: Option<String>,
    /// The realm where `authorizer` is registered (default: this one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorizer_realm: Option<String>,
    /// Seconds a session reuses the authorizer's answer for the same
    /// action and URI (0: ask every time).
    #[serde(default = "default_authorizer_cache_secs")]
    pub authorizer_cache_secs: u64,
}

fn default_authorizer_cache_secs() -> u64 {
    60
}

fn default_anonymous_role() -> String {
    auth::DEFAULT_ANONYMOUS_ROLE.into()
}

impl Default for RealmConfig {
    fn default() -> Self {
        RealmConfig {
            name: String::new(),
            max_queued_bytes: None,
            stall_timeout_ms: None,
            stall_policy: None,
            authmethods: auth::default_methods(),
            anonymous_role: default_anonymous_role(),
            principals: Vec::new(),
            roles: None,
            authenticator: None,
            authenticator_realm: None,
            authorizer: None,
            authorizer_realm: None,
            authorizer_cache_secs: default_authorizer_cache_secs(),
        }
    }
}

impl RealmConfig {
    /// A realm called `name` with the router-wide settings.
    pub fn named(name: impl Into<String>) -> Self {
        RealmConfig { name: name.into(), ..Default::default() }
    }
}

/// Settings of a router and its WebSocket endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouterConfig {
    /// The address to listen on (`host:port`).
    pub listen: String,
    /// The WebSocket path.
    pub path: String,
    /// The realms served.
    pub realms: Vec<RealmConfig>,
    /// Create a realm when a client asks for one that is not declared.
    pub auto_create_realms: bool,
    /// How URIs are checked.
    pub uri_check: UriPolicy,
    /// The largest message accepted, in bytes (continuation frames are
    /// counted together).
    pub max_message_size: usize,
    /// Seconds between WebSocket pings to each client; 0 turns keepalive off.
    pub ping_interval_secs: u64,
    /// Seconds a client may stay silent after a ping before it is closed.
    pub ping_timeout_secs: u64,
    /// Seconds a shutdown waits for sessions to answer GOODBYE.
    pub shutdown_grace_secs: u64,
    /// HTTP worker threads of the standalone server; 0: one per CPU core.
    pub workers: usize,
    /// The bytes a session's outbound queue may hold. A message that takes
    /// a queue over it slows its producer (the router stops reading the
    /// producer's connection) until the queue drains to half.
    pub max_queued_bytes: usize,
    /// Milliseconds a session's queue may stay full before
    /// `stall_policy` applies to it.
    pub stall_timeout_ms: u64,
    /// What happens to a session whose queue stays full: `close` it, or
    /// `drop` the events meant for it until it catches up.
    pub stall_policy: StallPolicy,
    /// Seconds a new connection has to send HELLO (and to finish joining).
    pub hello_timeout_secs: u64,
    /// The longest URI (realm, topic, procedure) accepted, in bytes.
    pub max_uri_length: usize,
    /// Subscriptions one session may hold.
    pub max_subscriptions_per_session: usize,
    /// Registrations one session may hold.
    pub max_registrations_per_session: usize,
    /// Calls one session may have in flight as a caller.
    pub max_calls_per_session: usize,
    /// Invocations one session may have in flight as a callee.
    pub max_invocations_per_session: usize,
    /// Milliseconds a call may wait for its callee before the router
    /// fails it with `wamp.error.timeout`; 0: calls wait forever.
    pub call_timeout_ms: u64,
    /// Whether sessions may close other sessions with the session meta
    /// API (`wamp.session.kill`, `kill_by_authid`, `kill_by_authrole`,
    /// `kill_all`). Off by default: until authorization exists, any
    /// session could otherwise close any other.
    pub allow_session_kill: bool,
    /// Topics per realm whose retained event (`PUBLISH.Options.retain`)
    /// the router keeps; an event for one more is delivered, not kept.
    pub max_retained_events: usize,
    /// Bytes of retained events per realm.
    pub max_retained_bytes: usize,
    /// Bytes of testaments (`wamp.session.add_testament`) one session may
    /// leave with the router.
    pub max_testament_bytes_per_session: usize,
    /// How many realms may run at once when realms are created on demand
    /// (configured realms always run).
    pub max_realms: usize,
    /// Seconds a realm created on demand lives on without sessions.
    pub realm_idle_timeout_secs: u64,
    /// WebSocket connections the router serves at once.
    pub max_connections: usize,
    /// WebSocket connections one peer address may have open at once.
    pub max_connections_per_address: usize,
    /// A PEM file with the certificate chain of the endpoint (the server's
    /// certificate first); with `tls_key`, the standalone server serves
    /// `wss://` only.
    pub tls_cert: Option<String>,
    /// A PEM file with the private key of `tls_cert`.
    pub tls_key: Option<String>,
    /// Milliseconds a new connection has to finish its TLS handshake
    /// before the standalone server drops it (with TLS on).
    pub tls_handshake_timeout_ms: u64,
    /// The web origins whose pages may open a WebSocket to the endpoint
    /// (exact origins such as `https://app.example.com`, or patterns with
    /// `*` standing for any text); `*` alone accepts all. Requests without an `Origin` header always pass.
    pub allowed_origins: Vec<String>,
    /// Failed authentications one peer address may make within
    /// `auth_failure_window_secs`; past it, the address is refused until
    /// the window has passed. 0: no limit.
    pub max_auth_failures: u32,
    /// The window of `max_auth_failures`, in seconds.
    pub auth_failure_window_secs: u64,
    /// Accept permessage-deflate (RFC 7692) from clients that offer it.
    /// Off by default: it costs CPU per message and receiver, and memory
    /// per connection (see [`crate::websocket::Compression`]).
    pub compression: bool,
    /// The zlib level of compressed messages, 0 to 9.
    pub compression_level: u32,
    /// The base-2 logarithm of the largest window the router compresses
    /// with, 9 to 15 (each compressing connection holds about 350 KiB at
    /// 15, 230 KiB at 9).
    pub compression_window_bits: u8,
    /// Messages shorter than this many bytes are sent uncompressed.
    pub compression_min_size: usize,
}

impl Default for RouterConfig {
    fn default() -> Self {
        let limits = SessionLimits::default();
        RouterConfig {
            listen: "127.0.0.1:8080".into(),
            path: "/ws".into(),
            realms: vec![RealmConfig::named("realm1")],
            auto_create_realms: false,
            uri_check: UriPolicy::Loose,
            max_message_size: 16 * 1024 * 1024,
            ping_interval_secs: 30,
            ping_timeout_secs: 30,
            shutdown_grace_secs: 5,
            workers: 0,
            max_queued_bytes: FlowSettings::default().max_queued_bytes,
            stall_timeout_ms: 10_000,
            stall_policy: StallPolicy::default(),
            hello_timeout_secs: 10,
            max_uri_length: crate::protocol::DEFAULT_MAX_URI_LENGTH,
            max_subscriptions_per_session: limits.subscriptions,
            max_registrations_per_session: limits.registrations,
            max_calls_per_session: limits.calls,
            max_invocations_per_session: limits.invocations,
            call_timeout_ms: 300_000,
            allow_session_kill: false,
            max_retained_events: RetentionLimits::default().events,
            max_retained_bytes: RetentionLimits::default().bytes,
            max_testament_bytes_per_session: crate::router::realm::DEFAULT_TESTAMENT_BYTES,
            max_realms: 100,
            realm_idle_timeout_secs: 60,
            max_connections: 100_000,
            max_connections_per_address: 10_000,
            tls_cert: None,
            tls_key: None,
            tls_handshake_timeout_ms: 3_000,
            allowed_origins: vec!["*".into()],
            max_auth_failures: 10,
            auth_failure_window_secs: 60,
            compression: false,
            compression_level: Compression::default().level,
            compression_window_bits: Compression::default().window_bits,
            compression_min_size: Compression::default().min_size,
        }
    }
}

/// Settings could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file or an environment variable has an invalid value.
    #[error("invalid router settings: {0}")]
    Invalid(#[from] config::ConfigError),
    /// The file has a key the router does not know.
    #[error("unknown key '{key}' in {file}; see the configuration reference for the valid keys")]
    UnknownKey {
        /// The key.
        key: String,
        /// The file.
        file: String,
    },
    /// A realm's authentication settings are unusable.
    #[error("invalid authentication settings: {0}")]
    Auth(#[from] auth::AuthConfigError),
    /// A setting is out of its range.
    #[error("invalid router settings: {0}")]
    OutOfRange(String),
}

/// So that `main` can read its settings with `?` when it returns
/// `std::io::Result` (as actix-web's `main` does): an
/// [`InvalidInput`](std::io::ErrorKind::InvalidInput) error with this
/// error's message.
impl From<ConfigError> for std::io::Error {
    fn from(error: ConfigError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, error)
    }
}

/// The `WAMP_*` variables, with the list settings read as comma-separated
/// lists.
pub(crate) fn environment() -> config::Environment {
    config::Environment::with_prefix("WAMP")
        .list_separator(",")
        .with_list_parse_key("allowed_origins")
        .with_list_parse_key("tls_pins")
        .with_list_parse_key("own_thread")
}

impl RouterConfig {
    /// The accepted origins of the endpoint.
    pub fn origins(&self) -> crate::transport::origin::AllowedOrigins {
        crate::transport::origin::AllowedOrigins::new(&self.allowed_origins)
    }

    /// Reads the settings: defaults, then `file` (TOML) if given, then
    /// `WAMP_*` environment variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, environment().prefix_separator("_"))
    }

    fn load_from(file: Option<&Path>, env: config::Environment) -> Result<Self, ConfigError> {
        let defaults = config::Config::try_from(&RouterConfig::default())?;
        let mut builder = config::Config::builder().add_source(defaults.clone());
        if let Some(file) = file {
            let source = config::File::from(file).format(config::FileFormat::Toml);
            // The environment may hold WAMP_* variables meant for other
            // programs (a component's WAMP_URL), so only the file is held to
            // the known keys: a typo there is an error, not a silent default.
            let known = defaults.collect()?;
            let in_file = config::Config::builder().add_source(source.clone()).build()?.collect()?;
            if let Some(key) = in_file.keys().find(|k| !known.contains_key(*k)) {
                return Err(ConfigError::UnknownKey { key: key.clone(), file: file.display().to_string() });
            }
            builder = builder.add_source(source);
        }
        let settings = builder.add_source(env.try_parsing(true)).build()?;
        let config: RouterConfig = settings.try_deserialize()?;
        config.compression().validate().map_err(ConfigError::OutOfRange)?;
        config.check_auth()?;
        Ok(config)
    }

    /// Checks every realm's authentication settings (reads the secrets
    /// from their variables and files, parses the keys). A router started
    /// with invalid settings refuses every session of that realm instead.
    pub fn check_auth(&self) -> Result<(), auth::AuthConfigError> {
        for realm in &self.realms {
            auth::Authenticator::from_config(realm)?;
            for (key, other) in [
                ("authenticator_realm", &realm.authenticator_realm),
                ("authorizer_realm", &realm.authorizer_realm),
            ] {
                if let Some(other) = other {
                    if !self.realms.iter().any(|r| &r.name == other) {
                        return Err(auth::AuthConfigError {
                            realm: realm.name.clone(),
                            problem: format!("{key} '{other}' is not one of the configured realms"),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The dynamic authorizer of realm `name`, if it has one.
    pub fn authorizer(&self, name: &str) -> Option<auth::authorizer::AuthorizerSettings> {
        let realm = self.realms.iter().find(|r| r.name == name)?;
        Some(auth::authorizer::AuthorizerSettings {
            procedure: realm.authorizer.clone()?,
            realm: realm.authorizer_realm.clone().unwrap_or_else(|| name.to_owned()),
            cache_for: Duration::from_secs(realm.authorizer_cache_secs),
        })
    }

    /// The roles of realm `name`, if it has any.
    pub fn roles(&self, name: &str) -> Option<auth::Roles> {
        let realm = self.realms.iter().find(|r| r.name == name)?;
        realm.roles.as_deref().map(auth::Roles::new)
    }

    /// The keepalive interval, if keepalive is on.
    pub fn ping_interval(&self) -> Option<Duration> {
        (self.ping_interval_secs > 0).then(|| Duration::from_secs(self.ping_interval_secs))
    }

    /// How long a silent client is tolerated after a ping.
    pub fn ping_timeout(&self) -> Duration {
        Duration::from_secs(self.ping_timeout_secs)
    }

    /// The back-pressure settings of the realm `name` (its own overrides,
    /// else the router-wide settings).
    pub fn flow(&self, name: &str) -> FlowSettings {
        let realm = self.realms.iter().find(|r| r.name == name);
        let millis = realm.and_then(|r| r.stall_timeout_ms).unwrap_or(self.stall_timeout_ms);
        FlowSettings {
            max_queued_bytes: realm.and_then(|r| r.max_queued_bytes).unwrap_or(self.max_queued_bytes).max(1),
            stall_timeout: Duration::from_millis(millis),
            stall_policy: realm.and_then(|r| r.stall_policy).unwrap_or(self.stall_policy),
        }
    }

    /// The routing core's settings for a realm.
    pub fn realm_settings(&self) -> RealmSettings {
        RealmSettings {
            uris: self.uri_rules(),
            limits: SessionLimits {
                subscriptions: self.max_subscriptions_per_session,
                registrations: self.max_registrations_per_session,
                calls: self.max_calls_per_session,
                invocations: self.max_invocations_per_session,
            },
            call_timeout: (self.call_timeout_ms > 0).then(|| Duration::from_millis(self.call_timeout_ms)),
            session_kill: self.allow_session_kill,
            retention: RetentionLimits { events: self.max_retained_events, bytes: self.max_retained_bytes },
            testament_bytes: self.max_testament_bytes_per_session,
        }
    }

    /// How URIs are checked.
    pub fn uri_rules(&self) -> UriRules {
        UriRules { policy: self.uri_check, max_length: self.max_uri_length }
    }

    /// How long a new connection has to join.
    pub fn hello_timeout(&self) -> Duration {
        Duration::from_secs(self.hello_timeout_secs)
    }

    /// `tls_handshake_timeout_ms` as a duration (at least a millisecond).
    pub fn tls_handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.tls_handshake_timeout_ms.max(1))
    }

    /// How long a shutdown waits for sessions.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// The endpoint's permessage-deflate settings.
    pub fn compression(&self) -> Compression {
        Compression {
            enabled: self.compression,
            level: self.compression_level,
            window_bits: self.compression_window_bits,
            min_size: self.compression_min_size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> config::Environment {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        environment().prefix_separator("_").source(Some(map))
    }

    #[test]
    fn list_settings_come_from_comma_separated_variables() {
        let vars = [("WAMP_ALLOWED_ORIGINS", "https://a.example,https://*.b.example"), ("WAMP_PATH", "/x,y")];
        let config = RouterConfig::load_from(None, env(&vars)).unwrap();
        assert_eq!(config.allowed_origins, ["https://a.example", "https://*.b.example"]);
        assert_eq!(config.path, "/x,y", "other settings are not split");
        assert!(config.origins().accepts("https://c.b.example"));
        assert!(RouterConfig::default().origins().accepts("https://anywhere.example"));
    }

    #[test]
    fn file_then_environment_override_defaults() {
        let dir = std::env::temp_dir().join(format!("wamp-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("router.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\nmax_message_size = 1024\n[[realms]]\nname = \"a\"\n[[realms]]\nname = \"b\"\n",
        )
        .unwrap();
        let config = RouterConfig::load_from(Some(&file), env(&[("WAMP_MAX_MESSAGE_SIZE", "2048")])).unwrap();
        assert_eq!(config.listen, "0.0.0.0:9000");
        assert_eq!(config.max_message_size, 2048);
        assert_eq!(config.realms.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(config.path, "/ws");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_realm_overrides_the_back_pressure_settings() {
        let dir = std::env::temp_dir().join(format!("wamp-config-flow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("router.toml");
        std::fs::write(
            &file,
            "max_queued_bytes = 1000\n[[realms]]\nname = \"a\"\n\
             [[realms]]\nname = \"b\"\nmax_queued_bytes = 50\nstall_timeout_ms = 500\nstall_policy = \"drop\"\n",
        )
        .unwrap();
        let config = RouterConfig::load_from(Some(&file), env(&[("WAMP_STALL_POLICY", "drop")])).unwrap();
        let a = config.flow("a");
        assert_eq!(a.max_queued_bytes, 1000);
        assert_eq!(a.stall_timeout, Duration::from_secs(10));
        assert_eq!(a.stall_policy, StallPolicy::Drop, "from the environment");
        let b = config.flow("b");
        assert_eq!((b.max_queued_bytes, b.stall_timeout), (50, Duration::from_millis(500)));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let dir = std::env::temp_dir().join(format!("wamp-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("router.toml");
        std::fs::write(&file, "lisen = \"0.0.0.0:9000\"\n").unwrap();
        let err = RouterConfig::load_from(Some(&file), env(&[])).unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
