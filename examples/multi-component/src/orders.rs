//! Orders: reserve through the stock's typed client, then announce.

use std::sync::atomic::{AtomicU64, Ordering};

use wamp::prelude::*;

use crate::stock::StockClient;

/// Takes orders.
#[derive(Default)]
pub struct Orders {
    last_id: AtomicU64,
}

#[wamp::component(prefix = "com.example.shop.orders")]
impl Orders {
    /// `place(item, count)`: the order's number. A refusal of the stock
    /// (`com.example.shop.stock.error.*`) reaches the caller unchanged.
    #[wamp::procedure("place")]
    async fn place(&self, item: String, count: u32, session: &Session) -> Result<u64, Error> {
        // A call to another component, with its argument and result types.
        let stock = StockClient::new(session.clone());
        let left = stock.reserve(item.clone(), count).await?;
        let id = self.last_id.fetch_add(1, Ordering::Relaxed) + 1;
        session.publish("com.example.shop.orders.placed", (id, &item, count)).await?;
        tracing::info!(id, %item, count, left, "order placed");
        Ok(id)
    }
}
