//! Hand-written inputs for the `websocket_handshake` checks: each reaches
//! a case the fuzzer must reach too, and the checks see it as it is.

use wamp::internals::{client_handshake_answer, Wire};
use wamp::websocket::Compression;
use wamp_fuzz::handshake::{self, answer_from_lines, KEY};

fn protocols() -> Vec<String> {
    vec!["wamp.2.json".to_owned()]
}

#[test]
fn a_valid_answer_agrees_to_the_subprotocol_and_the_window_it_names() {
    let answer = answer_from_lines(b"\x01wamp.2.json\n\x00permessage-deflate; client_max_window_bits=10");
    let agreed =
        client_handshake_answer(&answer, KEY, &protocols(), &Compression::enabled()).unwrap().unwrap();
    assert_eq!(agreed.head_len, answer.len());
    assert_eq!(agreed.protocol.as_deref(), Some("wamp.2.json"));
    assert_eq!(agreed.compress_window_bits, Some(10));
    handshake::check_answer(&answer);
}

#[test]
fn answers_outside_the_offer_are_refused_with_a_reason() {
    let refused = |lines: &[u8], compression: Compression| {
        client_handshake_answer(&answer_from_lines(lines), KEY, &protocols(), &compression).unwrap_err()
    };
    assert!(refused(b"\x01wamp.2.cbor", Compression::enabled()).contains("not offered"));
    assert!(refused(b"\x00permessage-deflate", Compression::default()).contains("not offered"));
    let invalid = refused(b"\x00permessage-deflate; client_max_window_bits=16", Compression::enabled());
    assert!(invalid.contains("client_max_window_bits"), "{invalid}");
    assert!(refused(b"\x00permessage-deflate; foo", Compression::enabled()).contains("`foo`"));
}

#[test]
fn a_cut_head_waits_and_garbage_is_not_http() {
    let answer = answer_from_lines(b"");
    let cut = &answer[..answer.len() - 2];
    assert!(client_handshake_answer(cut, KEY, &protocols(), &Compression::enabled()).unwrap().is_none());
    let garbage =
        client_handshake_answer(b"\x00\xff nonsense\r\n\r\n", KEY, &protocols(), &Compression::enabled());
    assert!(garbage.unwrap_err().contains("not HTTP"));
    let refused = client_handshake_answer(
        b"HTTP/1.1 403 Forbidden\r\n\r\n",
        KEY,
        &protocols(),
        &Compression::enabled(),
    );
    assert!(refused.unwrap_err().contains("403"));
}

#[test]
fn offers_the_server_accepts_round_trip_their_messages() {
    assert!(Wire::new(&Compression::enabled(), Some("permessage-deflate; client_no_context_takeover"))
        .compressing());
    assert!(!Wire::new(&Compression::enabled(), Some("permessage-deflate; server_max_window_bits=8"))
        .compressing());
    for offer in [
        "permessage-deflate",
        "permessage-deflate; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits=9; client_max_window_bits",
        "x-webkit-deflate-frame, permessage-deflate; client_no_context_takeover",
    ] {
        handshake::check_offer(offer);
    }
    // Through the target's own entry point, one input per mode.
    handshake::check(b"\x00HTTP/1.1 101 OK\r\n\r\n");
    handshake::check(b"\x01\x00permessage-deflate");
    handshake::check(b"\x02permessage-deflate; server_max_window_bits=12");
}
