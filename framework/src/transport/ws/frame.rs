//! Frames on the wire (RFC 6455, 5.2): read as a server reads them (masked)
//! or as a client does (unmasked), with the reserved bit RSV1 allowed on
//! data frames only when permessage-deflate was negotiated; and the header
//! of a frame to write.
//!
//! The decoder checks a frame's length against the limit as soon as its
//! header is in, so a peer announcing a huge frame is refused before any
//! of it is buffered.

use std::collections::VecDeque;

use actix_http::ws::{OpCode, ProtocolError};
use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};

use super::{ReadError, Role};

/// RSV1: the message is compressed (RFC 7692, 6).
const RSV1: u8 = 0x40;
/// RSV2 and RSV3, which no extension of ours defines.
const RSV23: u8 = 0x30;
/// Longest payload of a control frame (RFC 6455, 5.5).
pub(super) const MAX_CONTROL_PAYLOAD: usize = 125;

/// One frame, unmasked.
#[derive(Debug)]
pub(super) struct Frame {
    /// The last frame of its message.
    pub fin: bool,
    /// RSV1 set: the message this frame starts is compressed.
    pub compressed: bool,
    pub op: OpCode,
    pub payload: BytesMut,
}

/// Frames at least this long are read straight into a buffer of their own
/// as their bytes arrive, unmasked on the way, instead of being gathered
/// in the read buffer first (a copy and a pass over the data saved).
const LARGE_FRAME: usize = 16 * 1024;

/// What the buffer of such a frame is first given: a peer that announces a
/// larger frame and stops makes the reader hold at most this much more
/// than it sent.
const LARGE_FRAME_START: usize = 128 * 1024;

/// A frame's header, read.
struct Header {
    fin: bool,
    compressed: bool,
    op: OpCode,
    mask: Option<[u8; 4]>,
    len: usize,
    /// Where the payload starts.
    start: usize,
}

/// A large frame whose payload is coming in.
struct Filling {
    fin: bool,
    compressed: bool,
    op: OpCode,
    mask: Option<[u8; 4]>,
    len: usize,
    payload: BytesMut,
}

impl Filling {
    fn new(header: &Header, arrived: usize) -> Self {
        let capacity = header.len.min(arrived.max(LARGE_FRAME_START));
        Filling {
            fin: header.fin,
            compressed: header.compressed,
            op: header.op,
            mask: header.mask,
            len: header.len,
            payload: BytesMut::with_capacity(capacity),
        }
    }

    /// Takes the frame's next bytes from the start of `src`, unmasked;
    /// returns how many it took.
    fn fill(&mut self, src: &[u8]) -> usize {
        let at = self.payload.len();
        let take = (self.len - at).min(src.len());
        let free = self.payload.capacity() - at;
        if free < take {
            // At least double, never past the frame's end.
            self.payload.reserve((self.len - at).min(take.max(self.payload.capacity())));
        }
        self.payload.extend_from_slice(&src[..take]);
        if let Some(mut mask) = self.mask {
            mask.rotate_left(at % 4);
            unmask(&mut self.payload[at..], mask);
        }
        take
    }

    fn complete(&self) -> bool {
        self.payload.len() == self.len
    }

    fn into_frame(self) -> Frame {
        Frame { fin: self.fin, compressed: self.compressed, op: self.op, payload: self.payload }
    }
}

/// Cuts frames off the front of a buffer.
pub(super) struct FrameDecoder {
    /// The longest payload accepted.
    limit: usize,
    /// Whether RSV1 may be set (permessage-deflate is on).
    rsv1_allowed: bool,
    /// Who reads: a server reads masked frames only, a client unmasked
    /// ones only (RFC 6455, 5.1).
    role: Role,
    /// A large frame on its way in.
    filling: Option<Filling>,
    /// Large frames complete, to be taken before anything in the buffer.
    ready: VecDeque<Frame>,
}

impl FrameDecoder {
    pub(super) fn new(limit: usize, rsv1_allowed: bool, role: Role) -> Self {
        FrameDecoder { limit, rsv1_allowed, role, filling: None, ready: VecDeque::new() }
    }

    /// The next whole frame at the front of `buf`, taken out of it;
    /// `None` while it is incomplete.
    pub(super) fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ReadError> {
        if let Some(frame) = self.ready.pop_front() {
            return Ok(Some(frame));
        }
        if let Some(filling) = &mut self.filling {
            let taken = filling.fill(buf);
            buf.advance(taken);
            return Ok(self.take_filled());
        }
        let Some(header) = self.header(buf)? else { return Ok(None) };
        let Header { fin, compressed, op, mask, len, start } = header;
        if buf.len() < start + len {
            // Not reserved ahead: a peer that announces a large frame and
            // stops makes the buffer hold only what it sent (and a large
            // frame's own buffer at most `LARGE_FRAME_START`).
            if len >= LARGE_FRAME {
                buf.advance(start);
                let mut filling = Filling::new(&header, buf.len());
                let taken = filling.fill(buf);
                buf.advance(taken);
                self.filling = Some(filling);
            }
            return Ok(None);
        }
        buf.advance(start);
        let mut payload = buf.split_to(len);
        if let Some(mask) = mask {
            unmask(&mut payload, mask);
        }
        Ok(Some(Frame { fin, compressed, op, payload }))
    }

    /// Takes input that arrived while the buffer given to
    /// [`FrameDecoder::decode`] is empty: the bytes of the large frame
    /// being read, and of the large frames that follow it at the front of
    /// `chunk`, go straight into the frames' own buffers (whole ones wait
    /// for `decode`). What is left of `chunk` from the first small frame
    /// on (or a header cut short, or an error) belongs in the buffer.
    pub(super) fn feed(&mut self, chunk: &mut Bytes) {
        while !chunk.is_empty() {
            if self.filling.is_none() {
                match self.header(chunk) {
                    // An unmasked frame that is all in the chunk is better
                    // cut out of it by `decode` (no copy if the chunk is
                    // not shared).
                    Ok(Some(header))
                        if header.len >= LARGE_FRAME
                            && (header.mask.is_some() || chunk.len() < header.start + header.len) =>
                    {
                        chunk.advance(header.start);
                        self.filling = Some(Filling::new(&header, chunk.len()));
                    }
                    _ => return,
                }
            }
            if let Some(filling) = &mut self.filling {
                let taken = filling.fill(chunk);
                chunk.advance(taken);
            }
            if let Some(frame) = self.take_filled() {
                self.ready.push_back(frame);
            }
        }
    }

    fn take_filled(&mut self) -> Option<Frame> {
        match &self.filling {
            Some(filling) if filling.complete() => self.filling.take().map(Filling::into_frame),
            _ => None,
        }
    }

    /// The header at the front of `buf`: `None` while it is incomplete.
    fn header(&self, buf: &[u8]) -> Result<Option<Header>, ReadError> {
        let Some(&[first, second]) = buf.get(..2) else { return Ok(None) };
        if first & RSV23 != 0 || (first & RSV1 != 0 && !self.rsv1_allowed) {
            return Err(framing(ProtocolError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a reserved bit is set that no negotiated extension defines",
            ))));
        }
        let fin = first & 0x80 != 0;
        let compressed = first & RSV1 != 0;
        let op = OpCode::from(first & 0x0F);
        let control = matches!(op, OpCode::Close | OpCode::Ping | OpCode::Pong);
        match op {
            OpCode::Bad => return Err(framing(ProtocolError::InvalidOpcode(first & 0x0F))),
            _ if control && !fin => return Err(framing(ProtocolError::ContinuationFragment(op))),
            OpCode::Continue | OpCode::Close | OpCode::Ping | OpCode::Pong if compressed => {
                // RFC 7692, 6: RSV1 only on the first frame of a data message.
                return Err(framing(ProtocolError::Io(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "RSV1 set on a continuation or control frame",
                ))));
            }
            _ => {}
        }
        let masked = second & 0x80 != 0;
        match self.role {
            Role::Server if !masked => return Err(framing(ProtocolError::UnmaskedFrame)),
            Role::Client if masked => return Err(framing(ProtocolError::MaskedFrame)),
            _ => {}
        }
        let (len, header) = match second & 0x7F {
            126 => match buf.get(2..4) {
                Some(&[a, b]) => (u64::from(u16::from_be_bytes([a, b])), 4),
                _ => return Ok(None),
            },
            127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                Some(bytes) => (u64::from_be_bytes(bytes), 10),
                None => return Ok(None),
            },
            len => (u64::from(len), 2),
        };
        if control && len > MAX_CONTROL_PAYLOAD as u64 {
            return Err(framing(ProtocolError::InvalidLength(usize::try_from(len).unwrap_or(usize::MAX))));
        }
        let len = match usize::try_from(len) {
            Ok(len) if len <= self.limit => len,
            _ => return Err(ReadError::TooLarge { limit: self.limit }),
        };
        let (mask, start) = if masked {
            match buf.get(header..header + 4).and_then(|m| <[u8; 4]>::try_from(m).ok()) {
                Some(mask) => (Some(mask), header + 4),
                None => return Ok(None),
            }
        } else {
            (None, header)
        };
        Ok(Some(Header { fin, compressed, op, mask, len, start }))
    }
}

/// Decodes `wire` handed over in chunks of `sizes` (repeated), exactly as
/// the reader does: a chunk is fed to the decoder while its buffer is
/// empty and appended to the buffer otherwise, and frames are decoded
/// after each chunk. With no sizes, the whole of `wire` is put in the
/// buffer and decoded from there, never fed (the reference the chunked
/// reading must agree with). Returns the frames, and the error decoding
/// stopped at, if any. For tests and the fuzzer.
#[cfg(any(test, feature = "internals"))]
pub(super) fn decode_in_chunks(
    decoder: &mut FrameDecoder,
    wire: &[u8],
    sizes: &[usize],
) -> (Vec<Frame>, Option<ReadError>) {
    let mut frames = Vec::new();
    let mut buf = BytesMut::new();
    let mut rest = Bytes::copy_from_slice(wire);
    let whole = sizes.iter().all(|&size| size == 0);
    let mut sizes = sizes.iter().copied().filter(|&size| size > 0).cycle();
    while !rest.is_empty() {
        let size = sizes.next().unwrap_or(rest.len());
        let mut chunk = rest.split_to(size.min(rest.len()));
        if buf.is_empty() && !whole {
            decoder.feed(&mut chunk);
        }
        buf.extend_from_slice(&chunk);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, None)
}

/// Writes the header of a final frame: `first` holds the opcode and RSV1,
/// `mask` is given for a client's frame (whose payload must then be
/// masked with it).
pub(super) fn write_header(out: &mut BytesMut, first: u8, len: usize, mask: Option<[u8; 4]>) {
    let masked = if mask.is_some() { 0x80 } else { 0 };
    out.put_u8(0x80 | first);
    if len < 126 {
        out.put_u8(masked | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.put_u8(masked | 126);
        out.put_u16(len);
    } else {
        out.put_u8(masked | 127);
        out.put_u64(len as u64);
    }
    if let Some(mask) = mask {
        out.put_slice(&mask);
    }
}

fn framing(error: ProtocolError) -> ReadError {
    ReadError::Framing(error)
}

/// Applies (or removes) the masking of RFC 6455, 5.3, eight bytes at a
/// time.
pub(super) fn unmask(data: &mut [u8], mask: [u8; 4]) {
    let wide = u64::from_ne_bytes([mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (byte, key) in chunks.into_remainder().iter_mut().zip(mask.iter().cycle()) {
        *byte ^= key;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A masked frame as a client writes it.
    fn masked(first: u8, payload: &[u8]) -> BytesMut {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut out = BytesMut::new();
        out.extend_from_slice(&[first]);
        match payload.len() {
            len @ 0..=125 => out.extend_from_slice(&[0x80 | len as u8]),
            len @ 126..=65535 => {
                out.extend_from_slice(&[0x80 | 126]);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            len => {
                out.extend_from_slice(&[0x80 | 127]);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        let mut body = payload.to_vec();
        unmask(&mut body, mask);
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn frames_are_read_whole_and_unmasked_whatever_their_header_size() {
        let mut decoder = FrameDecoder::new(1 << 20, false, Role::Server);
        for len in [0usize, 1, 7, 8, 9, 125, 126, 65_535, 65_536, 70_001] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let wire = masked(0x82, &payload);
            // Byte by byte up to the last: nothing comes out early.
            let mut buf = BytesMut::new();
            for &byte in &wire[..wire.len() - 1] {
                buf.extend_from_slice(&[byte]);
                if len < 200 {
                    assert!(decoder.decode(&mut buf).unwrap().is_none());
                }
            }
            buf.extend_from_slice(&wire[wire.len() - 1..]);
            let frame = decoder.decode(&mut buf).unwrap().unwrap();
            assert!(frame.fin && !frame.compressed && frame.op == OpCode::Binary);
            assert_eq!(&frame.payload[..], &payload[..], "length {len}");
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_from_its_header_alone() {
        let mut decoder = FrameDecoder::new(1000, false, Role::Server);
        let mut header = BytesMut::from(&[0x82u8, 0x80 | 127][..]);
        header.extend_from_slice(&(1u64 << 40).to_be_bytes());
        assert!(matches!(decoder.decode(&mut header), Err(ReadError::TooLarge { limit: 1000 })));
        let mut msb = BytesMut::from(&[0x82u8, 0x80 | 127][..]);
        msb.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(decoder.decode(&mut msb), Err(ReadError::TooLarge { .. })));
    }

    #[test]
    fn the_framing_rules_are_enforced() {
        let mut plain = FrameDecoder::new(1000, false, Role::Server);
        let mut deflate = FrameDecoder::new(1000, true, Role::Server);
        let refused = |decoder: &mut FrameDecoder, mut wire: BytesMut| {
            matches!(decoder.decode(&mut wire), Err(ReadError::Framing(_)))
        };
        // RSV1 only with deflate, and only on the first frame of a data message.
        assert!(refused(&mut plain, masked(0xC1, b"x")));
        assert!(deflate.decode(&mut masked(0xC1, b"x")).unwrap().unwrap().compressed);
        assert!(refused(&mut deflate, masked(0xC0, b"x")));
        assert!(refused(&mut deflate, masked(0xC9, b"x")));
        // RSV2, RSV3, unknown opcodes, fragmented or long control frames,
        // unmasked frames.
        assert!(refused(&mut deflate, masked(0xA1, b"x")));
        assert!(refused(&mut deflate, masked(0x91, b"x")));
        assert!(refused(&mut plain, masked(0x83, b"x")));
        assert!(refused(&mut plain, masked(0x0B, b"x")));
        assert!(refused(&mut plain, masked(0x09, b"x")));
        assert!(refused(&mut plain, masked(0x89, &[0; 126])));
        assert!(refused(&mut plain, BytesMut::from(&[0x81u8, 0x01, b'x'][..])));
    }

    #[test]
    fn a_client_reads_unmasked_frames_and_refuses_masked_ones() {
        let mut client = FrameDecoder::new(1 << 20, false, Role::Client);
        for len in [0usize, 125, 126, 65_536] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut wire = BytesMut::new();
            write_header(&mut wire, 0x02, len, None);
            wire.extend_from_slice(&payload);
            let frame = client.decode(&mut wire).unwrap().unwrap();
            assert_eq!(&frame.payload[..], &payload[..], "length {len}");
        }
        assert!(matches!(client.decode(&mut masked(0x82, b"x")), Err(ReadError::Framing(_))));
        // What a client writes, a server reads.
        let mut server = FrameDecoder::new(1 << 20, false, Role::Server);
        let mask = [9, 8, 7, 6];
        let mut wire = BytesMut::new();
        write_header(&mut wire, 0x01, 300, Some(mask));
        let mut body = vec![b'a'; 300];
        unmask(&mut body, mask);
        wire.extend_from_slice(&body);
        assert_eq!(&server.decode(&mut wire).unwrap().unwrap().payload[..], &[b'a'; 300][..]);
    }

    fn read_in_chunks(decoder: &mut FrameDecoder, wire: &[u8], sizes: &[usize]) -> Vec<Frame> {
        let (frames, error) = decode_in_chunks(decoder, wire, sizes);
        assert!(error.is_none(), "{error:?}");
        frames
    }

    #[test]
    fn large_frames_read_in_any_chunks_come_out_whole_and_unmasked() {
        let big: Vec<u8> = (0..70_001).map(|i| (i % 251) as u8).collect();
        let mut wire = masked(0x82, &big);
        wire.extend_from_slice(&masked(0x81, b"small"));
        wire.extend_from_slice(&masked(0x02, &big[..LARGE_FRAME]));
        wire.extend_from_slice(&masked(0x80, &big[..LARGE_FRAME + 3]));
        for sizes in [&[wire.len()][..], &[1], &[7, 3], &[4096], &[65_536], &[16_389, 5], &[70_011, 9]] {
            let mut decoder = FrameDecoder::new(1 << 20, false, Role::Server);
            let frames = read_in_chunks(&mut decoder, &wire, sizes);
            let payloads: Vec<&[u8]> = frames.iter().map(|f| &f.payload[..]).collect();
            assert_eq!(
                payloads,
                [&big[..], b"small", &big[..LARGE_FRAME], &big[..LARGE_FRAME + 3]],
                "chunks of {sizes:?}"
            );
            let kinds: Vec<(bool, OpCode)> = frames.iter().map(|f| (f.fin, f.op)).collect();
            assert_eq!(
                kinds,
                [
                    (true, OpCode::Binary),
                    (true, OpCode::Text),
                    (false, OpCode::Binary),
                    (true, OpCode::Continue)
                ]
            );
        }
    }

    #[test]
    fn a_client_reads_large_unmasked_frames_in_any_chunks() {
        let big: Vec<u8> = (0..70_001).map(|i| (i % 251) as u8).collect();
        let mut wire = BytesMut::new();
        for (first, payload) in [(0x82, &big[..]), (0x81, b"small"), (0x82, &big[..LARGE_FRAME])] {
            write_header(&mut wire, first & 0x0F, payload.len(), None);
            wire.extend_from_slice(payload);
        }
        for sizes in [&[wire.len()][..], &[7, 3], &[65_536], &[70_011, 9]] {
            let mut decoder = FrameDecoder::new(1 << 20, false, Role::Client);
            let frames = read_in_chunks(&mut decoder, &wire, sizes);
            let payloads: Vec<&[u8]> = frames.iter().map(|f| &f.payload[..]).collect();
            assert_eq!(payloads, [&big[..], b"small", &big[..LARGE_FRAME]], "chunks of {sizes:?}");
        }
    }

    #[test]
    fn a_large_frame_announced_and_not_sent_holds_a_bounded_buffer() {
        let mut decoder = FrameDecoder::new(64 << 20, false, Role::Server);
        let mut header = BytesMut::from(&[0x82u8, 0x80 | 127][..]);
        header.extend_from_slice(&(60u64 << 20).to_be_bytes());
        header.extend_from_slice(&[1, 2, 3, 4, 0xAA]);
        assert!(decoder.decode(&mut header).unwrap().is_none());
        let held = decoder.filling.as_ref().map(|f| f.payload.capacity()).unwrap_or_default();
        assert!(held <= LARGE_FRAME_START, "{held} bytes reserved for one byte sent");
    }

    #[test]
    fn unmasking_matches_the_definition_at_every_length_and_offset() {
        let mask = [1, 2, 3, 4];
        for len in 0..40 {
            let data: Vec<u8> = (0..len as u8).collect();
            let mut fast = data.clone();
            unmask(&mut fast, mask);
            let slow: Vec<u8> = data.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]).collect();
            assert_eq!(fast, slow);
        }
    }
}
