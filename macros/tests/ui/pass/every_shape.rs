//! Every parameter and result shape a procedure or event handler may have.

use serde::{Deserialize, Serialize};
use wamp::prelude::*;

#[derive(Debug, Deserialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Serialize)]
pub struct Distance {
    pub value: f64,
    pub unit: &'static str,
}

/// An application error type.
#[derive(Debug)]
pub struct AppError;

impl From<AppError> for Error {
    fn from(_: AppError) -> Self {
        Error::new("com.example.app_error", "it failed")
    }
}

/// A result alias with one generic argument (spelled `Result`, as the
/// macro recognises results by name).
pub mod app {
    pub type Result<T> = std::result::Result<T, super::AppError>;
}

#[derive(Default)]
pub struct Shapes {
    count: u64,
}

#[wamp::component(realm = "realm1", prefix = "com.example.shapes")]
impl Shapes {
    // Results.
    #[wamp::procedure("unit")]
    fn unit(&self) {}

    #[wamp::procedure("explicit_unit")]
    fn explicit_unit(&self) -> () {}

    #[wamp::procedure("value")]
    fn value(&self) -> u64 {
        self.count
    }

    #[wamp::procedure("serialized")]
    fn serialized(&self, a: Point, b: Point) -> Distance {
        Distance { value: ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt(), unit: "m" }
    }

    #[wamp::procedure("option")]
    fn option(&self, x: Option<i64>) -> Option<i64> {
        x
    }

    #[wamp::procedure("result")]
    async fn result(&mut self) -> Result<u64, Error> {
        self.count += 1;
        Ok(self.count)
    }

    #[wamp::procedure("result_unit")]
    fn result_unit(&mut self) -> Result<(), AppError> {
        Ok(())
    }

    #[wamp::procedure("result_alias")]
    fn result_alias(&self) -> app::Result<String> {
        Ok(String::new())
    }

    #[wamp::procedure("std_result")]
    fn std_result(&self) -> std::result::Result<Vec<u8>, wamp::Error> {
        Ok(vec![])
    }

    #[wamp::procedure("call_result")]
    fn call_result(&self) -> Arguments {
        Arguments::new()
    }

    #[wamp::procedure("result_call_result")]
    async fn result_call_result(&self) -> Result<wamp::client::Arguments, Error> {
        Arguments::new().arg(1)?.kwarg("two", 2)
    }

    // Parameters.
    #[wamp::procedure("params")]
    fn params(
        &self,
        mut a: i64,
        b: String,
        c: Vec<u8>,
        d: (i64, String),
        e: std::collections::BTreeMap<String, f64>,
    ) {
        a += 1;
        let _ = (a, b, c, d, e);
    }

    #[wamp::procedure("raw_name")]
    fn raw_name(&self, r#type: String, _unused: bool) -> String {
        r#type
    }

    #[wamp::procedure("injected")]
    async fn injected(&self, ctx: &Session, details: &CallDetails, x: i64) -> Result<i64, Error> {
        let _ = (details.caller, ctx.session_id());
        ctx.call("com.example.other", (x,)).await
    }

    #[wamp::procedure("injected_by_value")]
    fn injected_by_value(&self, x: i64, details: wamp::client::CallDetails, ctx: wamp::Session) -> i64 {
        let _ = (details, ctx);
        x
    }

    #[wamp::procedure("prefixed", match = "prefix", invoke = "last", disclose_caller = false)]
    fn prefixed(&self, details: CallDetails) -> Option<String> {
        details.procedure
    }

    #[wamp::procedure("wild..card", match = "wildcard", invoke = "random")]
    fn wildcard(&self) {}

    #[wamp::procedure("self_type")]
    fn self_type(self: &Self, other: u8) -> u8 {
        other
    }

    // Event handlers.
    #[wamp::subscribe("unit")]
    fn on_unit(&self) {}

    #[wamp::subscribe("args")]
    async fn on_args(&mut self, a: i64, b: Option<String>) {
        self.count += a as u64;
        let _ = b;
    }

    #[wamp::subscribe("result")]
    fn on_result(&self, p: Point, details: &EventDetails) -> Result<(), AppError> {
        let _ = (p, details.publisher);
        Err(AppError)
    }

    #[wamp::subscribe("context")]
    async fn on_context(&self, ctx: &Session, details: EventDetails) -> Result<(), Error> {
        ctx.publish("com.example.echo", (details.publication,)).await
    }

    #[wamp::subscribe("any.", match = "prefix")]
    fn on_any(&self) {}

    /// Not a handler, left alone.
    pub fn new() -> Self {
        Self::default()
    }

    /// Not a handler either.
    fn helper(&self, (a, b): (i64, i64)) -> i64 {
        a + b
    }
}

/// Sync handlers whose types decide whether they may move to the blocking
/// pool after a slow run: the component here is not `Send`, so none may;
/// `Shapes` above is, so most of its may.
pub struct Pinned {
    seen: std::rc::Rc<std::cell::Cell<u64>>,
}

pub struct Settings {
    pub greeting: String,
}

#[wamp::component(prefix = "com.example.pinned", inventory = false)]
impl Pinned {
    #[wamp::procedure("count")]
    fn count(&self, by: u64) -> u64 {
        self.seen.set(self.seen.get() + by);
        self.seen.get()
    }

    #[wamp::procedure("greeting")]
    fn greeting(&self, settings: Data<Settings>) -> String {
        settings.greeting.clone()
    }

    #[wamp::procedure("name")]
    fn name(&self) -> &'static str {
        "pinned"
    }

    #[wamp::subscribe("seen")]
    fn seen(&mut self, by: u64) {
        self.seen.set(self.seen.get() + by);
    }
}

#[derive(Default)]
pub struct Movable;

#[wamp::component(prefix = "com.example.movable", inventory = false)]
impl Movable {
    #[wamp::procedure("greeting")]
    fn greeting(&self, settings: Data<Settings>, name: String) -> Result<String, Error> {
        Ok(format!("{}, {name}", settings.greeting))
    }

    #[wamp::procedure("name")]
    fn name(&mut self) -> &'static str {
        "movable"
    }

    #[wamp::procedure("boxed")]
    fn boxed(&self, values: Box<[u8]>) -> Option<Box<[u8]>> {
        Some(values)
    }

    /// A result that is not `Send`: this one stays on its thread.
    #[wamp::procedure("not_send")]
    fn not_send(&self) -> &'static std::cell::Cell<u64> {
        Box::leak(Box::new(std::cell::Cell::new(1)))
    }
}

fn main() {
    let shapes = Shapes::new();
    let _ = shapes.helper((1, 2));
    let _ = <Shapes as wamp::component::Component>::name();
}
