//! Arbitrary handshake text from the other side: a server's answer to our
//! client, header lines in an otherwise valid answer, or a client's
//! permessage-deflate offer to our server (see `src/handshake.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| wamp_fuzz::handshake::check(data));
