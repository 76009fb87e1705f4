//! The audit log: what the other components announced.

/// Lines kept.
const KEPT: usize = 1000;

/// Remembers every order and every low-stock warning.
#[derive(Default)]
pub struct Audit {
    lines: Vec<String>,
}

impl Audit {
    fn record(&mut self, line: String) {
        tracing::info!(%line, "audit");
        if self.lines.len() == KEPT {
            self.lines.remove(0);
        }
        self.lines.push(line);
    }
}

#[wamp::component(prefix = "com.example.shop")]
impl Audit {
    /// Every order placed.
    #[wamp::subscribe("orders.placed")]
    fn order_placed(&mut self, id: u64, item: String, count: u32) {
        self.record(format!("order {id}: {count} x {item}"));
    }

    /// Every item that runs low.
    #[wamp::subscribe("stock.low")]
    fn stock_low(&mut self, item: String, left: u32) {
        self.record(format!("low stock: {item}, {left} left"));
    }

    /// `audit.log()`: the lines so far, oldest first.
    #[wamp::procedure("audit.log")]
    fn log(&self) -> Vec<String> {
        self.lines.clone()
    }
}
