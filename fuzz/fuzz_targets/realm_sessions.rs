//! Up to four clients, each a session state machine, talking to one realm:
//! a script of joins, requests, answers, protocol violations and dropped
//! connections, with the realm's output checked after every step.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wamp_fuzz::harness::Harness;
use wamp_fuzz::script::Script;

fuzz_target!(|script: Script| {
    Harness::run(&script);
});
