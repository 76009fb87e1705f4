//! The input of the `realm_sessions` target: what up to four clients do, as
//! `arbitrary` builds it from the fuzzer's bytes.
//!
//! Messages are built from small choices rather than decoded from bytes, so
//! most steps are well-formed and name the same few URIs and the ids the
//! router handed out: that is what makes subscriptions meet publications
//! and calls meet their callees. [`Act::Frame`] still feeds raw bytes
//! through a decoder, as the transport would.

use arbitrary::Arbitrary;
use wamp::protocol::{code, Dict, Id, WampMessage, Payload, Value};

/// How many clients a script can use.
pub const CLIENTS: usize = 4;

/// The one realm the harness serves; HELLO for any other is rejected.
pub const REALM: &str = "realm1";

/// Topics and procedures: a few valid URIs, one a prefix of another, and
/// a few the router must refuse (the last is longer than the harness's
/// limit).
pub const URIS: [&str; 9] =
    ["com.a", "com.b", "com.a.b", "com.c", "wamp.x", "com..b", "has space", "", "com.a.very.long.one"];

/// A whole run: the seed of the realm's random ids, then the actions.
#[derive(Debug, Arbitrary)]
pub struct Script {
    /// Seeds the realm's session and publication ids.
    pub seed: u64,
    /// What happens, in order.
    pub actions: Vec<Action>,
}

/// One thing one client does.
#[derive(Debug, Arbitrary)]
pub struct Action {
    /// Which client (modulo [`CLIENTS`]).
    pub client: u8,
    /// What it does.
    pub act: Act,
}

impl Action {
    /// The client's index in the harness.
    pub fn slot(&self) -> usize {
        usize::from(self.client) % CLIENTS
    }
}

/// What a client can do.
#[derive(Debug, Arbitrary)]
pub enum Act {
    /// Sends a message built from small choices. A client without a
    /// connection first connects and joins [`REALM`] (unless the message is
    /// its HELLO), so that most steps reach the realm.
    Send(Op),
    /// Opens a new connection (dropping the current one) and sends nothing:
    /// the next message is the session's first.
    Connect,
    /// Sends a frame of raw bytes, decoded as JSON or MessagePack, opening
    /// a connection first if there is none.
    Frame {
        /// Which serializer decodes it.
        msgpack: bool,
        /// The frame.
        data: Vec<u8>,
    },
    /// Sends a frame the transport refuses (a binary frame on a JSON
    /// connection): a protocol violation below the WAMP layer.
    BadFrame,
    /// The connection drops without a GOODBYE.
    Disconnect,
    /// Time passes: this many tenths of a second, then the realm ends what
    /// timed out.
    Wait(u8),
}

/// A message a client sends, with the choices that shape it.
#[allow(missing_docs)]
#[derive(Debug, Arbitrary)]
pub enum Op {
    Hello {
        realm: RealmName,
        auth: Auth,
    },
    Goodbye,
    Abort,
    Subscribe {
        topic: Uri,
        matching: Matching,
    },
    Unsubscribe(Pick),
    Publish {
        topic: Uri,
        acknowledge: Flag,
        exclude_me: Flag,
        payload: Data,
    },
    Register {
        procedure: Uri,
        matching: Matching,
        invoke: Invoke,
    },
    Unregister(Pick),
    Call {
        procedure: Uri,
        payload: Data,
    },
    Cancel(Pick),
    Yield {
        invocation: Pick,
        payload: Data,
    },
    /// ERROR for an INVOCATION: the callee's failure, passed to the caller.
    Fail {
        invocation: Pick,
        error: Uri,
        payload: Data,
    },
    /// ERROR for any other message type: not a client's to send.
    StrayError {
        request_type: u8,
        request: Pick,
    },
    /// A message only a router sends.
    RouterOnly(u8),
}

/// One of [`URIS`].
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct Uri(pub u8);

impl Uri {
    /// The URI text.
    pub fn text(self) -> &'static str {
        URIS[usize::from(self.0) % URIS.len()]
    }
}

/// The realm a HELLO asks for: mostly the one served.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct RealmName(pub u8);

impl RealmName {
    /// [`REALM`].
    pub const SERVED: RealmName = RealmName(0);
    /// A realm the router does not have.
    pub const UNKNOWN: RealmName = RealmName(6);

    fn text(self) -> &'static str {
        match self.0 % 8 {
            0..=5 => REALM,
            6 => "realm2",
            _ => "not a realm",
        }
    }
}

/// The `authmethods` a HELLO offers: mostly none or one the router has.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct Auth(pub u8);

impl Auth {
    /// No `authmethods`: anonymous.
    pub const ABSENT: Auth = Auth(0);
    /// Only a method the router does not offer.
    pub const TICKET_ONLY: Auth = Auth(6);

    fn details(self) -> Dict {
        // Every client role, but in one HELLO of 16 none at all (refused).
        let mut details = Dict::new();
        if self.0 % 16 != 15 {
            let roles: Dict = ["caller", "callee", "publisher", "subscriber"]
                .into_iter()
                .map(|role| (role.to_owned(), Value::Dict(Dict::new())))
                .collect();
            details.insert("roles".to_owned(), Value::Dict(roles));
        }
        let methods = match self.0 % 8 {
            0..=3 => return details,
            4 | 5 => Value::List(vec!["ticket".into(), "anonymous".into()]),
            6 => Value::List(vec!["ticket".into()]),
            _ => Value::from("anonymous"),
        };
        details.insert("authmethods".to_owned(), methods);
        details
    }
}

// Options are mostly absent or valid: a value the router refuses ends the
// request (or, of the wrong type, the session), and a script whose every
// REGISTER fails never reaches a call. A byte per option, not an enum (which
// `arbitrary` draws from four bytes), keeps scripts short.

/// A boolean option: absent, true or false, rarely of the wrong type.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct Flag(pub u8);

impl Flag {
    /// No option.
    pub const ABSENT: Flag = Flag(0);
    /// `true`.
    pub const YES: Flag = Flag(3);
    /// `false`.
    pub const NO: Flag = Flag(6);

    fn put(self, options: &mut Dict, key: &str) {
        let value = match self.0 % 8 {
            0..=2 => return,
            3..=5 => Value::Bool(true),
            6 => Value::Bool(false),
            _ => Value::from("yes"),
        };
        options.insert(key.to_owned(), value);
    }
}

/// The `match` option of SUBSCRIBE and REGISTER: mostly absent.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct Matching(pub u8);

impl Matching {
    /// No option: exact matching.
    pub const ABSENT: Matching = Matching(0);

    fn options(self) -> Dict {
        let value = match self.0 % 16 {
            0..=11 => return Dict::new(),
            12 => Value::from("exact"),
            13 => Value::from("prefix"),
            14 => Value::from("wildcard"),
            _ => Value::from(1),
        };
        Dict::from([("match".to_owned(), value)])
    }
}

/// The `invoke` option of REGISTER: mostly absent.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct Invoke(pub u8);

impl Invoke {
    /// No option: single invocation.
    pub const ABSENT: Invoke = Invoke(0);

    fn put(self, options: &mut Dict) {
        let value = match self.0 % 16 {
            0..=11 => return,
            12 => Value::from("single"),
            13 => Value::from("roundrobin"),
            14 => Value::from("first"),
            _ => Value::from(1),
        };
        options.insert("invoke".to_owned(), value);
    }
}

/// An application payload.
#[allow(missing_docs)]
#[derive(Debug, Arbitrary)]
pub enum Data {
    Empty,
    Args(Vec<Scalar>),
    Kwargs(Vec<(Uri, Scalar)>),
    Opaque(Vec<u8>),
}

/// A payload value.
#[allow(missing_docs)]
#[derive(Debug, Arbitrary)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
}

/// An id a message refers to, mostly one the client holds: values up to
/// 191 pick among the client's own ids of the right kind, up to 223 among
/// the ids the router handed to anybody, and the rest are small ids (most
/// likely unknown to the router, or someone else's).
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct Pick(pub u8);

impl Pick {
    /// The n-th id of the right kind the client holds.
    pub const fn own(n: u8) -> Pick {
        Pick(n % 192)
    }

    /// The n-th id the router handed to anybody.
    pub const fn seen(n: u8) -> Pick {
        Pick(192 + n % 32)
    }

    /// The id `1 + n % 32`, whoever holds it.
    pub const fn any(n: u8) -> Pick {
        Pick(224 + n % 32)
    }

    fn resolve(self, own: &[Id], seen: &[Id]) -> Id {
        let n = usize::from(self.0);
        let nth = |ids: &[Id], i: usize| ids.get(i % ids.len().max(1)).copied();
        let small = 1 + (self.0 % 32) as Id;
        match self.0 {
            0..=191 => nth(own, n).unwrap_or(small),
            192..=223 => nth(seen, n).unwrap_or(small),
            _ => small,
        }
    }
}

/// The ids a client holds, for [`Pick::own`].
#[derive(Debug, Default)]
pub struct Held {
    /// Subscriptions it was given.
    pub subscriptions: Vec<Id>,
    /// Registrations it was given.
    pub registrations: Vec<Id>,
    /// Invocations it has to answer.
    pub invocations: Vec<Id>,
    /// Its calls that wait for an answer.
    pub calls: Vec<Id>,
}

impl Op {
    /// The message, with `request` as its request id if it needs a new one.
    pub fn message(&self, request: Id, held: &Held, seen: &[Id]) -> WampMessage {
        match self {
            Op::Hello { realm, auth } => {
                WampMessage::Hello { realm: realm.text().into(), details: auth.details() }
            }
            Op::Goodbye => WampMessage::Goodbye { details: Dict::new(), reason: "wamp.close.normal".into() },
            Op::Abort => WampMessage::Abort { details: Dict::new(), reason: "wamp.error.canceled".into() },
            Op::Subscribe { topic, matching } => {
                WampMessage::Subscribe { request, options: matching.options(), topic: topic.text().into() }
            }
            Op::Unsubscribe(pick) => {
                WampMessage::Unsubscribe { request, subscription: pick.resolve(&held.subscriptions, seen) }
            }
            Op::Publish { topic, acknowledge, exclude_me, payload } => {
                let mut options = Dict::new();
                acknowledge.put(&mut options, "acknowledge");
                exclude_me.put(&mut options, "exclude_me");
                WampMessage::Publish { request, options, topic: topic.text().into(), payload: payload.payload() }
            }
            Op::Register { procedure, matching, invoke } => {
                let mut options = matching.options();
                invoke.put(&mut options);
                WampMessage::Register { request, options, procedure: procedure.text().into() }
            }
            Op::Unregister(pick) => {
                WampMessage::Unregister { request, registration: pick.resolve(&held.registrations, seen) }
            }
            Op::Call { procedure, payload } => WampMessage::Call {
                request,
                options: Dict::new(),
                procedure: procedure.text().into(),
                payload: payload.payload(),
            },
            Op::Cancel(pick) => {
                WampMessage::Cancel { request: pick.resolve(&held.calls, seen), options: Dict::new() }
            }
            Op::Yield { invocation, payload } => WampMessage::Yield {
                request: invocation.resolve(&held.invocations, seen),
                options: Dict::new(),
                payload: payload.payload(),
            },
            Op::Fail { invocation, error, payload } => WampMessage::Error {
                request_type: code::INVOCATION,
                request: invocation.resolve(&held.invocations, seen),
                details: Dict::new(),
                error: error.text().into(),
                payload: payload.payload(),
            },
            Op::StrayError { request_type, request: pick } => WampMessage::Error {
                request_type: u64::from(*request_type),
                request: pick.resolve(&[], seen),
                details: Dict::new(),
                error: "wamp.error.runtime_error".into(),
                payload: Payload::default(),
            },
            Op::RouterOnly(which) => router_only(*which, request),
        }
    }
}

fn router_only(which: u8, id: Id) -> WampMessage {
    let details = Dict::new();
    match which % 6 {
        0 => WampMessage::Welcome { session: id, details },
        1 => WampMessage::Event { subscription: id, publication: id, details, payload: Payload::default() },
        2 => WampMessage::Result { request: id, details, payload: Payload::default() },
        3 => WampMessage::Invocation { request: id, registration: id, details, payload: Payload::default() },
        4 => WampMessage::Subscribed { request: id, subscription: id },
        _ => WampMessage::Challenge { method: "ticket".into(), extra: details },
    }
}

impl Data {
    fn payload(&self) -> Payload {
        match self {
            Data::Empty => Payload::default(),
            Data::Args(args) => Payload::args(args.iter().map(Scalar::value).collect()),
            Data::Kwargs(kwargs) => Payload::new(
                Vec::new(),
                kwargs.iter().map(|(key, v)| (key.text().to_owned(), v.value())).collect(),
            ),
            Data::Opaque(bytes) => Payload::Transparent(bytes.clone()),
        }
    }
}

impl Scalar {
    fn value(&self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(*b),
            Scalar::Int(i) => Value::Int(*i),
            Scalar::Float(f) => Value::Float(*f),
            Scalar::Text(s) => Value::from(s.as_str()),
            Scalar::Bytes(b) => Value::Bytes(b.clone()),
        }
    }
}
