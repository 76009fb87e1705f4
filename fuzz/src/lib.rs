//! What the fuzz targets in `fuzz_targets/` share: the serializer round
//! trip, the WebSocket handshake and frame checks and a model-checked driver for one
//! realm and its sessions.
//!
//! The targets themselves stay one call long, so a reader sees at once what
//! each feeds in, and the checks can be read (and reused) as plain Rust.

pub mod client;
pub mod frames;
pub mod handshake;
pub mod harness;
pub mod round_trip;
pub mod script;
