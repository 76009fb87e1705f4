//! The component macros of actix-wamp, re-exported by the `wamp` crate as
//! `#[wamp::component]`, `#[wamp::procedure]`, `#[wamp::subscribe]`,
//! `#[wamp::message]` and `#[derive(wamp::Error)]`.
//!
//! `#[wamp::component]` goes on an inherent impl block. It reads the
//! methods marked `#[wamp::procedure]`, `#[wamp::subscribe]` and
//! `#[wamp::message]` and the lifecycle hooks `on_start`, `on_join`,
//! `on_leave` and `on_disconnect`, checks them,
//! and implements `wamp::component::Component` for the type, so the
//! component can be run by a `wamp::Host`. The impl block itself is kept
//! as written, minus the helper attributes.
//!
//! ```
//! use wamp::prelude::*;
//!
//! #[derive(Default)]
//! struct Calculator {
//!     calls: u64,
//! }
//!
//! #[wamp::component(realm = "realm1", prefix = "com.example")]
//! impl Calculator {
//!     /// `com.example.add2(x, y)`
//!     #[wamp::procedure("add2")]
//!     async fn add2(&mut self, x: i64, y: i64) -> Result<i64, Error> {
//!         self.calls += 1;
//!         Ok(x + y)
//!     }
//!
//!     /// Events published to `com.example.hello`.
//!     #[wamp::subscribe("hello")]
//!     fn on_hello(&self, greeting: String) {
//!         println!("{greeting}");
//!     }
//!
//!     /// Runs after every join.
//!     async fn on_join(&self, session: &Session) -> Result<(), Error> {
//!         session.publish("com.example.hello", ("Hello, world!",)).await
//!     }
//! }
//!
//! use wamp::component::Component as _;
//! assert_eq!(Calculator::realm(), Some("realm1"));
//! ```
//!
//! # Methods
//!
//! A procedure or event handler takes `&self` or `&mut self` and may be
//! `async`. The component's state sits behind an async read-write lock:
//! `&self` methods run side by side, `&mut self` methods one at a time.
//! The lock is taken after the arguments are read, and held until the
//! method returns (across its `.await`s, for an `async` method).
//!
//! # Parameters
//!
//! Each parameter is read from the call's or event's payload, in order:
//! from the next positional argument while there are any, then from the
//! keyword argument of the parameter's name. Its type must implement
//! `serde::Deserialize`; an `Option<T>` parameter may be left out.
//! Arguments that do not fit, are missing, or are left over fail the call
//! with `wamp.error.invalid_argument`, naming the parameter.
//!
//! Parameters whose type is named `Session`, `CallDetails` (procedures) or
//! `EventDetails` (event handlers), by value or by reference, are passed
//! in by the framework and never read from the payload; so are `Data<T>`
//! parameters (the host's application data of type `T`, by value).
//! `#[wamp(kwargs)]` on a parameter gives it every keyword argument left
//! (a struct or a map); `#[wamp(name = "...")]` its keyword argument's
//! name on the wire.
//!
//! # Results
//!
//! | a procedure returns | the caller receives                                  |
//! |---------------------|------------------------------------------------------|
//! | `()`                | no arguments                                         |
//! | `T: Serialize`      | one positional argument (none for `()` or `None`); a reference only if `'static` (`&'static str`) |
//! | `Kwargs<T>`         | `T`'s fields as keyword arguments, no positional ones (`T` must serialize to a map) |
//! | `Arguments`         | its `args` and `kwargs`, as they are                 |
//! | `Result<T, E>`      | as `T` (or `Kwargs<T>`, `Arguments`) for `Ok`; for `Err`, the error `E: Into<wamp::Error>` |
//!
//! An event handler returns `()` or `Result<(), E>`; an error, like
//! arguments that do not fit, is logged as a warning that names the
//! component and the topic.
//!
//! # Lifecycle hooks
//!
//! Methods named `on_start`, `on_join`, `on_leave` and `on_disconnect`
//! (without an attribute) are hooks: they take `&self` or `&mut self`
//! and, if they need it, a `&Session`; they may be `async` and return
//! `()` or `Result<(), E>`. `on_start` runs once, when the component
//! starts, before it joins (the place to start timers with
//! `Session::run_interval`; if it fails, the component does not join);
//! `on_join` runs after each join, once the procedures and subscriptions
//! are in place; `on_leave` when the session ends; `on_disconnect` when
//! the connection is lost (a reconnect follows).
//!
//! # Messages
//!
//! A method marked `#[wamp::message]` handles the application's own
//! messages of its parameter's type, sent with `ComponentHandle::send`
//! (see [`macro@message`]).
//!
//! # Mistakes are compile errors
//!
//! Invalid or repeated URIs, unknown options, parameters that cannot be
//! read (patterns, `impl Trait`, references), receivers other than `&self`
//! and `&mut self`, generic methods or impls, and the helper attributes
//! outside a component are reported at the offending code. Types that
//! cannot be deserialized (parameters) or serialized (results) fail at the
//! type.

mod args;
mod client;
mod component;
mod error;
mod handler;
mod paths;
mod signature;
mod uri;

use proc_macro::TokenStream;
use quote::quote;

/// Derives an application error type: an enum with one error URI per
/// variant, which converts to a `wamp::Error` (so a procedure can return
/// `Result<T, YourError>`) and back (`wamp::Error::decode`), so a caller
/// can `match` on what the callee meant.
///
/// * `#[wamp(uri = "...")]` on a variant gives its URI; or
///   `#[wamp(prefix = "...")]` on the enum names every variant without one
///   after itself: `InsufficientFunds` is `prefix.insufficient_funds`.
/// * A tuple variant's fields are the error's positional arguments, a
///   variant with named fields its keyword arguments (by field name);
///   every field is `Serialize` and `Deserialize`.
/// * `#[wamp(message = "...")]` on a unit variant or one with named fields
///   sends a human-readable message as the only positional argument, as
///   WAMP peers expect (AutobahnPython shows it).
///
/// Decoding gives `None` when the URI is not one of the type's or the
/// arguments do not fit its fields.
///
/// ```
/// use wamp::ErrorKind;
///
/// #[derive(Debug, PartialEq, wamp::Error)]
/// #[wamp(prefix = "com.bank.error")]
/// enum BankError {
///     /// `com.bank.error.insufficient_funds`, with kwargs `needed`, `available`.
///     #[wamp(message = "not enough money on the account")]
///     InsufficientFunds { needed: u64, available: u64 },
///     /// `com.bank.error.unknown_account`, with the account as its argument.
///     UnknownAccount(String),
///     #[wamp(uri = "com.bank.frozen")]
///     Frozen,
/// }
///
/// let wire: wamp::Error = BankError::InsufficientFunds { needed: 50, available: 20 }.into();
/// assert_eq!(wire.uri, "com.bank.error.insufficient_funds");
/// assert_eq!(wire.message(), Some("not enough money on the account"));
/// assert_eq!(wire.kwargs["needed"], 50.into());
/// assert_eq!(wire.kind(), ErrorKind::Application);
///
/// // What a caller does with the error of a call.
/// assert_eq!(wire.decode::<BankError>(), Some(BankError::InsufficientFunds { needed: 50, available: 20 }));
/// let unknown: wamp::Error = BankError::UnknownAccount("DE01".into()).into();
/// assert_eq!(unknown.decode(), Some(BankError::UnknownAccount("DE01".into())));
/// let other = wamp::Error::new("wamp.error.no_such_procedure", "no callee");
/// assert_eq!(other.decode::<BankError>(), None);
/// ```
#[proc_macro_derive(Error, attributes(wamp))]
pub fn derive_error(item: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(item as syn::DeriveInput);
    error::derive(input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Turns an inherent impl block into a WAMP component.
///
/// ```text
/// #[wamp::component(realm = "realm1", prefix = "com.example", inventory = false, client = "MyClient")]
/// ```
///
/// Every setting is optional:
///
/// * `realm = "..."`: the realm the component joins (the host's default
///   realm otherwise);
/// * `prefix = "..."`: the URIs of the procedures and subscriptions are
///   relative to it: `#[wamp::procedure("add2")]` with
///   `prefix = "com.example"` is `com.example.add2`;
/// * `inventory = false`: do not list the component for
///   `Host::add_registered`. Listed components are created with
///   `Default::default()`, so a type without `Default` needs this setting
///   (and is added to a host by value);
/// * `factory = "path"`: list the component, created by this function
///   (`fn() -> Self`) instead of `Default::default()`;
/// * `client = "Name"`: also generate `Name<S>`, a typed client of the
///   component over any `wamp::client::Caller` (a `Session` or a `Client`):
///   one `async` method per procedure (named after the method, taking its
///   arguments and returning its success type or a `wamp::Error`), and one
///   `publish_<method>` per topic the component subscribes to; patterns are
///   left out.
///
/// The component's name, in logs, is its type's name.
///
/// ```
/// use wamp::component::Component;
/// use wamp::prelude::*;
///
/// #[derive(Default)]
/// struct Counter {
///     count: u64,
/// }
///
/// #[wamp::component(prefix = "com.example.counter")]
/// impl Counter {
///     /// `com.example.counter.increment(by = 1)`: the new count.
///     #[wamp::procedure("increment")]
///     fn increment(&mut self, by: Option<u64>) -> u64 {
///         self.count += by.unwrap_or(1);
///         self.count
///     }
///
///     /// `com.example.counter.get()`: the count.
///     #[wamp::procedure("get")]
///     fn get(&self) -> u64 {
///         self.count
///     }
///
///     /// Events on `com.example.counter.reset`.
///     #[wamp::subscribe("reset")]
///     fn reset(&mut self, details: &EventDetails) {
///         println!("reset by publication {}", details.publication);
///         self.count = 0;
///     }
/// }
///
/// assert_eq!(Counter::name(), "Counter");
/// let host = wamp::Host::new(wamp::component::HostConfig::default()).add_component(Counter::default());
/// # drop(host);
/// ```
#[proc_macro_attribute]
pub fn component(attr: TokenStream, item: TokenStream) -> TokenStream {
    component::expand(attr.into(), item.into()).into()
}

/// Offers a method of a `#[wamp::component]` impl as a procedure.
///
/// ```text
/// #[wamp::procedure("uri")]
/// #[wamp::procedure("uri", match = "prefix", invoke = "roundrobin", disclose_caller = true)]
/// #[wamp::procedure("uri", concurrency = 4, timeout_ms = 2000)]
/// ```
///
/// * `match`: `"exact"` (the default), `"prefix"` or `"wildcard"`; pattern
///   URIs may have empty components (`"com.example..add"`);
/// * `invoke`: how the router shares the procedure between several
///   callees: `"single"` (the default), `"roundrobin"`, `"random"`,
///   `"first"` or `"last"`;
/// * `disclose_caller = true`: ask the router to tell the procedure who
///   calls it (in its `CallDetails`);
/// * `concurrency = N` (`async` methods): at most N runs at once, the
///   others waiting in arrival order;
/// * `timeout_ms = N` (`async` and `blocking` methods): a run that takes
///   longer is dropped (an `async` one, releasing the component's lock)
///   or left to finish on its worker thread (a `blocking` one, which
///   keeps the state until it returns), and the caller gets
///   `wamp.error.timeout`;
/// * `blocking = true` (methods that are not `async`): the method runs on
///   the blocking thread pool, with the state moved there and back (the
///   component must be `Send`), so the component's thread, and an
///   embedded router's, keeps going; it does not take the `Session` (its
///   `CallDetails` it may: partial results and the interruption go
///   through a relay on the component's thread). Without it, a method
///   that is not `async` starts there, on trial, when the types allow it:
///   after 32 quick runs it runs on the component's thread, and a slow
///   run (past `slow_handler_ms`) sends it back to the pool
///   (docs/components.md, "Handlers that take long").
///
/// See the [crate documentation](crate) for the parameters and results.
///
/// ```
/// use serde::Serialize;
/// use wamp::prelude::*;
///
/// #[derive(Serialize)]
/// struct Quotient {
///     quotient: i64,
///     remainder: i64,
/// }
///
/// #[derive(Default)]
/// struct Math;
///
/// #[wamp::component(prefix = "com.example.math")]
/// impl Math {
///     /// `com.example.math.divide(a, b)`, on every callee in turn.
///     #[wamp::procedure("divide", invoke = "roundrobin", disclose_caller = true)]
///     fn divide(&self, a: i64, b: i64, call: &CallDetails) -> Result<Quotient, Error> {
///         if b == 0 {
///             return Err(Error::new("com.example.math.division_by_zero", "b must not be 0"));
///         }
///         println!("called by session {:?}", call.caller);
///         Ok(Quotient { quotient: a / b, remainder: a % b })
///     }
///
///     /// Every procedure under `com.example.math.echo.`: its arguments,
///     /// back as they came.
///     #[wamp::procedure("echo", match = "prefix")]
///     async fn echo(&self, call: CallDetails) -> Arguments {
///         Arguments::new().kwarg("procedure", call.procedure).unwrap_or_default()
///     }
/// }
/// ```
///
/// Outside a `#[wamp::component]` impl block the attribute is an error.
#[proc_macro_attribute]
pub fn procedure(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_component("#[wamp::procedure]", item.into()).into()
}

/// Subscribes a method of a `#[wamp::component]` impl to a topic.
///
/// ```text
/// #[wamp::subscribe("uri")]
/// #[wamp::subscribe("uri", match = "wildcard")]
/// ```
///
/// * `match`: `"exact"` (the default), `"prefix"` or `"wildcard"`; pattern
///   URIs may have empty components (`"com.example..updated"`);
/// * `concurrency = N`, `timeout_ms = N` and `blocking = true`: as for
///   procedures; a timeout is logged.
///
/// The handler returns `()` or `Result<(), E>`; a failure (or arguments
/// that do not fit) is logged. See the [crate documentation](crate) for
/// the parameters.
///
/// ```
/// use wamp::prelude::*;
///
/// #[derive(Default)]
/// struct Audit {
///     seen: Vec<String>,
/// }
///
/// #[wamp::component(inventory = false)]
/// impl Audit {
///     /// Every `com.example.<anything>.updated` event.
///     #[wamp::subscribe("com.example..updated", match = "wildcard")]
///     async fn updated(&mut self, id: u64, details: EventDetails, session: &Session) -> Result<(), Error> {
///         let topic = details.topic.unwrap_or_default();
///         self.seen.push(format!("{topic}: {id}"));
///         session.publish("com.example.audit.logged", (id,)).await
///     }
/// }
/// ```
///
/// Outside a `#[wamp::component]` impl block the attribute is an error.
#[proc_macro_attribute]
pub fn subscribe(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_component("#[wamp::subscribe]", item.into()).into()
}

/// Handles the application's own messages of one type in a method of a
/// `#[wamp::component]` impl, as an actix `Handler` does: the method's
/// parameter (besides an optional `&Session` and `Data<T>`) is the
/// message, taken by value; what it returns is the reply, as it is.
/// `ComponentHandle::send` delivers a message and waits for the reply,
/// from any thread; `ComponentHandle::do_send` does not wait.
///
/// The method takes `&self` or `&mut self` and may be `async`, with the
/// same lock as procedures: it runs in turn with them.
///
/// ```
/// use wamp::prelude::*;
///
/// /// Asks for the entries older than a cutoff to be dropped.
/// struct Expire {
///     older_than: u64,
/// }
///
/// #[derive(Default)]
/// struct Cache {
///     entries: Vec<(u64, String)>,
/// }
///
/// #[wamp::component(inventory = false)]
/// impl Cache {
///     /// Answers how many entries were dropped.
///     #[wamp::message]
///     fn expire(&mut self, Expire { older_than }: Expire) -> usize {
///         let before = self.entries.len();
///         self.entries.retain(|(at, _)| *at >= older_than);
///         before - self.entries.len()
///     }
/// }
///
/// // A message goes to `Cache::expire`:
/// fn assert_receives<C: wamp::component::Receive<Expire, Reply = usize>>() {}
/// assert_receives::<Cache>();
/// ```
///
/// Outside a `#[wamp::component]` impl block the attribute is an error.
#[proc_macro_attribute]
pub fn message(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_component("#[wamp::message]", item.into()).into()
}

/// The helper attributes do nothing by themselves: `#[wamp::component]`
/// reads and removes them. Reaching one means it is misplaced.
fn outside_component(attribute: &str, item: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let within = format!("{attribute} only works on a method inside an impl block marked #[wamp::component]");
    let sig = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Fn(f)) => Some(f.sig),
        _ => syn::parse2::<syn::ImplItemFn>(item.clone()).ok().map(|f| f.sig),
    };
    let error = match sig {
        Some(sig) => {
            let (fn_token, ident) = (sig.fn_token, &sig.ident);
            let message = if sig.receiver().is_none() {
                format!("{within}; `{ident}` has no `self` parameter")
            } else {
                format!("{within}: add #[wamp::component] above the `impl` that holds `{ident}`")
            };
            syn::Error::new_spanned(quote!(#fn_token #ident), message)
        }
        None => syn::Error::new_spanned(&item, within),
    };
    let error = error.into_compile_error();
    quote!(#error #item)
}
