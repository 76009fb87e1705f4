//! `wamp call`, `publish`, `subscribe` and `register`: one session on a
//! live router, for debugging. What comes back is printed to standard
//! output as JSON lines; a failure is one line on standard error naming
//! the WAMP error URI and its message, with a non-zero exit code.

/// What ends a tool with a failure: a WAMP error, or the session's end.
pub type Failure = Box<dyn std::error::Error>;

use std::io::Write as _;
use std::path::PathBuf;

use tokio::sync::mpsc;

use wamp::auth::{AuthMethod, SecretSource};
use wamp::client::{
    Arguments, CallOptions, Client, ConnectOptions, CredentialSettings, MatchPolicy, PublishOptions,
    ReconnectPolicy, RegisterOptions, SubscribeOptions,
};
use wamp::protocol::Serializer;

/// Where and as whom to connect.
#[derive(clap::Args, Debug)]
pub struct Connection {
    /// The router's WebSocket URL.
    #[arg(long, env = "WAMP_URL", default_value = "ws://127.0.0.1:8080/ws")]
    url: String,
    /// The realm to join.
    #[arg(long, env = "WAMP_REALM", default_value = "realm1")]
    realm: String,
    /// `json` or `msgpack`.
    #[arg(long, default_value = "json", value_parser = parse_serializer)]
    serializer: Serializer,
    /// `anonymous`, `ticket`, `wampcra` or `cryptosign`.
    #[arg(long, default_value = "anonymous", value_parser = parse_method)]
    authmethod: AuthMethod,
    /// The authentication id (ticket and WAMP-CRA need one).
    #[arg(long)]
    authid: Option<String>,
    /// The environment variable holding the ticket or WAMP-CRA secret.
    #[arg(long, value_name = "NAME", default_value = "WAMP_SECRET")]
    secret_env: String,
    /// A file holding the ticket or WAMP-CRA secret (instead of the
    /// environment).
    #[arg(long, value_name = "FILE")]
    secret_file: Option<String>,
    /// Cryptosign: the file with the private key's 32-byte seed in hex.
    #[arg(long, value_name = "FILE")]
    private_key_file: Option<String>,
    /// A PEM file of CA certificates to trust for `wss://` (repeatable).
    #[arg(long, value_name = "FILE")]
    tls_ca: Vec<PathBuf>,
}

impl Connection {
    /// Joins the realm once (no reconnecting: a tool reports, it does not
    /// wait for a router to come back).
    async fn join(&self) -> Result<Client, wamp::Error> {
        let secret = match &self.secret_file {
            Some(file) => SecretSource { secret_file: Some(file.clone()), ..SecretSource::default() },
            None => SecretSource { secret_env: Some(self.secret_env.clone()), ..SecretSource::default() },
        };
        let settings = CredentialSettings {
            method: Some(self.authmethod),
            authid: self.authid.clone(),
            secret,
            private_key_file: self.private_key_file.clone(),
        };
        let credentials = settings
            .credentials()
            .map_err(|reason| wamp::Error::new(wamp::protocol::errors::AUTHENTICATION_FAILED, reason))?;
        let options = ConnectOptions {
            serializer: self.serializer,
            reconnect: ReconnectPolicy::off(),
            credentials,
            tls_ca: self.tls_ca.clone(),
            ..ConnectOptions::new(&self.url, &self.realm)
        };
        Client::connect(options).await
    }
}

fn parse_serializer(text: &str) -> Result<Serializer, String> {
    match text {
        "json" => Ok(Serializer::Json),
        "msgpack" => Ok(Serializer::MsgPack),
        other => Err(format!("`{other}` is not a serializer: json or msgpack")),
    }
}

fn parse_method(text: &str) -> Result<AuthMethod, String> {
    match text {
        "anonymous" => Ok(AuthMethod::Anonymous),
        "ticket" => Ok(AuthMethod::Ticket),
        "wampcra" => Ok(AuthMethod::Wampcra),
        "cryptosign" => Ok(AuthMethod::Cryptosign),
        other => Err(format!(
            "`{other}` is not an authentication method: anonymous, ticket, wampcra or cryptosign"
        )),
    }
}

/// Positional and keyword arguments as typed on the command line.
#[derive(clap::Args, Debug)]
pub struct Payload {
    /// Positional arguments: JSON where they parse as JSON (`2`, `true`,
    /// `"2"`, `[1,2]`, `{"a":1}`), strings otherwise.
    #[arg(value_name = "ARGS", allow_negative_numbers = true)]
    args: Vec<String>,
    /// A keyword argument, `KEY=VALUE`, the value read as ARGS are
    /// (repeatable).
    #[arg(long = "kw", value_name = "KEY=VALUE", value_parser = parse_kwarg)]
    kwargs: Vec<(String, serde_json::Value)>,
}

impl Payload {
    fn arguments(&self) -> Result<Arguments, wamp::Error> {
        let mut arguments = Arguments::new();
        for arg in &self.args {
            arguments = arguments.arg(json_or_string(arg))?;
        }
        for (key, value) in &self.kwargs {
            arguments = arguments.kwarg(key.clone(), value)?;
        }
        Ok(arguments)
    }
}

/// `text` as JSON if it is JSON, else as a string.
fn json_or_string(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

fn parse_kwarg(text: &str) -> Result<(String, serde_json::Value), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), json_or_string(value))),
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

/// One JSON line on standard output.
fn print_line(value: &serde_json::Value) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{value}")?;
    out.flush()?;
    Ok(())
}

/// Arguments as a JSON object, `{"args": [...], "kwargs": {...}}`.
fn arguments_json(arguments: &Arguments) -> Result<serde_json::Value, String> {
    let json = |e: serde_json::Error| format!("cannot show the arguments as JSON: {e}");
    Ok(serde_json::json!({
        "args": serde_json::to_value(&arguments.args).map_err(json)?,
        "kwargs": serde_json::to_value(&arguments.kwargs).map_err(json)?,
    }))
}

#[derive(clap::Args, Debug)]
pub struct CallArgs {
    /// The procedure.
    procedure: String,
    #[command(flatten)]
    payload: Payload,
    /// Give up after this many seconds (0: wait as long as the router).
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    #[command(flatten)]
    connection: Connection,
}

/// Calls a procedure and prints its result.
pub async fn call(args: CallArgs) -> Result<(), Failure> {
    let client = args.connection.join().await?;
    let options = CallOptions {
        timeout: (args.timeout > 0).then(|| std::time::Duration::from_secs(args.timeout)),
        ..CallOptions::default()
    };
    let outcome = client.call_with(args.procedure.clone(), args.payload.arguments()?, options).await;
    client.leave().await;
    print_line(&arguments_json(&outcome?)?)
}

#[derive(clap::Args, Debug)]
pub struct PublishArgs {
    /// The topic.
    topic: String,
    #[command(flatten)]
    payload: Payload,
    #[command(flatten)]
    connection: Connection,
}

/// Publishes one event, acknowledged by the router (so a refusal is
/// reported).
pub async fn publish(args: PublishArgs) -> Result<(), Failure> {
    let client = args.connection.join().await?;
    let options = PublishOptions { acknowledge: true, ..PublishOptions::default() };
    let outcome = client.publish_with(args.topic.clone(), args.payload.arguments()?, options).await;
    client.leave().await;
    outcome?;
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct SubscribeArgs {
    /// The topic, or the pattern with `--match`.
    topic: String,
    /// `prefix` or `wildcard` matching instead of the exact topic.
    #[arg(long = "match", value_name = "POLICY", value_parser = parse_match)]
    match_policy: Option<MatchPolicy>,
    /// Exit after this many events (otherwise run until interrupted).
    #[arg(long)]
    count: Option<u64>,
    #[command(flatten)]
    connection: Connection,
}

fn parse_match(text: &str) -> Result<MatchPolicy, String> {
    match text {
        "exact" => Ok(MatchPolicy::Exact),
        "prefix" => Ok(MatchPolicy::Prefix),
        "wildcard" => Ok(MatchPolicy::Wildcard),
        other => Err(format!("`{other}` is not a match policy: prefix or wildcard")),
    }
}

/// Prints each event as a JSON line until interrupted (or `--count`).
pub async fn subscribe(args: SubscribeArgs) -> Result<(), Failure> {
    let client = args.connection.join().await?;
    let (tx, mut events) = mpsc::unbounded_channel();
    let options = SubscribeOptions { match_policy: args.match_policy, ..SubscribeOptions::default() };
    let subscribed = client
        .subscribe(args.topic.clone(), options, move |arguments, details| {
            let line = arguments_json(&arguments).map(|mut line| {
                line["topic"] = serde_json::json!(details.topic);
                line["publication"] = serde_json::json!(details.publication);
                line["publisher"] = serde_json::json!(details.publisher);
                line
            });
            let _ = tx.send(line);
            async {}
        })
        .await;
    if let Err(e) = subscribed {
        client.leave().await;
        return Err(e.into());
    }
    tracing::info!(topic = %args.topic, "subscribed; events follow, one JSON line each");
    let outcome = run_until(args.count, &mut events, &client).await;
    client.leave().await;
    outcome
}

#[derive(clap::Args, Debug)]
pub struct RegisterArgs {
    /// The procedure.
    procedure: String,
    /// Answer every call with this JSON value (the result's only
    /// argument) instead of echoing the call's arguments.
    #[arg(long, value_name = "JSON", value_parser = parse_json)]
    answer: Option<serde_json::Value>,
    /// Exit after answering this many calls (otherwise run until
    /// interrupted).
    #[arg(long)]
    count: Option<u64>,
    #[command(flatten)]
    connection: Connection,
}

fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
}

/// Answers calls, printing each as a JSON line, until interrupted (or
/// `--count`).
pub async fn register(args: RegisterArgs) -> Result<(), Failure> {
    let client = args.connection.join().await?;
    let (tx, mut calls) = mpsc::unbounded_channel();
    let answer = args.answer.clone();
    let registered = client
        .register(args.procedure.clone(), RegisterOptions::default(), move |arguments, _details| {
            let _ = tx.send(arguments_json(&arguments));
            let result = match &answer {
                Some(value) => Arguments::new().arg(value),
                None => Ok(arguments),
            };
            async move { result }
        })
        .await;
    if let Err(e) = registered {
        client.leave().await;
        return Err(e.into());
    }
    tracing::info!(procedure = %args.procedure, "registered; calls follow, one JSON line each");
    let outcome = run_until(args.count, &mut calls, &client).await;
    client.leave().await;
    outcome
}

/// Prints the lines `lines` yields until `count` of them, Ctrl-C, or the
/// session's end.
async fn run_until(
    count: Option<u64>,
    lines: &mut mpsc::UnboundedReceiver<Result<serde_json::Value, String>>,
    client: &Client,
) -> Result<(), Failure> {
    let mut printed = 0;
    while count.is_none_or(|count| printed < count) {
        tokio::select! {
            line = lines.recv() => match line {
                Some(line) => {
                    print_line(&line?)?;
                    printed += 1;
                }
                None => return Err("the session ended".into()),
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
            () = ended(client) => return Err("the router ended the session".into()),
        }
    }
    Ok(())
}

/// Resolves once the session is over for good.
async fn ended(client: &Client) {
    while !client.has_ended() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_json_where_they_look_like_it() {
        assert_eq!(json_or_string("2"), serde_json::json!(2));
        assert_eq!(json_or_string("\"2\""), serde_json::json!("2"));
        assert_eq!(json_or_string("[1,{\"a\":true}]"), serde_json::json!([1, {"a": true}]));
        assert_eq!(json_or_string("hello world"), serde_json::json!("hello world"));
        assert_eq!(parse_kwarg("n=3"), Ok(("n".to_owned(), serde_json::json!(3))));
        assert_eq!(parse_kwarg("s=a=b"), Ok(("s".to_owned(), serde_json::json!("a=b"))));
        assert!(parse_kwarg("=3").is_err() && parse_kwarg("novalue").is_err());
    }
}
