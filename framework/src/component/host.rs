//! The [`Host`]: runs components, in-process beside an embedded router or
//! as clients of a remote one, chosen by configuration.

use std::io;
use std::time::Duration;

use super::data::AppData;
use super::registry::{self, Launch, Starter};
use super::ComponentHandle;
use super::HostConfig;
use super::{local_identity, Component};
use crate::client::driver::Start;
use crate::client::{Client, ConnectOptions};
use crate::config::{ConfigError, RealmConfig};
use crate::router::Router;
use crate::transport::Server;
use crate::Error;

/// Runs components.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// // Every component linked into the binary, embedded or remote as the
/// // settings (wamp.toml, WAMP_URL, WAMP_LISTEN, ...) say.
/// wamp::Host::from_env()?.add_registered().run().await
/// # }
/// ```
pub struct Host {
    config: HostConfig,
    components: Vec<Launch>,
    data: AppData,
}

impl Host {
    /// A host with these settings and no components yet.
    pub fn new(config: HostConfig) -> Self {
        Host { config, components: Vec::new(), data: AppData::default() }
    }

    /// A host with the settings of the environment ([`HostConfig::load`]).
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self::new(HostConfig::load(None)?))
    }

    /// The settings.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Gives every component's handlers a value they take as a `Data<T>`
    /// parameter (or through [`Session::app_data`](crate::Session::app_data)):
    /// a database pool, the application's settings. One value per type; a
    /// second of the same type replaces the first.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use wamp::prelude::*;
    /// use wamp::Data;
    ///
    /// #[derive(Default)]
    /// struct Counter;
    ///
    /// #[wamp::component(inventory = false)]
    /// impl Counter {
    ///     #[wamp::procedure("com.example.next")]
    ///     fn next(&self, hits: Data<AtomicU64>) -> u64 {
    ///         hits.fetch_add(1, Ordering::Relaxed) + 1
    ///     }
    /// }
    ///
    /// let hits = Data::new(AtomicU64::new(0));
    /// let host = Host::new(Default::default()).app_data(hits.clone()).add_component(Counter);
    /// # drop(host);
    /// ```
    pub fn app_data<T: Send + Sync + 'static>(mut self, data: crate::Data<T>) -> Self {
        self.data.insert(data);
        self
    }

    /// Adds a component.
    pub fn add_component<C: Component>(mut self, component: C) -> Self {
        self.components.push(registry::launcher(component));
        self
    }

    /// Adds a component under a name of its own and, optionally, in a
    /// realm of its own: several instances of one component type (one per
    /// tenant's realm, or sharing a procedure with `invoke = "roundrobin"`)
    /// are told apart by name in logs, in `component_roles`, as their
    /// authid, and by [`RunningHost::component_named`].
    ///
    /// ```
    /// #[derive(Default)]
    /// struct Shop;
    ///
    /// #[wamp::component(prefix = "com.shop", inventory = false)]
    /// impl Shop {
    ///     #[wamp::procedure("open")]
    ///     fn open(&self) -> bool {
    ///         true
    ///     }
    /// }
    ///
    /// let host = wamp::Host::new(Default::default())
    ///     .add_instance("shop-eu", Some("eu"), Shop)
    ///     .add_instance("shop-us", Some("us"), Shop);
    /// # drop(host);
    /// ```
    pub fn add_instance<C: Component>(
        mut self,
        name: impl Into<String>,
        realm: Option<&str>,
        component: C,
    ) -> Self {
        let mut launch = registry::launcher(component);
        launch.name = name.into();
        if let Some(realm) = realm {
            launch.realm = Some(realm.to_owned());
        }
        self.components.push(launch);
        self
    }

    /// Adds every component linked into the binary: each type whose
    /// `#[wamp::component]` does not say `inventory = false`, made with
    /// its `factory = "..."` function if it names one, and with `Default`
    /// otherwise.
    ///
    /// A component defined in a library crate is linked only if the binary
    /// refers to something of that library's (the linker leaves out code
    /// nothing uses); a library's components are best added by a function
    /// of the library that calls [`Host::add_component`]. Finding none at
    /// all is logged as a warning.
    pub fn add_registered(mut self) -> Self {
        let before = self.components.len();
        for entry in registry::registered() {
            self.components.push((entry.make)());
        }
        if self.components.len() == before {
            tracing::warn!(
                "add_registered found no component: none is linked into this binary (components of a \
                 library the binary does not refer to are left out; add them with add_component)"
            );
        }
        self
    }

    /// Starts the components (and, embedded, the router's realms) on the
    /// current actix system; it does not listen for remote peers (see
    /// [`Host::run`], or mount [`RunningHost::router`]'s endpoint in your
    /// own actix-web app).
    pub fn start(self) -> Result<RunningHost, Error> {
        let Host { mut config, components, data } = self;
        for launch in &components {
            if let Some(missing) = launch.needs.iter().find(|need| !data.has(need)) {
                let text = format!(
                    "component {} takes Data<{}>, which the host was not given: add it with Host::app_data",
                    launch.name,
                    missing.type_name()
                );
                return Err(Error::new(crate::protocol::errors::INVALID_ARGUMENT, text)
                    .of_kind(crate::ErrorKind::Invalid));
            }
        }
        if let Some(unknown) =
            config.own_thread.iter().find(|n| !components.iter().any(|c| c.name.eq_ignore_ascii_case(n)))
        {
            let text = format!("own_thread names {unknown}, which is not a component of this host");
            return Err(Error::new(crate::protocol::errors::INVALID_ARGUMENT, text)
                .of_kind(crate::ErrorKind::Invalid));
        }
        let pinned = components
            .iter()
            .find(|c| config.runs_on_own_thread(&c.name) && matches!(c.start, Starter::Here(_)));
        if let Some(pinned) = pinned {
            let text = format!(
                "own_thread names the component {}, which cannot leave the thread it was made on: it is not \
                 Send. Make its fields Send (an Arc for an Rc), or let the host make it on its own thread \
                 (with Default or a factory, through Host::add_registered)",
                pinned.name
            );
            return Err(Error::new(crate::protocol::errors::INVALID_ARGUMENT, text)
                .of_kind(crate::ErrorKind::Invalid));
        }
        crate::client::watchdog::set_threshold(config.slow_handler_ms);
        let timeout = config.call_timeout();
        let mut starts = Vec::new();
        let types = components.iter().map(|c| (c.type_id, c.name.clone())).collect();
        let router = match config.url.clone() {
            Some(url) => {
                let credentials = config.auth.credentials().map_err(|e| {
                    Error::new(
                        crate::protocol::errors::AUTHENTICATION_FAILED,
                        format!("the [auth] settings: {e}"),
                    )
                })?;
                for Launch { name, realm, start: starter, .. } in components {
                    let realm = realm.unwrap_or_else(|| config.realm.clone());
                    tracing::info!(component = %name, %url, %realm, "starting remote component");
                    let options = ConnectOptions {
                        serializer: config.serializer,
                        reconnect: config.reconnect.clone(),
                        max_message_size: config.router.max_message_size,
                        tls_ca: config.tls_ca.iter().map(Into::into).collect(),
                        tls_pins: config.tls_pins.clone(),
                        compression: config.router.compression(),
                        connect_timeout: std::time::Duration::from_millis(config.connect_timeout_ms.max(1)),
                        credentials: credentials.clone(),
                        ..ConnectOptions::new(url.clone(), realm)
                    };
                    starts.push((name, starter, Start::Remote(options)));
                }
                None
            }
            None => {
                // The embedded router serves every realm its components use.
                let mut wanted = vec![config.realm.clone()];
                wanted.extend(components.iter().filter_map(|c| c.realm.clone()));
                for realm in wanted {
                    if !config.router.realms.iter().any(|r| r.name == realm) {
                        config.router.realms.push(RealmConfig::named(realm));
                    }
                }
                let router = Router::new(config.router.clone());
                for Launch { name, realm, start: starter, .. } in components {
                    let realm_name = realm.unwrap_or_else(|| config.realm.clone());
                    let realm = router
                        .realm(&realm_name)
                        .map_err(|e| Error::new(crate::protocol::errors::NO_SUCH_REALM, e.to_string()))?;
                    tracing::info!(component = %name, realm = %realm_name, "starting embedded component");
                    let mut identity = local_identity(&name);
                    if let Some(role) = config.role_of(&name) {
                        identity.authrole = role.to_owned();
                    }
                    tracing::debug!(component = %name, role = %identity.authrole, "embedded component's role");
                    starts.push((name, starter, Start::Local { realm, realm_name, identity }));
                }
                Some(router)
            }
        };
        // Every component's place is known: nothing has started yet.
        let mut clients = Vec::new();
        let mut threads = OwnThreads::default();
        for (name, starter, start) in starts {
            let own_thread = config.runs_on_own_thread(&name);
            clients.push(start_component(&name, starter, start, timeout, &data, own_thread, &mut threads)?);
        }
        Ok(RunningHost { config, router, clients, types, threads: threads.keep() })
    }

    /// Starts everything and serves until SIGINT or SIGTERM: embedded, the
    /// router listens at `listen` for remote peers beside the components.
    /// On the signal the components leave and the router says GOODBYE to
    /// every other session.
    pub async fn run(self) -> io::Result<()> {
        let running = self.start()?;
        match running.bind() {
            Some(server) => {
                let server = server?;
                tracing::info!(url = %server.url(), "router listening");
                let result = server.run_until_signal_then(running.leave_all()).await;
                result
            }
            None => {
                wait_for_signal().await?;
                running.shutdown().await;
                Ok(())
            }
        }
    }
}

/// Components (and maybe a router) that are running.
pub struct RunningHost {
    config: HostConfig,
    router: Option<Router>,
    clients: Vec<Client>,
    /// The type of each component, in the order of `clients`.
    types: Vec<(std::any::TypeId, String)>,
    /// The threads of the components that run on one of their own.
    threads: Vec<actix::ArbiterHandle>,
}

impl RunningHost {
    /// The embedded router (none in remote mode). Mount its endpoint in
    /// your own app with `router.websocket(path)`.
    pub fn router(&self) -> Option<&Router> {
        self.router.as_ref()
    }

    /// The settings the host runs with.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Binds the embedded router's endpoint at the `listen` address (port
    /// 0 picks a free port); `None` in remote mode.
    pub fn bind(&self) -> Option<io::Result<Server>> {
        self.router.clone().map(Server::bind)
    }

    /// The embedded router's WebSocket endpoint at the configured `path`,
    /// to add to your own actix-web `App` with `.service(...)`; `None` in
    /// remote mode.
    ///
    /// ```no_run
    /// # async fn serve() -> std::io::Result<()> {
    /// use actix_web::{web, App, HttpServer};
    /// let running = wamp::Host::from_env()?
    ///     .add_registered()
    ///     .start()?;
    /// let endpoint = running.router().cloned();
    /// let path = running.config().router.path.clone();
    /// HttpServer::new(move || {
    ///     let app = App::new().route("/health", web::get().to(|| async { "ok" }));
    ///     match &endpoint {
    ///         Some(router) => app.service(router.websocket(&path)),
    ///         None => app,
    ///     }
    /// })
    /// .bind("127.0.0.1:8080")?
    /// .run()
    /// .await
    /// # }
    /// ```
    pub fn websocket(&self) -> Option<actix_web::Resource> {
        self.router.as_ref().map(|r| r.websocket(&self.config.router.path))
    }

    /// One client handle per component, in the order they were added.
    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// A handle on the state of the first component of type `C` (see
    /// [`ComponentHandle`]); `None` if the host runs none.
    pub fn component<C: super::Component>(&self) -> Option<ComponentHandle<C>> {
        let wanted = std::any::TypeId::of::<C>();
        let index = self.types.iter().position(|(t, _)| *t == wanted)?;
        self.clients.get(index).cloned().map(ComponentHandle::new)
    }

    /// A handle on the state of the component of type `C` added under
    /// `name` ([`Host::add_instance`]; a component added otherwise is named
    /// after its type); `None` if the host runs none.
    pub fn component_named<C: super::Component>(&self, name: &str) -> Option<ComponentHandle<C>> {
        let wanted = std::any::TypeId::of::<C>();
        let index = self.types.iter().position(|(t, n)| *t == wanted && n == name)?;
        self.clients.get(index).cloned().map(ComponentHandle::new)
    }

    /// Waits until every component's session has joined and registered
    /// its procedures and subscriptions (its `on_join` hook may still be
    /// running). Fails with the first component that could not, saying why
    /// (for example `wamp.error.procedure_already_exists`).
    pub async fn joined(&self) -> Result<(), Error> {
        for client in &self.clients {
            client.joined().await?;
        }
        Ok(())
    }

    fn leave_all(&self) -> impl std::future::Future<Output = ()> + 'static {
        let clients = self.clients.clone();
        let threads = self.threads.clone();
        async move {
            for client in clients {
                client.leave().await;
            }
            for thread in threads {
                thread.stop();
            }
        }
    }

    /// The components leave; an embedded router then closes every other
    /// session with GOODBYE `wamp.close.system_shutdown`.
    pub async fn shutdown(self) {
        self.leave_all().await;
        if let Some(router) = &self.router {
            router.shutdown(self.config.router.shutdown_grace()).await;
        }
    }
}

/// Starts a component's session on this thread or, for a component
/// `own_thread` names, on a thread of its own (an actix arbiter, stopped
/// when the host's components leave).
fn start_component(
    name: &str,
    starter: Starter,
    start: Start,
    call_timeout: Option<Duration>,
    data: &AppData,
    own_thread: bool,
    threads: &mut OwnThreads,
) -> Result<Client, Error> {
    let launch = match starter {
        Starter::Anywhere(launch) if own_thread => launch,
        // `Host::start` refused a component that cannot leave this thread
        // and should.
        starter => return Ok(Client::start(starter.start(start, call_timeout).with_app_data(data.clone()))),
    };
    let thread = actix::Arbiter::new();
    let (started, client) = std::sync::mpsc::sync_channel(1);
    let data = data.clone();
    let spawned = thread.spawn_fn(move || {
        let _ = started.send(Client::start(launch(start, call_timeout).with_app_data(data)));
    });
    // The new thread runs nothing else: the wait is as long as building the
    // session takes.
    let client = client.recv().ok().filter(|_| spawned).ok_or_else(|| {
        Error::new(
            crate::protocol::errors::CANCELED,
            format!("the thread of the component {name} ended before its session started"),
        )
    })?;
    tracing::info!(component = %name, "the component runs on a thread of its own");
    threads.0.push(thread.handle());
    Ok(client)
}

/// The threads of the components started so far that run on one of their
/// own: stopped if the host fails to start, unless kept.
#[derive(Default)]
struct OwnThreads(Vec<actix::ArbiterHandle>);

impl OwnThreads {
    /// The threads, to stop when the components leave.
    fn keep(mut self) -> Vec<actix::ArbiterHandle> {
        std::mem::take(&mut self.0)
    }
}

impl Drop for OwnThreads {
    fn drop(&mut self) {
        for thread in &self.0 {
            thread.stop();
        }
    }
}

async fn wait_for_signal() -> io::Result<()> {
    crate::transport::server::shutdown_signal().await
}
