//! Arbitrary bytes as a MessagePack (`wamp.2.msgpack`) frame: neither
//! decoder panics, they agree (with each other and with `rmp-serde`), what
//! decodes survives a round trip, and it can be written for a JSON peer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wamp::protocol::Serializer;
use wamp_fuzz::round_trip;

fuzz_target!(|data: &[u8]| {
    round_trip::check(Serializer::MsgPack, data);
    round_trip::check_reference(Serializer::MsgPack, data);
    round_trip::check_msgpack_to_json(data);
});
