//! Hand-written inputs for the `websocket_frames` check: large frames
//! (read into buffers of their own) next to small ones and to invalid
//! headers, in chunks that cut headers, masks and payloads.

use wamp_fuzz::frames::{check, wire, Input, Piece};

fn piece(first: u8, len: u32, masked: bool) -> Piece {
    Piece { first, mask: masked.then_some([0x37, 0xfa, 0x21, 0x3d]), len, seed: 5, junk: Vec::new() }
}

fn run(server: bool, pieces: Vec<Piece>) {
    for chunks in [vec![], vec![1], vec![3, 7], vec![4096], vec![16_390, 2], vec![65_535], vec![65_000, 13]] {
        for small_limit in [false, true] {
            let pieces = pieces.clone();
            check(&Input { server, deflate: false, small_limit, chunks: chunks.clone(), pieces });
        }
    }
}

#[test]
fn large_and_small_frames_read_as_a_server() {
    run(
        true,
        vec![
            piece(0x82, 70_000, true),
            piece(0x81, 5, true),
            piece(0x02, 16_384, true),
            piece(0x80, 20_000, true),
        ],
    );
}

#[test]
fn large_and_small_frames_read_as_a_client() {
    run(false, vec![piece(0x82, 70_000, false), piece(0x89, 4, false), piece(0x82, 16_384, false)]);
}

#[test]
fn reading_stops_at_the_same_error_whatever_the_chunks() {
    // An unmasked frame to a server after a large one; a reserved bit;
    // a control frame too long; junk after a frame.
    run(true, vec![piece(0x82, 30_000, true), piece(0x82, 30_000, false)]);
    run(true, vec![piece(0x82, 30_000, true), piece(0xA2, 10, true)]);
    run(true, vec![piece(0x89, 200, true)]);
    let mut junk = piece(0x82, 20_000, true);
    junk.junk = vec![0xff, 0x00, 0x12];
    run(true, vec![junk]);
}

#[test]
fn the_wire_has_the_frames_it_describes() {
    let bytes = wire(&[piece(0x82, 70_000, true)]);
    assert_eq!(bytes.len(), 2 + 8 + 4 + 70_000);
    assert_eq!(bytes[1], 0x80 | 127);
}
