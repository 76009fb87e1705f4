//! A small shop in three components, in one process:
//!
//! * `Stock` keeps item levels: `com.example.shop.stock.reserve` and
//!   `.level`; it publishes `com.example.shop.stock.low` when an item runs
//!   low.
//! * `Orders` takes orders (`com.example.shop.orders.place`): it reserves
//!   the items by calling `Stock` through its typed client, then publishes
//!   `com.example.shop.orders.placed`.
//! * `Audit` listens to both topics and answers `com.example.shop.audit.log`.
//!
//! None refers to another's type except through the typed client, and none
//! is listed in `main`: each `#[wamp::component]` registers itself and
//! `add_registered` starts them all. Embedded, their calls and events pass
//! between them as Rust values; with `WAMP_URL` set, the same components
//! join that router and talk through it.
//!
//! ```text
//! cargo run -p multi-component
//! wamp call com.example.shop.orders.place lamp 2
//! wamp call com.example.shop.audit.log
//! ```

mod audit;
mod orders;
mod stock;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    wamp::logging::init();
    let host = wamp::Host::from_env()?;
    host.add_registered().run().await
}
