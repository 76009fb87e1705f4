//! WebSocket frames, valid or not, up to 80 KB each, read as a server or a
//! client in arbitrary chunks: the reader gives the frames (and stops at
//! the error) it gives for the stream read whole.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wamp_fuzz::frames::{check, Input};

fuzz_target!(|input: Input| check(&input));
