//! What the code `#[wamp::component]` generates does at run time: the
//! handlers of `describe` are called directly, with hand-made payloads and
//! a detached context.

use std::rc::Rc;

use wamp::__private::{registered, Description, IncomingCall};
use wamp::client::{InvokePolicy, MatchPolicy};
use wamp::component::Component;
use wamp::prelude::*;
use wamp::protocol::{errors, Dict, Payload, Value};

/// An application error that converts into a WAMP error.
#[derive(Debug)]
struct TooBig(u8);

impl From<TooBig> for Error {
    fn from(e: TooBig) -> Self {
        Error::new("com.example.calc.too_big", format!("{} is too big", e.0))
    }
}

/// A component with every parameter and result shape.
#[derive(Default)]
struct Calc {
    calls: u64,
    log: Vec<String>,
    joins: u32,
    leaves: u32,
    disconnects: u32,
}

#[wamp::component(realm = "realm1", prefix = "com.example.calc")]
impl Calc {
    /// `Result<T, wamp::Error>`, async, `&mut self`.
    #[wamp::procedure("add2")]
    async fn add2(&mut self, x: i64, y: i64) -> Result<i64, Error> {
        self.calls += 1;
        Ok(x + y)
    }

    /// A plain value; an optional parameter.
    #[wamp::procedure("greet")]
    fn greet(&self, name: String, punctuation: Option<String>) -> String {
        format!("Hello, {name}{}", punctuation.as_deref().unwrap_or("!"))
    }

    /// Nothing in, nothing out.
    #[wamp::procedure("nothing")]
    fn nothing(&self) {}

    /// `Arguments`; injected details in front of an argument; options.
    #[wamp::procedure("split", match = "prefix", invoke = "roundrobin", disclose_caller = true)]
    fn split(&self, call: &CallDetails, text: String) -> Arguments {
        let mut result = Arguments::new();
        for word in text.split_whitespace() {
            result.args.push(Value::from(word));
        }
        result.kwarg("procedure", call.procedure.clone()).unwrap_or_default()
    }

    /// `Result<(), E>` with the application's own error type.
    #[wamp::procedure("check")]
    fn check(&self, n: u8) -> Result<(), TooBig> {
        if n > 10 {
            Err(TooBig(n))
        } else {
            Ok(())
        }
    }

    /// `Result<Arguments, E>`; a context by value.
    #[wamp::procedure("stats", match = "exact", invoke = "single")]
    async fn stats(&self, ctx: Session) -> Result<Arguments, Error> {
        Arguments::new().arg(self.calls)?.kwarg("joined", ctx.session_id().is_some())
    }

    /// A raw identifier parameter is named without its `r#`.
    #[wamp::procedure("kind")]
    fn kind(&self, r#type: String) -> String {
        r#type
    }

    /// An event handler with details.
    #[wamp::subscribe("log")]
    fn on_log(&mut self, line: String, details: EventDetails) {
        self.log.push(format!("{line}@{}", details.publication));
    }

    /// A fallible async event handler with a pattern topic.
    #[wamp::subscribe("audit..done", match = "wildcard")]
    async fn audited(&mut self, n: u32, _ctx: &Session) -> Result<(), Error> {
        if n > 10 {
            return Err(Error::new("com.example.calc.audit_failed", "too many"));
        }
        self.log.push(format!("audit {n}"));
        Ok(())
    }

    async fn on_join(&mut self, ctx: &Session) -> Result<(), Error> {
        self.joins += 1;
        // A detached context is not connected: every request fails.
        ctx.publish("com.example.calc.log", ("joined",)).await
    }

    fn on_leave(&mut self) {
        self.leaves += 1;
    }

    fn on_disconnect(&mut self, _ctx: &Session) -> Result<(), TooBig> {
        self.disconnects += 1;
        Err(TooBig(99))
    }

    /// Not a handler: left alone.
    fn helper(&self) -> u64 {
        self.calls
    }
}

/// No `Default`, so not in the inventory; no realm, no prefix.
struct Plain {
    base: i64,
}

#[wamp::component(inventory = false)]
impl Plain {
    #[wamp::procedure("com.example.plain.base")]
    fn base(&self) -> i64 {
        self.base
    }
}

/// A component with nothing to offer.
#[derive(Default)]
struct Empty;

#[wamp::component]
impl Empty {}

fn payload(args: Vec<Value>, kwargs: &[(&str, Value)]) -> Payload {
    Payload::new(args, kwargs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

fn describe<C: Component>(component: C) -> (Rc<wamp::__private::StateLock<C>>, Description) {
    let state = Rc::new(wamp::__private::StateLock::new(component));
    let description = C::describe(state.clone());
    (state, description)
}

async fn call(description: &Description, uri: &str, payload: Payload) -> Result<Payload, Error> {
    call_with(description, uri, payload, IncomingCall::default()).await
}

async fn call_with(
    description: &Description,
    uri: &str,
    payload: Payload,
    details: IncomingCall,
) -> Result<Payload, Error> {
    let Some(spec) = description.procedures.iter().find(|p| p.uri == uri) else {
        panic!("no procedure {uri}");
    };
    (spec.handler)(payload, details, Session::detached()).await
}

async fn publish(description: &Description, uri: &str, payload: Payload, publication: u64) {
    let Some(spec) = description.subscriptions.iter().find(|s| s.uri == uri) else {
        panic!("no subscription {uri}");
    };
    (spec.handler)(payload, EventDetails::new(publication, Dict::new()), Session::detached()).await;
}

#[test]
fn names_realms_uris_and_options() {
    assert_eq!(Calc::name(), "Calc");
    assert_eq!(Calc::realm(), Some("realm1"));
    assert_eq!(Plain::name(), "Plain");
    assert_eq!(Plain::realm(), None);

    let (_, d) = describe(Calc::default());
    let uris: Vec<&str> = d.procedures.iter().map(|p| p.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "com.example.calc.add2",
            "com.example.calc.greet",
            "com.example.calc.nothing",
            "com.example.calc.split",
            "com.example.calc.check",
            "com.example.calc.stats",
            "com.example.calc.kind",
        ]
    );
    let topics: Vec<&str> = d.subscriptions.iter().map(|s| s.uri.as_str()).collect();
    assert_eq!(topics, ["com.example.calc.log", "com.example.calc.audit..done"]);
    assert!(d.hooks.on_join.is_some() && d.hooks.on_leave.is_some() && d.hooks.on_disconnect.is_some());

    let split = &d.procedures[3].options;
    assert_eq!(split.match_policy, Some(MatchPolicy::Prefix));
    assert_eq!(split.invoke, Some(InvokePolicy::RoundRobin));
    assert!(split.disclose_caller);
    let dict = split.to_dict();
    assert_eq!(dict.get("match"), Some(&Value::from("prefix")));
    assert_eq!(dict.get("invoke"), Some(&Value::from("roundrobin")));
    assert_eq!(dict.get("disclose_caller"), Some(&Value::Bool(true)));
    let stats = &d.procedures[5].options;
    assert_eq!((stats.match_policy, stats.invoke), (Some(MatchPolicy::Exact), Some(InvokePolicy::Single)));
    assert!(stats.to_dict().is_empty());
    assert!(d.procedures[0].options.to_dict().is_empty());
    assert_eq!(d.subscriptions[1].options.match_policy, Some(MatchPolicy::Wildcard));
    assert_eq!(d.subscriptions[1].options.to_dict().get("match"), Some(&Value::from("wildcard")));
    assert!(d.subscriptions[0].options.to_dict().is_empty());

    let (_, d) = describe(Plain { base: 1 });
    assert_eq!(d.procedures[0].uri, "com.example.plain.base");
    assert!(d.subscriptions.is_empty() && d.hooks.on_join.is_none());

    let (_, d) = describe(Empty);
    assert!(d.procedures.is_empty() && d.subscriptions.is_empty() && d.hooks.on_leave.is_none());
}

#[test]
fn only_components_with_default_are_registered() {
    let names: Vec<&str> = registered().iter().map(|e| e.name).collect();
    assert!(names.contains(&"Calc"), "{names:?}");
    assert!(names.contains(&"Empty"), "{names:?}");
    assert!(!names.contains(&"Plain"), "{names:?}");
    let Some(calc) = registered().into_iter().find(|e| e.name == "Calc") else {
        panic!("Calc is not registered");
    };
    let launch = (calc.make)();
    assert_eq!((launch.name.as_str(), launch.realm.as_deref()), ("Calc", Some("realm1")));
    assert_eq!(launch.type_id, std::any::TypeId::of::<Calc>());
}

#[actix::test]
async fn arguments_by_position_and_by_name() {
    let (state, d) = describe(Calc::default());
    let sum = call(&d, "com.example.calc.add2", payload(vec![2.into(), 3.into()], &[])).await.unwrap();
    assert_eq!(sum, Payload::args(vec![Value::from(5)]));
    let sum = call(&d, "com.example.calc.add2", payload(vec![2.into()], &[("y", 40.into())])).await.unwrap();
    assert_eq!(sum.args_list(), [Value::from(42)]);
    let sum = call(&d, "com.example.calc.add2", payload(vec![], &[("y", 1.into()), ("x", 2.into())]))
        .await
        .unwrap();
    assert_eq!(sum.args_list(), [Value::from(3)]);
    assert_eq!(state.read().await.calls, 3);
    assert_eq!(state.read().await.helper(), 3);

    let hi = call(&d, "com.example.calc.greet", payload(vec!["Ada".into()], &[])).await.unwrap();
    assert_eq!(hi.args_list(), [Value::from("Hello, Ada!")]);
    let hi = call(
        &d,
        "com.example.calc.greet",
        payload(vec![], &[("name", "Bob".into()), ("punctuation", "?".into())]),
    )
    .await
    .unwrap();
    assert_eq!(hi.args_list(), [Value::from("Hello, Bob?")]);

    let kind = call(&d, "com.example.calc.kind", payload(vec![], &[("type", "x".into())])).await.unwrap();
    assert_eq!(kind.args_list(), [Value::from("x")]);
}

#[actix::test]
async fn arguments_that_do_not_fit_are_invalid_argument_errors() {
    let (state, d) = describe(Calc::default());
    let add2 = "com.example.calc.add2";
    let cases = [
        (
            payload(vec!["two".into(), 3.into()], &[]),
            "argument 'x': invalid type: string \"two\", expected i64",
        ),
        (payload(vec![2.into()], &[]), "missing argument 'y'"),
        (
            payload(vec![1.into(), 2.into(), 3.into()], &[]),
            "3 positional arguments given, at most 2 expected",
        ),
        (payload(vec![1.into(), 2.into()], &[("z", 3.into())]), "unexpected keyword argument 'z'"),
    ];
    for (args, message) in cases {
        let err = call(&d, add2, args).await.unwrap_err();
        assert_eq!(err.uri, errors::INVALID_ARGUMENT);
        assert_eq!(err.message(), Some(message));
    }
    // The method never ran.
    assert_eq!(state.read().await.calls, 0);

    let err = call(&d, "com.example.calc.nothing", payload(vec![1.into()], &[])).await.unwrap_err();
    assert_eq!(err.uri, errors::INVALID_ARGUMENT);
}

#[actix::test]
async fn results_become_payloads() {
    let (_, d) = describe(Calc::default());
    let nothing = call(&d, "com.example.calc.nothing", Payload::default()).await.unwrap();
    assert!(nothing.is_empty());

    let details = IncomingCall::detached(
        7,
        Dict::from([("procedure".to_owned(), Value::from("com.example.calc.split.x"))]),
    );
    let split =
        call_with(&d, "com.example.calc.split", payload(vec!["a b  c".into()], &[]), details).await.unwrap();
    assert_eq!(split.args_list(), [Value::from("a"), Value::from("b"), Value::from("c")]);
    assert_eq!(
        split.kwargs_dict().and_then(|k| k.get("procedure")),
        Some(&Value::from("com.example.calc.split.x"))
    );

    let ok = call(&d, "com.example.calc.check", payload(vec![3.into()], &[])).await.unwrap();
    assert!(ok.is_empty());
    let err = call(&d, "com.example.calc.check", payload(vec![30.into()], &[])).await.unwrap_err();
    assert_eq!(err.uri, "com.example.calc.too_big");
    assert_eq!(err.message(), Some("30 is too big"));

    let _ = call(&d, "com.example.calc.add2", payload(vec![1.into(), 1.into()], &[])).await.unwrap();
    let stats = call(&d, "com.example.calc.stats", Payload::default()).await.unwrap();
    assert_eq!(stats.args_list(), [Value::from(1)]);
    assert_eq!(stats.kwargs_dict().and_then(|k| k.get("joined")), Some(&Value::Bool(false)));
}

#[actix::test]
async fn events_reach_their_handlers_and_failures_are_contained() {
    let (state, d) = describe(Calc::default());
    publish(&d, "com.example.calc.log", payload(vec!["first".into()], &[]), 11).await;
    publish(&d, "com.example.calc.log", payload(vec![], &[("line", "second".into())]), 12).await;
    // Does not fit: reported, not delivered.
    publish(&d, "com.example.calc.log", payload(vec![5.into()], &[]), 13).await;
    publish(&d, "com.example.calc.audit..done", payload(vec![4.into()], &[]), 14).await;
    // Fails: reported.
    publish(&d, "com.example.calc.audit..done", payload(vec![40.into()], &[]), 15).await;
    assert_eq!(state.read().await.log, ["first@11", "second@12", "audit 4"]);
}

#[actix::test]
async fn hooks_run_over_the_state() {
    let (state, d) = describe(Calc::default());
    let (Some(join), Some(leave), Some(disconnect)) =
        (&d.hooks.on_join, &d.hooks.on_leave, &d.hooks.on_disconnect)
    else {
        panic!("hooks missing");
    };
    // The publish fails on a detached context; the hook returns that.
    let err = join(Session::detached()).await.unwrap_err();
    assert_eq!(err.uri, errors::CANCELED);
    leave(Session::detached()).await.unwrap();
    let err = disconnect(Session::detached()).await.unwrap_err();
    assert_eq!(err.uri, "com.example.calc.too_big");
    let s = state.read().await;
    assert_eq!((s.joins, s.leaves, s.disconnects), (1, 1, 1));
}

#[actix::test]
async fn read_handlers_share_the_state_and_write_handlers_wait() {
    let (state, d) = describe(Calc::default());
    // A reader holds the lock: `&self` procedures still run...
    let reader = state.read().await;
    let hi = call(&d, "com.example.calc.greet", payload(vec!["Ada".into()], &[])).await.unwrap();
    assert_eq!(hi.args_list(), [Value::from("Hello, Ada!")]);
    // ...a `&mut self` one waits for the lock, after checking its
    // arguments.
    let bad = call(&d, "com.example.calc.add2", payload(vec![], &[])).await.unwrap_err();
    assert_eq!(bad.uri, errors::INVALID_ARGUMENT);
    let add = (d.procedures[0].handler)(
        payload(vec![1.into(), 2.into()], &[]),
        IncomingCall::default(),
        Session::detached(),
    );
    let waiting = tokio::time::timeout(std::time::Duration::from_millis(20), add).await;
    assert!(waiting.is_err(), "a &mut self procedure ran while the state was read-locked");
    drop(reader);
    let add = (d.procedures[0].handler)(
        payload(vec![1.into(), 2.into()], &[]),
        IncomingCall::default(),
        Session::detached(),
    );
    assert_eq!(add.await.unwrap().args_list(), [Value::from(3)]);
}

#[actix::test]
async fn a_handler_that_is_not_async_runs_at_once_unless_it_must_wait_for_the_lock() {
    use wamp::__private::Completion;
    let (state, d) = describe(Calc::default());
    let greet = d.procedures.iter().find(|p| p.uri == "com.example.calc.greet").unwrap();
    let greet =
        || (greet.handler)(payload(vec!["Ada".into()], &[]), IncomingCall::default(), Session::detached());
    // The component can move to another thread, so the handler's first 32
    // runs are on trial on the blocking pool (docs/components.md)...
    for run in 0..32 {
        let Completion::Later(on_pool) = greet() else { panic!("run {run} is on trial, on the pool") };
        // Its place at the state was taken as it was sent: a `&self`
        // method arriving now comes after it.
        assert!(state.try_read().is_none(), "run {run} holds its place");
        assert_eq!(on_pool.await.unwrap().args_list(), [Value::from("Hello, Ada!")]);
    }
    // ...then, quick throughout, it runs on its thread, at once.
    let now = greet();
    let Completion::Now(Ok(hi)) = now else { panic!("a free lock, yet not finished at once: {now:?}") };
    assert_eq!(hi.args_list(), [Value::from("Hello, Ada!")]);

    // A `&mut self` handler finds the state read-locked: it waits, then runs.
    let on_log = d.subscriptions.iter().find(|s| s.uri == "com.example.calc.log").unwrap();
    let log = |id| {
        (on_log.handler)(
            payload(vec!["later".into()], &[]),
            EventDetails::new(id, Dict::new()),
            Session::detached(),
        )
    };
    for id in 0..32 {
        let Completion::Later(on_pool) = log(id) else { panic!("event {id} is on trial, on the pool") };
        on_pool.await;
    }
    let reader = state.read().await;
    let later = log(32);
    let Completion::Later(waiting) = later else { panic!("ran while the state was read-locked") };
    assert_eq!(reader.log.len(), 32);
    drop(reader);
    waiting.await;
    assert_eq!(state.read().await.log.last().map(String::as_str), Some("later@32"));
    assert_eq!(state.read().await.log.len(), 33);
}

/// Filters of a search, taken from the keyword arguments as one struct.
#[derive(Debug, PartialEq, serde::Deserialize)]
struct Filter {
    min_price: u32,
    category: Option<String>,
}

/// Keyword arguments as a struct, and parameters named differently on the
/// wire.
#[derive(Default)]
struct Search;

#[wamp::component(prefix = "com.example.search", inventory = false)]
impl Search {
    /// `query` by position or by name, then every other keyword argument
    /// as a `Filter`.
    #[wamp::procedure("find")]
    fn find(&self, query: String, #[wamp(kwargs)] filter: Filter) -> String {
        format!("{query}: {} {}", filter.min_price, filter.category.unwrap_or_default())
    }

    /// `from` is a Rust keyword: the parameter is `origin`, its keyword
    /// argument `from`.
    #[wamp::procedure("route")]
    fn route(
        &self,
        #[wamp(name = "from")] origin: String,
        #[wamp(name = "to")] destination: String,
    ) -> String {
        format!("{origin}->{destination}")
    }
}

#[actix::test]
async fn keyword_arguments_fill_a_struct_and_parameters_take_wire_names() {
    let (_, d) = describe(Search);
    let find = |args: Vec<Value>, kwargs: &[(&str, Value)]| {
        call(&d, "com.example.search.find", payload(args, kwargs))
    };

    let result = find(vec!["lamp".into()], &[("min_price", 10.into()), ("category", "light".into())]).await;
    assert_eq!(result.unwrap().args_list(), [Value::from("lamp: 10 light")]);
    // The named parameter is taken first; the struct gets the rest.
    let result = find(vec![], &[("query", "desk".into()), ("min_price", 5.into())]).await;
    assert_eq!(result.unwrap().args_list(), [Value::from("desk: 5 ")]);
    // The struct's own rules decide what fits.
    let err = find(vec!["lamp".into()], &[("category", "light".into())]).await.unwrap_err();
    assert_eq!(err.uri, errors::INVALID_ARGUMENT);
    assert!(err.to_string().contains("keyword arguments: missing field `min_price`"), "{err}");

    let route = |kwargs: &[(&str, Value)]| call(&d, "com.example.search.route", payload(vec![], kwargs));
    let result = route(&[("from", "Berlin".into()), ("to", "Paris".into())]).await;
    assert_eq!(result.unwrap().args_list(), [Value::from("Berlin->Paris")]);
    // The Rust names are not the wire names.
    let err = route(&[("origin", "Berlin".into()), ("to", "Paris".into())]).await.unwrap_err();
    assert!(err.to_string().contains("missing argument 'from'"), "{err}");
}
