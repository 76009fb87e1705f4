//! RFC 6455 conformance, measured by the Autobahn WebSocket testsuite in
//! both directions: its fuzzing client against this example's echo
//! ([`server`]), and its fuzzing server against our client ([`client`]).
//!
//! Both are one test binary so that they run at the same time: each spends
//! most of its minutes in the suite's single-threaded Python, so two cores
//! run both in little more than the time of one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

#[path = "../common/mod.rs"]
mod common;
#[path = "../wstest/mod.rs"]
mod wstest;

mod client;
mod server;
