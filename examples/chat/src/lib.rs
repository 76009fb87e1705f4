//! A chat: a web page (served by the app, using AutobahnJS in the browser)
//! and a Rust component that keeps the history and knows who is online.
//!
//! The browser side, `static/chat.js`, joins the realm over the app's own
//! WebSocket endpoint and
//! * calls `com.example.chat.join(nick)`, which answers the history and who
//!   is online, and announces the newcomer on `com.example.chat.presence`;
//! * publishes each message on `com.example.chat.message` (keyword
//!   arguments `nick` and `text`), which every page and the component
//!   receive;
//! * shows `com.example.chat.presence` events as the list of who is online.
//!
//! The component learns that a page went away from the router's meta
//! event `wamp.session.on_leave`, however it went (closed tab, lost
//! network).

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use wamp::client::{CallDetails, Kwargs};
use wamp::protocol::Id;
use wamp::Session;

/// What `join` answers, as keyword arguments `history` and `online`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Joined {
    /// The messages kept, oldest first.
    pub history: VecDeque<Line>,
    /// The nicknames online, sorted.
    pub online: Vec<String>,
}

/// Messages kept for newcomers.
pub const HISTORY: usize = 100;
/// The longest nickname, in characters.
pub const MAX_NICK: usize = 24;
/// Longer messages are kept cut to this many characters.
pub const MAX_TEXT: usize = 500;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    /// Who wrote it.
    pub nick: String,
    /// What they wrote.
    pub text: String,
}

/// What `join` refuses.
#[derive(Debug, PartialEq, wamp::Error)]
#[wamp(prefix = "com.example.chat.error")]
pub enum ChatError {
    /// `...error.bad_nick`: empty, too long, or with control characters.
    #[wamp(message = "a nickname has 1 to 24 visible characters")]
    BadNick,
    /// `...error.nick_taken`: another page uses it.
    #[wamp(message = "someone else uses that nickname")]
    NickTaken,
    /// `...error.anonymous`: the router did not say who called.
    #[wamp(message = "the caller was not disclosed")]
    Anonymous,
}

/// The history and who is online, by session.
#[derive(Default)]
pub struct Chat {
    history: VecDeque<Line>,
    online: BTreeMap<Id, String>,
}

impl Chat {
    fn nicks(&self) -> Vec<String> {
        let mut nicks: Vec<String> = self.online.values().cloned().collect();
        nicks.sort();
        nicks
    }
}

#[wamp::component(inventory = false)]
impl Chat {
    /// `join(nick)`: the history and who is online, as keyword arguments
    /// `history` and `online`. Joining again from the same page renames.
    #[wamp::procedure("com.example.chat.join", disclose_caller = true)]
    async fn join(
        &mut self,
        nick: String,
        call: &CallDetails,
        session: &Session,
    ) -> Result<Kwargs<Joined>, wamp::Error> {
        let nick = nick.trim().to_owned();
        let visible =
            !nick.is_empty() && nick.chars().count() <= MAX_NICK && !nick.chars().any(char::is_control);
        if !visible {
            return Err(ChatError::BadNick.into());
        }
        let caller = call.caller.ok_or(ChatError::Anonymous)?;
        if self.online.iter().any(|(id, taken)| *taken == nick && *id != caller) {
            return Err(ChatError::NickTaken.into());
        }
        self.online.insert(caller, nick.clone());
        tracing::info!(%nick, session = caller, "joined the chat");
        session.publish("com.example.chat.presence", (self.nicks(),)).await?;
        Ok(Kwargs(Joined { history: self.history.clone(), online: self.nicks() }))
    }

    /// Every message published, kept for newcomers.
    #[wamp::subscribe("com.example.chat.message")]
    fn message(&mut self, nick: String, text: String) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        let text = text.chars().take(MAX_TEXT).collect();
        self.history.push_back(Line { nick, text });
    }

    /// `history()`: the messages kept, oldest first.
    #[wamp::procedure("com.example.chat.history")]
    fn history(&self) -> Vec<Line> {
        self.history.iter().cloned().collect()
    }

    /// `online()`: the nicknames of the pages that joined, sorted.
    #[wamp::procedure("com.example.chat.online")]
    fn online(&self) -> Vec<String> {
        self.nicks()
    }

    /// The router's meta event: a session left, however it went.
    #[wamp::subscribe("wamp.session.on_leave")]
    async fn session_left(
        &mut self,
        left: Id,
        _authid: Option<String>,
        _authrole: Option<String>,
        session: &Session,
    ) -> Result<(), wamp::Error> {
        if let Some(nick) = self.online.remove(&left) {
            tracing::info!(%nick, session = left, "left the chat");
            session.publish("com.example.chat.presence", (self.nicks(),)).await?;
        }
        Ok(())
    }
}

/// Adds the chat component to `host`.
pub fn add_components(host: wamp::Host) -> wamp::Host {
    host.add_component(Chat::default())
}

/// Where the browser build of AutobahnJS is read from: `CHAT_AUTOBAHN_JS`,
/// or what `npm ci` in `examples/chat/web` installs.
pub fn autobahn_js() -> PathBuf {
    std::env::var_os("CHAT_AUTOBAHN_JS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web/node_modules/autobahn-browser/autobahn.min.js")
    })
}

/// The page's routes: `/`, `/chat.js`, `/chat.css` (built into the binary)
/// and `/vendor/autobahn.min.js` (read from [`autobahn_js`]).
pub fn pages(config: &mut web::ServiceConfig) {
    config
        .route(
            "/",
            web::get()
                .to(|| async { page("text/html; charset=utf-8", include_str!("../static/index.html")) }),
        )
        .route(
            "/chat.js",
            web::get().to(|| async { page("text/javascript", include_str!("../static/chat.js")) }),
        )
        .route("/chat.css", web::get().to(|| async { page("text/css", include_str!("../static/chat.css")) }))
        .route("/vendor/autobahn.min.js", web::get().to(vendor_autobahn));
}

fn page(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok().content_type(content_type).body(body)
}

async fn vendor_autobahn() -> HttpResponse {
    let path = autobahn_js();
    match web::block(move || std::fs::read(path)).await {
        Ok(Ok(script)) => HttpResponse::Ok().content_type("text/javascript").body(script),
        _ => HttpResponse::NotFound().content_type("text/plain").body(
            "AutobahnJS is not installed: run `npm ci` in examples/chat/web (see examples/chat/README.md)",
        ),
    }
}
