//! The REST routes. They reach WAMP through [`Gateway`], a component with
//! no handlers whose session publishes and calls for them.

use actix_web::{get, post, web, HttpResponse};
use serde::Deserialize;
use wamp::client::Client;

use crate::notes::NotesClient;

/// The REST side's WAMP session: a component with no procedures or
/// subscriptions, started by the host like any other, reached with
/// `RunningHost::component::<Gateway>()`.
#[derive(Default)]
pub struct Gateway;

#[wamp::component(inventory = false)]
impl Gateway {}

/// What the REST handlers share: the notes component's typed client, going
/// through the gateway's session.
pub type Wamp = web::Data<NotesClient<Client>>;

/// The body of `POST /api/notes`.
#[derive(Debug, Deserialize)]
pub struct NewNote {
    /// The note.
    pub text: String,
}

/// The REST routes, under `/api`.
pub fn configure(config: &mut web::ServiceConfig) {
    config.service(web::scope("/api").service(create_note).service(list_notes));
}

/// `POST /api/notes {"text": ...}`: published as `com.example.notes.created`
/// to every subscriber, the `Notes` component and remote peers alike.
#[post("/notes")]
async fn create_note(wamp: Wamp, note: web::Json<NewNote>) -> HttpResponse {
    match wamp.publish_created(note.into_inner().text).await {
        Ok(()) => HttpResponse::Accepted().json(serde_json::json!({ "published": true })),
        Err(e) => unavailable(e),
    }
}

/// `GET /api/notes`: the answer of the procedure `com.example.notes.list`.
#[get("/notes")]
async fn list_notes(wamp: Wamp) -> HttpResponse {
    match wamp.list().await {
        Ok(notes) => HttpResponse::Ok().json(notes),
        Err(e) => unavailable(e),
    }
}

/// A WAMP failure as a REST answer: 503 with the error URI and message.
fn unavailable(error: wamp::Error) -> HttpResponse {
    tracing::warn!(%error, "WAMP request failed");
    HttpResponse::ServiceUnavailable()
        .json(serde_json::json!({ "error": error.uri, "message": error.to_string() }))
}
