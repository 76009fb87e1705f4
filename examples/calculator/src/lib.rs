//! A calculator component: procedures with positional and keyword
//! arguments, optional parameters, results with keyword arguments, and
//! application errors with URIs of their own that callers decode back into
//! [`CalcError`].

use serde::{Deserialize, Serialize};
use wamp::client::Kwargs;

/// Everything the calculator refuses, one URI per variant under
/// `com.example.calculator.error`.
#[derive(Debug, PartialEq, wamp::Error)]
#[wamp(prefix = "com.example.calculator.error")]
pub enum CalcError {
    /// `...error.division_by_zero`.
    #[wamp(message = "division by zero")]
    DivisionByZero,
    /// `...error.unknown_unit`, with the unit as its argument.
    UnknownUnit(String),
    /// `...error.too_many_digits`, with keyword arguments `asked` and `max`.
    #[wamp(message = "cannot round to that many digits")]
    TooManyDigits {
        /// The digits asked for.
        asked: u32,
        /// The most there can be.
        max: u32,
    },
    /// `...error.no_numbers`: statistics of nothing.
    #[wamp(message = "statistics need at least one number")]
    NoNumbers,
}

/// The keyword arguments of `power`: `exponent` (2 if absent) and `modulo`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerOptions {
    /// The exponent.
    #[serde(default = "two")]
    pub exponent: u32,
    /// Reduce the result modulo this, if given.
    #[serde(default)]
    pub modulo: Option<u64>,
}

fn two() -> u32 {
    2
}

/// The most digits `round` keeps.
const MAX_DIGITS: u32 = 15;

/// Lengths in metres, by unit.
const UNITS: &[(&str, f64)] =
    &[("mm", 0.001), ("cm", 0.01), ("m", 1.0), ("km", 1000.0), ("in", 0.0254), ("ft", 0.3048)];

/// The calculator. It keeps no state.
#[derive(Default)]
pub struct Calculator;

#[wamp::component(prefix = "com.example.calculator", client = "CalculatorClient", inventory = false)]
impl Calculator {
    /// `add(a, b)`: positional (`add(2, 3)`) or keyword (`add(a=2, b=3)`)
    /// arguments, as the caller likes.
    #[wamp::procedure("add")]
    fn add(&self, a: f64, b: f64) -> f64 {
        a + b
    }

    /// `divide(a, b)`: fails with `...error.division_by_zero`.
    #[wamp::procedure("divide")]
    fn divide(&self, a: f64, b: f64) -> Result<f64, CalcError> {
        if b == 0.0 {
            return Err(CalcError::DivisionByZero);
        }
        Ok(a / b)
    }

    /// `round(value, digits?)`: `digits` is optional (0 if absent).
    #[wamp::procedure("round")]
    fn round(&self, value: f64, digits: Option<u32>) -> Result<f64, CalcError> {
        let digits = digits.unwrap_or(0);
        if digits > MAX_DIGITS {
            return Err(CalcError::TooManyDigits { asked: digits, max: MAX_DIGITS });
        }
        let scale = 10f64.powi(digits as i32);
        Ok((value * scale).round() / scale)
    }

    /// `convert(value, from="cm", to="in")`: `from` is a Rust keyword, so
    /// the parameter has another name and says which one it has on the wire.
    #[wamp::procedure("convert")]
    fn convert(
        &self,
        value: f64,
        #[wamp(name = "from")] source: String,
        to: String,
    ) -> Result<f64, CalcError> {
        let metres = |unit: &str| UNITS.iter().find(|(name, _)| *name == unit).map(|(_, m)| *m);
        let from = metres(&source).ok_or(CalcError::UnknownUnit(source))?;
        let into = metres(&to).ok_or(CalcError::UnknownUnit(to))?;
        Ok(value * from / into)
    }

    /// `power(base, exponent=2, modulo=None)`: the keyword arguments fill a
    /// struct; an unknown one is refused with `wamp.error.invalid_argument`.
    #[wamp::procedure("power")]
    fn power(&self, base: u64, #[wamp(kwargs)] options: PowerOptions) -> Result<u64, wamp::Error> {
        let mut result: u64 = 1;
        for _ in 0..options.exponent {
            result = result.checked_mul(base).ok_or_else(|| {
                wamp::Error::new("wamp.error.invalid_argument", "the power does not fit in 64 bits")
            })?;
            if let Some(m) = options.modulo.filter(|m| *m > 0) {
                result %= m;
            }
        }
        Ok(result)
    }

    /// `stats(numbers)`: the answer is keyword arguments `count`, `mean`,
    /// `min` and `max`.
    #[wamp::procedure("stats")]
    fn stats(&self, numbers: Vec<f64>) -> Result<Kwargs<Stats>, CalcError> {
        if numbers.is_empty() {
            return Err(CalcError::NoNumbers);
        }
        let min = numbers.iter().copied().fold(f64::INFINITY, f64::min);
        let max = numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = numbers.iter().sum::<f64>() / numbers.len() as f64;
        Ok(Kwargs(Stats { count: numbers.len(), mean, min, max }))
    }
}

/// What `stats` answers, as keyword arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// How many numbers.
    pub count: usize,
    /// Their mean.
    pub mean: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
}

/// Adds the example's components to `host`.
pub fn add_components(host: wamp::Host) -> wamp::Host {
    host.add_component(Calculator)
}
