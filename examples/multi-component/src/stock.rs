//! The stock: item levels, reserved by orders.

use std::collections::BTreeMap;

use wamp::prelude::*;

/// Below this many, an item is low and `stock.low` is published.
const LOW: u32 = 3;

/// What a reservation can fail with.
#[derive(Debug, PartialEq, wamp::Error)]
#[wamp(prefix = "com.example.shop.stock.error")]
pub enum StockError {
    /// `...error.unknown_item`, with the item.
    UnknownItem(String),
    /// `...error.not_enough`: fewer left than wanted.
    #[wamp(message = "not enough left")]
    NotEnough {
        /// The item.
        item: String,
        /// How many were wanted.
        wanted: u32,
        /// How many are left.
        left: u32,
    },
}

/// Item levels.
pub struct Stock {
    levels: BTreeMap<String, u32>,
}

impl Default for Stock {
    fn default() -> Self {
        let levels = [("lamp", 6), ("chair", 20), ("table", 4)];
        Stock { levels: levels.into_iter().map(|(item, n)| (item.to_owned(), n)).collect() }
    }
}

#[wamp::component(prefix = "com.example.shop.stock", client = "StockClient")]
impl Stock {
    /// `reserve(item, count)`: takes `count` from the level and returns
    /// what is left.
    #[wamp::procedure("reserve")]
    async fn reserve(&mut self, item: String, count: u32, session: &Session) -> Result<u32, StockError> {
        let level = self.levels.get_mut(&item).ok_or_else(|| StockError::UnknownItem(item.clone()))?;
        if *level < count {
            return Err(StockError::NotEnough { item, wanted: count, left: *level });
        }
        *level -= count;
        let left = *level;
        if left < LOW {
            // Delivered to the subscribers (Audit) as a Rust value, embedded.
            if let Err(e) = session.publish("com.example.shop.stock.low", (&item, left)).await {
                tracing::warn!(%e, "could not announce low stock");
            }
        }
        Ok(left)
    }

    /// `level(item)`: how many are left.
    #[wamp::procedure("level")]
    fn level(&self, item: String) -> Result<u32, StockError> {
        self.levels.get(&item).copied().ok_or(StockError::UnknownItem(item))
    }
}
