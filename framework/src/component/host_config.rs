//! The settings of a [`Host`](super::Host): where its components run, and
//! how, read from defaults, a TOML file and the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use config::Source as _;
use serde::{Deserialize, Serialize};

use crate::client::{CredentialSettings, ReconnectPolicy};
use crate::config::{ConfigError, RouterConfig};
use crate::protocol::Serializer;

/// How a host runs its components.
///
/// | key | default | environment |
/// |---|---|---|
/// | `url` | none: embed a router | `WAMP_URL` |
/// | `realm` | `realm1` | `WAMP_REALM` |
/// | `serializer` | `msgpack` | `WAMP_SERIALIZER` |
/// | `call_timeout_secs` | `60` (0: none) | `WAMP_CALL_TIMEOUT_SECS` |
/// | `connect_timeout_ms` | `10000` | `WAMP_CONNECT_TIMEOUT_MS` |
/// | `slow_handler_ms` | `50` (0: never) | `WAMP_SLOW_HANDLER_MS` |
/// | `own_thread` | none | `WAMP_OWN_THREAD` (comma-separated) |
/// | `reconnect.*` | on, 250 ms doubling to 30 s, 20% jitter | `WAMP_RECONNECT__ENABLED`, ... |
/// | `tls_ca` | none (the system's roots only) | `WAMP_TLS_CA` |
/// | `tls_pins` | none | `WAMP_TLS_PINS` (comma-separated) |
/// | every router key (`listen`, `path`, `realms`, ...) | as for `wamp router` | `WAMP_LISTEN`, ... |
///
/// With `url` set, the components join the router there; otherwise the
/// host embeds a router listening at `listen`. The router's `compression`
/// keys serve both: the embedded router accepts permessage-deflate with
/// them, and remote components offer it to their router.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostConfig {
    /// A router to join (`ws://` or `wss://`); none embeds one.
    pub url: Option<String>,
    /// The realm of components that do not name one.
    pub realm: String,
    /// The serializer of remote sessions.
    pub serializer: Serializer,
    /// Seconds a call waits for its answer; 0 waits as long as the session
    /// lasts.
    pub call_timeout_secs: u64,
    /// Reconnecting to a remote router.
    pub reconnect: ReconnectPolicy,
    /// A PEM file of CA certificates to trust for a `wss://` router,
    /// besides the system's root certificates.
    pub tls_ca: Option<String>,
    /// SHA-256 fingerprints of the only certificates to trust for a
    /// `wss://` router (see [`ConnectOptions::tls_pins`](crate::client::ConnectOptions::tls_pins)).
    pub tls_pins: Vec<String>,
    /// Milliseconds one attempt to reach a remote router may take, up to
    /// WELCOME (see [`ConnectOptions::connect_timeout`](crate::client::ConnectOptions::connect_timeout)).
    pub connect_timeout_ms: u64,
    /// Milliseconds a handler may hold its thread (a sync handler's run,
    /// or one poll of an `async` one) before a warning names it. A sync
    /// handler that can move to the blocking pool starts there, on trial:
    /// after 32 runs that each took less than half of it, it runs on its
    /// thread; a slow run keeps it on the pool. A slow run on its thread
    /// sends it back there, until 32 runs in a row there were quick again
    /// (docs/components.md, "Handlers that take long"). 0: no warnings,
    /// no trials, no moves.
    /// For the whole process: the last host started sets it.
    pub slow_handler_ms: u64,
    /// The components, by name (as in `component_roles`), that run on a
    /// thread of their own instead of the host's. Nothing such a
    /// component does holds up the embedded router's realms or the other
    /// components, whatever its handlers take, at the cost of two thread
    /// hand-overs per call to it or from it (docs/components.md, "Handlers
    /// that take long"). A component can leave the host's thread if the
    /// host makes it (`add_registered`) or if it is `Send`.
    ///
    /// ```toml
    /// own_thread = ["Reports"]
    /// ```
    pub own_thread: Vec<String>,
    /// How remote sessions authenticate (the `[auth]` table; see
    /// [`CredentialSettings`]). Embedded components need none: they join
    /// with the role `trusted`.
    pub auth: CredentialSettings,
    /// The role each embedded component joins with, by component name
    /// (its type name; matched without regard to case, since environment
    /// variables lose it). Components not named join as `trusted`, which
    /// may do everything unless the realm defines that role.
    ///
    /// ```toml
    /// [component_roles]
    /// Reports = "reporting"
    /// ```
    pub component_roles: std::collections::BTreeMap<String, String>,
    /// The embedded router's settings.
    #[serde(flatten)]
    pub router: RouterConfig,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            url: None,
            realm: "realm1".into(),
            serializer: Serializer::MsgPack,
            call_timeout_secs: 60,
            reconnect: ReconnectPolicy::default(),
            tls_ca: None,
            tls_pins: Vec::new(),
            connect_timeout_ms: 10_000,
            slow_handler_ms: crate::client::DEFAULT_SLOW_HANDLER_MS,
            own_thread: Vec::new(),
            auth: CredentialSettings::default(),
            component_roles: Default::default(),
            router: RouterConfig::default(),
        }
    }
}

impl HostConfig {
    /// Reads the settings: defaults, then the TOML `file` (or, without one,
    /// the file named by `WAMP_CONFIG`, or `wamp.toml` in the working
    /// directory if it exists), then `WAMP_*` environment variables (nested
    /// keys with `__`: `WAMP_RECONNECT__ENABLED=false`).
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let file: Option<PathBuf> = match file {
            Some(f) => Some(f.to_owned()),
            None => std::env::var_os("WAMP_CONFIG")
                .map(PathBuf::from)
                .or_else(|| Some(PathBuf::from("wamp.toml")).filter(|p| p.exists())),
        };
        let env = crate::config::environment().prefix_separator("_").separator("__");
        Self::load_from(file.as_deref(), env)
    }

    fn load_from(file: Option<&Path>, env: config::Environment) -> Result<Self, ConfigError> {
        let defaults = config::Config::try_from(&HostConfig::default())?;
        let mut builder = config::Config::builder().add_source(defaults.clone());
        if let Some(file) = file {
            let source = config::File::from(file).format(config::FileFormat::Toml);
            let known = defaults.collect()?;
            let in_file = config::Config::builder().add_source(source.clone()).build()?.collect()?;
            if let Some(key) = in_file.keys().find(|k| {
                !known.contains_key(*k)
                    && !["url", "auth", "component_roles", "own_thread"].contains(&k.as_str())
            }) {
                return Err(ConfigError::UnknownKey { key: key.clone(), file: file.display().to_string() });
            }
            builder = builder.add_source(source);
        }
        let settings = builder.add_source(env.try_parsing(true)).build()?;
        Ok(settings.try_deserialize()?)
    }

    /// The role `component_roles` gives the component `name`, if any.
    pub fn role_of(&self, name: &str) -> Option<&str> {
        self.component_roles.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, role)| role.as_str())
    }

    /// Whether `own_thread` names the component `name`.
    pub fn runs_on_own_thread(&self, name: &str) -> bool {
        self.own_thread.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    pub(super) fn call_timeout(&self) -> Option<Duration> {
        (self.call_timeout_secs > 0).then(|| Duration::from_secs(self.call_timeout_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_credentials_come_from_the_file_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wamp.toml");
        std::fs::write(
            &file,
            "url = \"ws://127.0.0.1:9/ws\"\n[auth]\nmethod = \"ticket\"\nauthid = \"alice\"\nsecret_env = \"ALICE_TICKET\"\n\
             [component_roles]\nReports = \"reporting\"\n",
        )
        .unwrap();
        let vars: std::collections::HashMap<String, String> =
            [("WAMP_COMPONENT_ROLES__BILLING".to_owned(), "billing".to_owned())].into();
        let env = crate::config::environment().prefix_separator("_").separator("__").source(Some(vars));
        let config = HostConfig::load_from(Some(&file), env).unwrap();
        assert_eq!(config.role_of("Reports"), Some("reporting"));
        assert_eq!(config.role_of("Billing"), Some("billing"), "from the environment, whatever its case");
        assert_eq!(config.role_of("Other"), None);
        assert_eq!(config.auth.method, Some(crate::auth::AuthMethod::Ticket));
        assert_eq!(config.auth.secret.secret_env.as_deref(), Some("ALICE_TICKET"));
    }

    #[test]
    fn own_threads_come_from_the_file_or_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("wamp.toml");
        std::fs::write(&file, "own_thread = [\"Reports\"]\n").unwrap();
        let env = |vars: &[(&str, &str)]| {
            let vars = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            crate::config::environment().prefix_separator("_").separator("__").source(Some(vars))
        };
        let config = HostConfig::load_from(Some(&file), env(&[])).unwrap();
        assert!(config.runs_on_own_thread("reports"), "whatever its case");
        assert!(!config.runs_on_own_thread("Billing"));
        let config =
            HostConfig::load_from(Some(&file), env(&[("WAMP_OWN_THREAD", "Billing,Audit")])).unwrap();
        assert_eq!(config.own_thread, ["Billing", "Audit"], "the environment's list replaces the file's");
        let config = HostConfig::load_from(None, env(&[])).unwrap();
        assert!(config.own_thread.is_empty(), "none by default");
    }
}
