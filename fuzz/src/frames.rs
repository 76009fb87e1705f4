//! WebSocket frames read in any chunks: the reader decodes frames of
//! 16 KiB and more straight into buffers of their own as chunks arrive,
//! and everything else from its read buffer. However a byte stream is cut
//! into chunks, the frames (and whether reading stops at an error) must be
//! those of the stream read whole.

use arbitrary::Arbitrary;
use wamp::internals::websocket_frames;

/// One frame on the wire, possibly invalid: `first` is the first header
/// byte as it is (final bit, reserved bits, opcode), the payload is
/// `len` bytes made from `seed` (so large frames cost the fuzzer nothing),
/// and `junk` follows the frame.
#[derive(Arbitrary, Debug, Clone)]
pub struct Piece {
    pub first: u8,
    pub mask: Option<[u8; 4]>,
    pub len: u32,
    pub seed: u8,
    pub junk: Vec<u8>,
}

/// A stream of pieces, read as a server or a client, cut into chunks.
#[derive(Arbitrary, Debug)]
pub struct Input {
    pub server: bool,
    pub deflate: bool,
    /// Frames up to 40,000 bytes instead of 1 MiB.
    pub small_limit: bool,
    pub chunks: Vec<u16>,
    pub pieces: Vec<Piece>,
}

/// The longest payload a piece gets.
const MAX_PAYLOAD: u32 = 80_000;

/// The bytes of `pieces`, each header with the shortest length encoding.
pub fn wire(pieces: &[Piece]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in pieces.iter().take(6) {
        let len = (piece.len % MAX_PAYLOAD) as usize;
        out.push(piece.first);
        let masked = if piece.mask.is_some() { 0x80 } else { 0 };
        if len < 126 {
            out.push(masked | len as u8);
        } else if let Ok(short) = u16::try_from(len) {
            out.push(masked | 126);
            out.extend_from_slice(&short.to_be_bytes());
        } else {
            out.push(masked | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        let payload = (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(piece.seed));
        match piece.mask {
            Some(mask) => {
                out.extend_from_slice(&mask);
                out.extend(payload.enumerate().map(|(i, b)| b ^ mask[i % 4]));
            }
            None => out.extend(payload),
        }
        out.extend_from_slice(&piece.junk);
    }
    out
}

/// Reads the stream whole and in `input.chunks`; both must agree.
pub fn check(input: &Input) {
    let wire = wire(&input.pieces);
    let limit = if input.small_limit { 40_000 } else { 1 << 20 };
    let sizes: Vec<usize> = input.chunks.iter().take(16).map(|&c| usize::from(c)).collect();
    let (whole, whole_error) = websocket_frames(&wire, &[], input.server, limit, input.deflate);
    let (chunked, chunked_error) = websocket_frames(&wire, &sizes, input.server, limit, input.deflate);
    assert_eq!(whole.len(), chunked.len(), "as many frames in chunks of {sizes:?}");
    for (i, (a, b)) in whole.iter().zip(&chunked).enumerate() {
        assert!(a == b, "frame {i} differs in chunks of {sizes:?}");
    }
    assert_eq!(whole_error, chunked_error, "the same end in chunks of {sizes:?}");
}
