//! The servers under test, each run in a child process of its own so the
//! load generator and the server do not share a runtime.

use std::io::Write as _;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use actix_ws::AggregatedMessage;
use wamp::component::HostConfig;

/// The procedure of the component the `Host` server runs.
pub const EMBEDDED_ECHO: &str = "bench.echo.embedded";

/// The component of the `Host` server: answers a call with its argument,
/// as the load's own callee does for `bench.echo`.
#[derive(Default)]
struct EmbeddedEcho;

#[wamp::component(inventory = false)]
impl EmbeddedEcho {
    #[wamp::procedure("bench.echo.embedded")]
    fn echo(&self, text: String) -> String {
        text
    }
}

/// Which server a child process runs.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Kind {
    /// Our router, one worker thread.
    Router,
    /// The same router embedded by a `wamp::Host` that runs one component
    /// beside it (`EMBEDDED_ECHO`), as an application serves.
    Host,
    /// A raw actix-ws echo server, one worker thread: the transport ceiling.
    Echo,
}

/// Runs the server until the process is killed; prints `LISTENING <url>`.
pub fn serve(kind: Kind) -> std::io::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        match kind {
            Kind::Router => {
                let server = wamp::transport::Server::bind(wamp::Router::new(router_config()?))?;
                announce(&server.url())?;
                server.run().await
            }
            Kind::Host => {
                // As `Host::run` serves: the components start first, the
                // endpoint is bound after.
                let config = HostConfig { router: router_config()?, ..HostConfig::default() };
                let running = wamp::Host::new(config)
                    .add_component(EmbeddedEcho)
                    .start()
                    .map_err(std::io::Error::other)?;
                running.joined().await.map_err(std::io::Error::other)?;
                let server = running.bind().ok_or_else(|| std::io::Error::other("no embedded router"))??;
                announce(&server.url())?;
                server.run().await
            }
            Kind::Echo => {
                let server = HttpServer::new(|| App::new().route("/echo", web::get().to(echo)))
                    .workers(1)
                    .tcp_nodelay(true)
                    .bind("127.0.0.1:0")?;
                let addr = server.addrs()[0];
                announce(&format!("ws://{addr}/echo"))?;
                server.run().await
            }
        }
    })
}

/// Defaults and `WAMP_*` variables, one worker (the driver sets the
/// connection limit per address: all load comes from one).
fn router_config() -> std::io::Result<wamp::RouterConfig> {
    Ok(wamp::RouterConfig {
        listen: "127.0.0.1:0".into(),
        workers: 1,
        ping_interval_secs: 0,
        ..wamp::RouterConfig::load(None)?
    })
}

fn announce(url: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout();
    writeln!(out, "LISTENING {url}")?;
    out.flush()
}

/// Echoes every text and binary message verbatim.
async fn echo(req: HttpRequest, body: web::Payload) -> Result<HttpResponse, actix_web::Error> {
    let (response, mut session, stream) = actix_ws::handle(&req, body)?;
    let mut stream = stream.max_frame_size(16 * 1024 * 1024).aggregate_continuations();
    actix_web::rt::spawn(async move {
        while let Some(Ok(message)) = stream.recv().await {
            let sent = match message {
                AggregatedMessage::Text(text) => session.text(text).await,
                AggregatedMessage::Binary(data) => session.binary(data).await,
                AggregatedMessage::Ping(data) => session.pong(&data).await,
                AggregatedMessage::Pong(_) => Ok(()),
                AggregatedMessage::Close(_) => break,
            };
            if sent.is_err() {
                break;
            }
        }
        let _ = session.close(None).await;
    });
    Ok(response)
}
