//! A standalone HTTP server for the router: what `wamp router` runs.
//!
//! Applications with their own actix-web server mount
//! [`Router::websocket`] instead; this is for when the router is the
//! whole server.

use std::io;
use std::net::SocketAddr;

use actix_web::{App, HttpServer};

use crate::router::Router;

/// A bound, not yet running, router server.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let router = wamp::Router::new(wamp::RouterConfig::default());
/// let server = wamp::transport::Server::bind(router)?;
/// println!("listening on {}", server.local_addr());
/// server.run_until_signal().await
/// # }
/// ```
pub struct Server {
    router: Router,
    server: actix_web::dev::Server,
    addr: SocketAddr,
    /// Serving TLS.
    secure: bool,
}

impl Server {
    /// Binds the address of the router's settings (port 0 picks a free
    /// port; see [`Server::local_addr`]), serving TLS if the settings name
    /// a certificate and key (a file that cannot be read, or only one of
    /// the two, is an error here). Must be called within an actix system.
    pub fn bind(router: Router) -> io::Result<Server> {
        let config = router.config().clone();
        let app_router = router.clone();
        let path = config.path.clone();
        let mut http = HttpServer::new(move || App::new().service(app_router.websocket(&path)))
            .disable_signals()
            // WAMP messages are small and latency-bound: send them at once.
            .tcp_nodelay(true)
            // A client that never completes its upgrade request is dropped.
            .client_request_timeout(config.hello_timeout())
            // After a WebSocket's closing handshake the server closes the
            // TCP connection at once (RFC 6455, 7.1.1) rather than linger
            // for the client to.
            .client_disconnect_timeout(std::time::Duration::ZERO)
            .shutdown_timeout(config.shutdown_grace_secs.max(1))
            // A connection that does not finish its TLS handshake in time
            // is dropped (with TLS on).
            .tls_handshake_timeout(config.tls_handshake_timeout());
        if config.workers > 0 {
            http = http.workers(config.workers);
        }
        let tls = match (&config.tls_cert, &config.tls_key) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                let tls = super::tls::server_config(cert.as_ref(), key.as_ref())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
                if let Ok(prints) = super::tls::file_fingerprints(cert.as_ref()) {
                    tracing::info!(certificate = %cert, sha256 = prints.first().map_or("", String::as_str), "serving TLS");
                }
                Some(tls)
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    super::tls::TlsError::Incomplete.to_string(),
                ))
            }
        };
        let secure = tls.is_some();
        let cannot =
            |e: io::Error| io::Error::new(e.kind(), format!("cannot listen on {}: {e}", config.listen));
        let http = match tls {
            Some(tls) => http.bind_rustls_0_23(&config.listen, tls).map_err(cannot)?,
            None => http.bind(&config.listen).map_err(cannot)?,
        };
        let addr = http.addrs().first().copied().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{} resolved to no address", config.listen),
            )
        })?;
        let server = http.run();
        Ok(Server { router, server, addr, secure })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of the router's endpoint: `wss://` when it serves TLS, else
    /// `ws://`.
    pub fn url(&self) -> String {
        let scheme = if self.secure { "wss" } else { "ws" };
        format!("{scheme}://{}{}", self.addr, self.router.config().path)
    }

    /// A handle to stop the server from elsewhere.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped through its handle.
    pub async fn run(self) -> io::Result<()> {
        self.server.await
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully: every
    /// session gets GOODBYE `wamp.close.system_shutdown` and the server
    /// waits (up to the configured grace) for the sessions to close.
    pub async fn run_until_signal(self) -> io::Result<()> {
        self.run_until_signal_then(async {}).await
    }

    /// Like [`Server::run_until_signal`], running `before_shutdown` (e.g.
    /// in-process components leaving) between the signal and the router's
    /// shutdown.
    pub async fn run_until_signal_then(
        self,
        before_shutdown: impl std::future::Future<Output = ()>,
    ) -> io::Result<()> {
        let handle = self.server.handle();
        let mut serving = actix_web::rt::spawn(self.server);
        tokio::select! {
            result = &mut serving => return flatten(result),
            signal = shutdown_signal() => {
                signal?;
                tracing::info!("shutdown requested");
            }
        }
        before_shutdown.await;
        let left = self.router.shutdown(self.router.config().shutdown_grace()).await;
        if left > 0 {
            tracing::warn!(connections = left, "closing connections that did not say goodbye");
        }
        handle.stop(true).await;
        flatten(serving.await)
    }
}

fn flatten(result: Result<io::Result<()>, actix_web::rt::task::JoinError>) -> io::Result<()> {
    result.map_err(io::Error::other)?
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub(crate) async fn shutdown_signal() -> io::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
