//! Asking a dynamic authenticator: a WAMP procedure, registered by any
//! component (embedded or remote) in a realm of this router, that vouches
//! for users the configuration does not list.
//!
//! The router calls it through a session of its own in that realm (authid
//! `router`, role `trusted`), started on first use and kept while it
//! lasts.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::{AuthError, Identity, Query, STATIC_PROVIDER};
use crate::client::driver::{Hooks, SessionActor, Start};
use crate::client::{CallOptions, Client};
use crate::protocol::{Payload, Value};
use crate::router::Router;

/// The router's sessions in the realms of dynamic authenticators.
#[derive(Default)]
pub struct AuthenticatorSessions {
    sessions: Mutex<HashMap<String, Client>>,
}

impl std::fmt::Debug for AuthenticatorSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthenticatorSessions")
    }
}

/// Calls the authenticator with `query`'s arguments, giving it at most
/// `timeout`; its first result argument is the answer. Any failure
/// refuses the session and is logged: a refusal (`wamp.error.not_authorized`
/// or `wamp.error.authentication*`) as [`AuthError::Failed`], anything else
/// (no such procedure, another error, a timeout, too many questions at
/// once) as [`AuthError::Unavailable`], which is not the peer's doing.
pub async fn ask(router: &Router, query: &Query, timeout: Duration) -> Result<Value, AuthError> {
    let client = session(router, &query.realm).await?;
    let options = CallOptions { timeout: Some(timeout), ..CallOptions::default() };
    match client.call_with(query.procedure.clone(), Payload::args(query.args.clone()), options).await {
        Ok(result) => Ok(result.args.into_iter().next().unwrap_or(Value::Null)),
        Err(e) => {
            if e.uri != crate::protocol::errors::NOT_AUTHORIZED
                && !e.uri.starts_with("wamp.error.authentication")
            {
                tracing::warn!(procedure = %query.procedure, error = %e, "the dynamic authenticator failed");
                Err(AuthError::Unavailable)
            } else {
                tracing::debug!(procedure = %query.procedure, error = %e, "the dynamic authenticator refused");
                Err(AuthError::Failed)
            }
        }
    }
}

/// The router's session in `realm`, started (and joined) if there is none.
async fn session(router: &Router, realm: &str) -> Result<Client, AuthError> {
    let unavailable = |reason: String| {
        tracing::error!(%realm, %reason, "cannot reach the dynamic authenticator");
        AuthError::Unavailable
    };
    let existing = {
        let sessions =
            router.authenticator_sessions().sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.get(realm).cloned()
    };
    if let Some(client) = existing {
        if !client.has_ended() {
            return Ok(client);
        }
    }
    let handle = router.realm(realm).map_err(|e| unavailable(e.to_string()))?;
    let identity = Identity {
        authid: "router".into(),
        authrole: super::TRUSTED_ROLE.into(),
        authmethod: "trusted".into(),
        authprovider: STATIC_PROVIDER.into(),
    };
    let start = Start::Local { realm: handle, realm_name: realm.to_owned(), identity };
    let client = Client::start(SessionActor::new(start, Hooks::default(), None));
    client.joined().await.map_err(|e| unavailable(e.to_string()))?;
    router
        .authenticator_sessions()
        .sessions
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(realm.to_owned(), client.clone());
    Ok(client)
}
