//! Arbitrary bytes as a JSON (`wamp.2.json`) frame: neither decoder panics,
//! they agree (with each other and with `serde_json`), and what decodes survives a round trip through JSON and
//! through MessagePack.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wamp::protocol::Serializer;
use wamp_fuzz::round_trip;

fuzz_target!(|data: &[u8]| {
    round_trip::check(Serializer::Json, data);
    round_trip::check_reference(Serializer::Json, data);
    round_trip::check_json_to_msgpack(data);
});
