//! permessage-deflate (RFC 7692): the offer and answer of the upgrade, on
//! either side, and the compression contexts of one connection.
//!
//! Each side keeps one raw-deflate stream per direction. Each message
//! is compressed up to a sync flush, whose trailing `00 00 FF FF` is
//! left off the wire and put back by the receiver. Without
//! `no_context_takeover` the streams carry on from message to message,
//! which is what makes small, similar messages (most of WAMP) shrink.
//!
//! A peer controls only the input of the inflater: what it inflates to is
//! counted against the message size limit as it comes out, so a small
//! message that would inflate to gigabytes ends the connection with 1009
//! after at most the limit was produced.

use actix_web::http::header::{HeaderMap, HeaderValue, SEC_WEBSOCKET_EXTENSIONS};
use flate2::{Compress, Decompress, FlushCompress, FlushDecompress, Status};

use super::ReadError;

/// The end of a sync flush, which RFC 7692 (7.2.1) leaves off the wire.
const SYNC_TAIL: [u8; 4] = [0x00, 0x00, 0xFF, 0xFF];

/// permessage-deflate on an endpoint or a client: whether a server
/// accepts clients' offers (a client: whether it offers it), and how this
/// side compresses what it sends.
///
/// Off by default. Compression trades CPU and memory for bytes: each
/// connection that uses it keeps its two zlib streams (about 350 KiB more
/// than an uncompressed connection at `window_bits` 15, 230 KiB at 9), and
/// a router that sends one event to many subscribers compresses it once
/// per subscriber instead of encoding it once for all. At level 1, the
/// default, WAMP messages shaped like JSON records shrink to 10–16% for
/// 1.6–1.8 times the CPU of sending them uncompressed; data that does not
/// compress costs 50–90 times (docs/benchmarks.md).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Compression {
    /// A server: accept a client's permessage-deflate offer. A client:
    /// offer it.
    pub enabled: bool,
    /// The zlib compression level, 0 (none) to 9 (smallest, slowest).
    /// Level 1 (the default) gives most of the gain of 6 for a fifth of
    /// its CPU on WAMP-sized messages.
    pub level: u32,
    /// The base-2 logarithm of the largest window the server compresses
    /// with, 9 to 15: smaller windows use less memory per connection and
    /// compress less. A client may ask for a smaller one.
    pub window_bits: u8,
    /// Messages shorter than this many bytes are sent uncompressed (a
    /// message of a few bytes does not shrink).
    pub min_size: usize,
}

impl Default for Compression {
    fn default() -> Self {
        Compression { enabled: false, level: 1, window_bits: 15, min_size: 64 }
    }
}

impl Compression {
    /// Compression accepted, with the default level, window and threshold.
    pub fn enabled() -> Self {
        Compression { enabled: true, ..Compression::default() }
    }

    /// These settings with zlib `level` (0 to 9).
    pub fn level(mut self, level: u32) -> Self {
        self.level = level;
        self
    }

    /// These settings with the server's largest window (9 to 15 bits).
    pub fn window_bits(mut self, bits: u8) -> Self {
        self.window_bits = bits;
        self
    }

    /// These settings sending messages under `bytes` uncompressed.
    pub fn min_size(mut self, bytes: usize) -> Self {
        self.min_size = bytes;
        self
    }

    /// Whether the values are in range, or what is wrong with them.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.level > 9 {
            return Err(format!("the compression level must be 0 to 9, not {}", self.level));
        }
        if !(9..=15).contains(&self.window_bits) {
            return Err(format!("compression window bits must be 9 to 15, not {}", self.window_bits));
        }
        Ok(())
    }
}

/// What the two sides agreed on for a connection, as the side holding it
/// compresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Agreement {
    /// The window this side compresses with.
    window_bits: u8,
    /// This side starts each message afresh.
    no_context_takeover: bool,
    level: u32,
    /// Shorter messages go uncompressed.
    min_size: usize,
    /// The offer limited the server's window: the answer states the
    /// window even when it is the largest (RFC 7692, 7.1.2.1).
    window_asked: bool,
}

impl Agreement {
    /// Compressing as `settings` say, before the other side's parameters.
    fn new(settings: &Compression) -> Self {
        Agreement {
            window_bits: settings.window_bits,
            no_context_takeover: false,
            level: settings.level,
            min_size: settings.min_size,
            window_asked: false,
        }
    }

    /// The window this side compresses with, in bits (8 to 15).
    #[cfg(feature = "internals")]
    pub(crate) fn compress_window_bits(&self) -> u8 {
        self.window_bits
    }

    /// The `Sec-WebSocket-Extensions` value of a server's response.
    pub(crate) fn header(&self) -> HeaderValue {
        let mut value = String::from("permessage-deflate");
        if self.no_context_takeover {
            value.push_str("; server_no_context_takeover");
        }
        if self.window_bits < 15 || self.window_asked {
            value.push_str(&format!("; server_max_window_bits={}", self.window_bits));
        }
        HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("permessage-deflate"))
    }

    /// The compressor and decompressor of the connection.
    pub(crate) fn contexts(&self) -> (Deflater, Inflater) {
        let deflater = Deflater {
            stream: Compress::new_with_window_bits(
                flate2::Compression::new(self.level),
                false,
                self.window_bits,
            ),
            fresh_each_message: self.no_context_takeover,
            min_size: self.min_size,
            skip: 0,
            backoff: 0,
        };
        // The peer may compress with any window up to 15 bits: the
        // largest window inflates them all.
        let inflater = Inflater { stream: Decompress::new_with_window_bits(false, 15) };
        (deflater, inflater)
    }
}

/// The parameters of one permessage-deflate element (`permessage-deflate;
/// name; name=value`), values unquoted; `None` for another extension, or
/// a parameter given twice (which RFC 7692, 7, makes the element invalid).
fn deflate_params(element: &str) -> Option<Vec<(&str, Option<&str>)>> {
    let mut parts = element.split(';').map(str::trim);
    if parts.next()? != "permessage-deflate" {
        return None;
    }
    let mut params: Vec<(&str, Option<&str>)> = Vec::new();
    for param in parts {
        let (name, value) = match param.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
            None => (param, None),
        };
        if params.iter().any(|(seen, _)| *seen == name) {
            return None;
        }
        params.push((name, value));
    }
    Some(params)
}

/// The `Sec-WebSocket-Extensions` offer of a client: permessage-deflate,
/// letting the server limit the client's window.
pub(crate) const CLIENT_OFFER: &str = "permessage-deflate; client_max_window_bits";

/// What a client agrees to, given the server's answer to
/// [`CLIENT_OFFER`]: an error for an answer RFC 7692 (5, 7.1) tells the
/// client to fail the connection for.
pub(crate) fn client_agreement(answer: &str, settings: &Compression) -> Result<Agreement, String> {
    let refuse = |why: &str| Err(format!("the server's permessage-deflate answer `{answer}` {why}"));
    if answer.contains(',') {
        return refuse("accepts more than one offer");
    }
    let params = deflate_params(answer).ok_or_else(|| {
        format!("the server's permessage-deflate answer `{answer}` names another extension or repeats a parameter")
    })?;
    let mut agreement = Agreement::new(settings);
    for (name, value) in params {
        match (name, value) {
            // The server starts each message afresh, or limits its own
            // window: the inflater reads either.
            ("server_no_context_takeover", None) => {}
            ("server_max_window_bits", Some(bits)) if window_bits(bits).is_some() => {}
            ("client_no_context_takeover", None) => agreement.no_context_takeover = true,
            ("client_max_window_bits", Some(bits)) => match window_bits(bits) {
                // zlib cannot compress raw deflate within 256 bytes: with
                // such a limit nothing is sent compressed, which the
                // extension allows (each message says whether it is).
                Some(8) => agreement.min_size = usize::MAX,
                Some(bits) => agreement.window_bits = agreement.window_bits.min(bits),
                None => return refuse("has an invalid client_max_window_bits"),
            },
            _ => return refuse(&format!("has a parameter the client cannot accept: `{name}`")),
        }
    }
    Ok(agreement)
}

/// Picks the first permessage-deflate offer of the request that the
/// server can honour (RFC 7692, 5 and 7.1); `None` leaves the connection
/// uncompressed.
pub(crate) fn negotiate(headers: &HeaderMap, settings: &Compression) -> Option<Agreement> {
    if !settings.enabled || settings.validate().is_err() {
        return None;
    }
    headers
        .get_all(SEC_WEBSOCKET_EXTENSIONS)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .find_map(|offer| accept_offer(offer, settings))
}

/// The agreement for one offer (`permessage-deflate; param; param=value`),
/// or `None` for another extension or an offer we cannot honour.
fn accept_offer(offer: &str, settings: &Compression) -> Option<Agreement> {
    let mut agreement = Agreement::new(settings);
    for (name, value) in deflate_params(offer)? {
        match (name, value) {
            ("server_no_context_takeover", None) => agreement.no_context_takeover = true,
            // A hint that the client will not keep its context: nothing to
            // do, the inflater works either way.
            ("client_no_context_takeover", None) => {}
            ("server_max_window_bits", Some(bits)) => {
                let bits = window_bits(bits)?;
                // zlib cannot compress raw deflate with a 256-byte
                // window: an offer asking for 8 is declined.
                if bits < 9 {
                    return None;
                }
                agreement.window_bits = agreement.window_bits.min(bits);
                agreement.window_asked = true;
            }
            // The client may limit its own window; any is inflated.
            ("client_max_window_bits", None) => {}
            ("client_max_window_bits", Some(bits)) => {
                window_bits(bits)?;
            }
            _ => return None,
        }
    }
    Some(agreement)
}

/// A window size parameter: 8 to 15, decimal digits only.
fn window_bits(value: &str) -> Option<u8> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) || value.len() > 2 {
        return None;
    }
    value.parse().ok().filter(|bits| (8..=15).contains(bits))
}

/// The compressing side of a connection.
///
/// Data that does not compress costs 50 to 90 times the CPU of sending it
/// as it is (docs/benchmarks.md), so a message that did not shrink by a
/// sixteenth makes the connection send the next one uncompressed, then
/// two, four, up to [`MAX_SKIPPED`] after each further one that does not
/// shrink; one that does shrink ends the skipping. A message sent
/// uncompressed is not in the compressor's window, so the peer's
/// decompressor, which never sees it, stays in step (RFC 7692, 6: each
/// message says whether it is compressed). A message already compressed
/// must go out compressed, smaller or not: its bytes are in the window
/// the next messages may refer to.
pub(crate) struct Deflater {
    stream: Compress,
    fresh_each_message: bool,
    min_size: usize,
    /// Messages still to send uncompressed.
    skip: u32,
    /// How many the last message that did not shrink made it skip.
    backoff: u32,
}

/// The most messages sent uncompressed in a row after one that did not
/// shrink: with data that never does, one message in 65 is tried.
pub(crate) const MAX_SKIPPED: u32 = 64;

impl Deflater {
    /// Whether a message of `len` bytes is worth compressing (counting it
    /// as skipped if not).
    pub(crate) fn worth_it(&mut self, len: usize) -> bool {
        if len < self.min_size {
            return false;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return false;
        }
        true
    }

    /// Compresses one whole message, returning the payload of its frame.
    pub(crate) fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>, flate2::CompressError> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let start = self.stream.total_in();
        loop {
            let consumed = usize::try_from(self.stream.total_in() - start).unwrap_or(usize::MAX);
            let rest = data.get(consumed..).unwrap_or_default();
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            self.stream.compress_vec(rest, &mut out, FlushCompress::Sync)?;
            let consumed = usize::try_from(self.stream.total_in() - start).unwrap_or(usize::MAX);
            // The flush is complete when it left output space unused.
            if consumed >= data.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&SYNC_TAIL) {
            out.truncate(out.len() - SYNC_TAIL.len());
        }
        if self.fresh_each_message {
            self.stream.reset();
        }
        if out.len() + out.len() / 16 >= data.len() {
            self.backoff = (self.backoff * 2).clamp(1, MAX_SKIPPED);
            self.skip = self.backoff;
        } else {
            self.backoff = 0;
        }
        Ok(out)
    }
}

/// The decompressing side of a connection.
pub(crate) struct Inflater {
    stream: Decompress,
}

impl Inflater {
    /// Inflates the next piece of a compressed message onto `out`, which
    /// may not grow past `limit` bytes.
    pub(crate) fn inflate(&mut self, input: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), ReadError> {
        let mut input = input;
        loop {
            if out.len() == out.capacity() {
                if out.len() > limit {
                    return Err(ReadError::TooLarge { limit });
                }
                // Doubling, but never past one byte over the limit (to
                // see it passed).
                let room = out.capacity().max(input.len() * 4).max(1024).min(limit + 1 - out.len());
                out.reserve_exact(room);
            }
            let before_in = self.stream.total_in();
            let before_out = out.len();
            let status = self
                .stream
                .decompress_vec(input, out, FlushDecompress::Sync)
                .map_err(|_| ReadError::InvalidCompressed)?;
            let consumed = usize::try_from(self.stream.total_in() - before_in).unwrap_or(usize::MAX);
            input = input.get(consumed..).unwrap_or_default();
            if out.len() > limit {
                return Err(ReadError::TooLarge { limit });
            }
            if status == Status::StreamEnd {
                // A final block (BFINAL) ends the stream: the next message
                // starts a new one, and nothing may follow it here.
                self.stream.reset(false);
                if !input.is_empty() {
                    return Err(ReadError::InvalidCompressed);
                }
                return Ok(());
            }
            let stalled = consumed == 0 && out.len() == before_out;
            if (input.is_empty() && out.len() < out.capacity()) || (stalled && out.len() < out.capacity()) {
                return Ok(());
            }
        }
    }

    /// Ends a compressed message: inflates the sync flush's tail that the
    /// sender left off.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), ReadError> {
        self.inflate(&SYNC_TAIL, out, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderName;

    fn offer(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(
                HeaderName::from_static("sec-websocket-extensions"),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn answer(values: &[&str], settings: &Compression) -> Option<String> {
        negotiate(&offer(values), settings).map(|a| a.header().to_str().unwrap().to_owned())
    }

    #[test]
    fn offers_are_answered_as_rfc_7692_says() {
        let on = Compression::enabled();
        assert_eq!(answer(&["permessage-deflate"], &on).as_deref(), Some("permessage-deflate"));
        assert_eq!(answer(&["permessage-deflate"], &Compression::default()), None, "off by default");
        assert_eq!(answer(&[], &on), None);
        assert_eq!(answer(&["x-webkit-deflate-frame"], &on), None);
        assert_eq!(
            answer(&["permessage-deflate; client_max_window_bits"], &on).as_deref(),
            Some("permessage-deflate")
        );
        assert_eq!(
            answer(&["permessage-deflate; server_no_context_takeover; server_max_window_bits=9"], &on)
                .as_deref(),
            Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=9")
        );
        assert_eq!(
            answer(&["permessage-deflate; server_max_window_bits=\"10\"; client_no_context_takeover"], &on)
                .as_deref(),
            Some("permessage-deflate; server_max_window_bits=10")
        );
        // The server's own smaller window is announced.
        let small = Compression { window_bits: 11, ..Compression::enabled() };
        assert_eq!(
            answer(&["permessage-deflate; server_max_window_bits=15"], &on).as_deref(),
            Some("permessage-deflate; server_max_window_bits=15"),
            "an offer that limits the window gets the window stated, even the largest"
        );
        assert_eq!(
            answer(&["permessage-deflate; server_max_window_bits=13"], &small).as_deref(),
            Some("permessage-deflate; server_max_window_bits=11")
        );
        assert_eq!(
            answer(&["permessage-deflate"], &small).as_deref(),
            Some("permessage-deflate; server_max_window_bits=11")
        );
    }

    #[test]
    fn offers_we_cannot_honour_are_declined_and_the_next_one_taken() {
        let on = Compression::enabled();
        for bad in [
            "permessage-deflate; server_max_window_bits=8",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=+9",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; server_no_context_takeover=1",
            "permessage-deflate; unknown_parameter",
        ] {
            assert_eq!(answer(&[bad], &on), None, "{bad}");
        }
        assert_eq!(
            answer(&["permessage-deflate; server_max_window_bits=8, permessage-deflate; server_no_context_takeover"], &on)
                .as_deref(),
            Some("permessage-deflate; server_no_context_takeover")
        );
        assert_eq!(
            answer(&["foo", "permessage-deflate; server_max_window_bits=12"], &on).as_deref(),
            Some("permessage-deflate; server_max_window_bits=12")
        );
    }

    /// A client's side of the link: what the server's frames inflate with.
    fn client_pair(agreement: &Agreement) -> (Deflater, Inflater) {
        let (deflater, _) = agreement.contexts();
        let inflater = Inflater { stream: Decompress::new_with_window_bits(false, agreement.window_bits) };
        (deflater, inflater)
    }

    #[test]
    fn messages_round_trip_with_and_without_context_takeover() {
        let on = Compression::enabled();
        for offer_text in
            ["permessage-deflate", "permessage-deflate; server_no_context_takeover; server_max_window_bits=9"]
        {
            let agreement = negotiate(&offer(&[offer_text]), &on).unwrap();
            let (mut server, _) = agreement.contexts();
            let (_, mut client) = client_pair(&agreement);
            let message =
                br#"{"topic":"com.example.sensor","args":[1,2,3],"kwargs":{"unit":"celsius"}}"#.repeat(20);
            let mut sizes = Vec::new();
            for _ in 0..3 {
                let wire = server.compress(&message).unwrap();
                assert!(!wire.ends_with(&SYNC_TAIL));
                sizes.push(wire.len());
                let mut out = Vec::new();
                client.inflate(&wire, &mut out, 1 << 20).unwrap();
                client.finish(&mut out, 1 << 20).unwrap();
                assert_eq!(out, message);
            }
            assert!(sizes[0] < message.len() / 4, "{offer_text}: {sizes:?}");
            if agreement.no_context_takeover {
                assert_eq!(sizes[0], sizes[2], "each message starts afresh");
            } else {
                assert!(sizes[1] < sizes[0] / 2, "the second message refers to the first: {sizes:?}");
            }
        }
    }

    #[test]
    fn a_client_accepts_what_rfc_7692_lets_a_server_answer() {
        let on = Compression::enabled();
        let agreed = |answer: &str| client_agreement(answer, &on);
        let plain = agreed("permessage-deflate").unwrap();
        assert_eq!((plain.window_bits, plain.no_context_takeover), (15, false));
        let limited =
            agreed("permessage-deflate; client_max_window_bits=10; client_no_context_takeover").unwrap();
        assert_eq!((limited.window_bits, limited.no_context_takeover), (10, true));
        let server_side =
            agreed("permessage-deflate; server_no_context_takeover; server_max_window_bits=9").unwrap();
        assert_eq!(server_side.window_bits, 15, "the server's own window does not limit the client's");
        let eight = agreed("permessage-deflate; client_max_window_bits=8").unwrap();
        assert!(!eight.contexts().0.worth_it(1 << 20), "a window zlib cannot honour: nothing is compressed");
        for refused in [
            "x-webkit-deflate-frame",
            "permessage-deflate, permessage-deflate",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
            "permessage-deflate; unknown",
        ] {
            assert!(agreed(refused).is_err(), "{refused}");
        }
        // A client agreement's streams talk to a server's.
        let server = negotiate(&offer(&[CLIENT_OFFER]), &on).unwrap();
        let (mut to_server, mut from_server) = limited.contexts();
        let (mut to_client, mut from_client) = server.contexts();
        let message = br#"{"a":[1,2,3],"b":"text text text text"}"#.repeat(4);
        for _ in 0..3 {
            let mut out = Vec::new();
            from_client.inflate(&to_server.compress(&message).unwrap(), &mut out, 1 << 20).unwrap();
            from_client.finish(&mut out, 1 << 20).unwrap();
            assert_eq!(out, message);
            let mut out = Vec::new();
            from_server.inflate(&to_client.compress(&message).unwrap(), &mut out, 1 << 20).unwrap();
            from_server.finish(&mut out, 1 << 20).unwrap();
            assert_eq!(out, message);
        }
    }

    #[test]
    fn fragments_inflate_piece_by_piece() {
        let agreement = negotiate(&offer(&["permessage-deflate"]), &Compression::enabled()).unwrap();
        let (mut server, _) = agreement.contexts();
        let (_, mut client) = client_pair(&agreement);
        let message: Vec<u8> = (0..50_000u32).flat_map(|i| (i % 1000).to_le_bytes()).collect();
        let wire = server.compress(&message).unwrap();
        let mut out = Vec::new();
        for piece in wire.chunks(7) {
            client.inflate(piece, &mut out, 1 << 20).unwrap();
        }
        client.finish(&mut out, 1 << 20).unwrap();
        assert_eq!(out, message);
    }

    #[test]
    fn a_bomb_stops_at_the_limit_and_garbage_is_refused() {
        // An attacker compresses at the best ratio zlib has.
        let best = Compression::enabled().level(9);
        let agreement = negotiate(&offer(&["permessage-deflate"]), &best).unwrap();
        let (mut server, _) = agreement.contexts();
        let zeros = vec![0u8; 10 << 20];
        let wire = server.compress(&zeros).unwrap();
        assert!(wire.len() < 20_000, "{}", wire.len());
        let (_, mut inflater) = agreement.contexts();
        let mut out = Vec::new();
        let limit = 64 * 1024;
        assert!(matches!(
            inflater.inflate(&wire, &mut out, limit),
            Err(ReadError::TooLarge { limit: 65536 })
        ));
        assert!(out.capacity() <= limit + 1, "{}", out.capacity());
        let (_, mut inflater) = agreement.contexts();
        let mut out = Vec::new();
        let garbage = [0xFFu8; 64];
        let refused =
            inflater.inflate(&garbage, &mut out, limit).and_then(|()| inflater.finish(&mut out, limit));
        assert!(matches!(refused, Err(ReadError::InvalidCompressed)));
    }

    #[test]
    fn settings_out_of_range_are_reported() {
        assert!(Compression::enabled().validate().is_ok());
        assert!(Compression { level: 10, ..Compression::enabled() }.validate().is_err());
        assert!(Compression { window_bits: 8, ..Compression::enabled() }.validate().is_err());
        assert!(Compression { window_bits: 16, ..Compression::enabled() }.validate().is_err());
    }
}
#[cfg(test)]
mod incompressible {
    use super::*;

    /// Bytes that do not compress: a xorshift stream from `seed`.
    fn noise_from(mut x: u64) -> impl FnMut(usize) -> Vec<u8> {
        move |len| {
            (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect()
        }
    }

    #[test]
    fn data_that_does_not_shrink_is_tried_less_and_less_often() {
        let mut noise = noise_from(0x2545_F491_4F6C_DD1D);
        let text = br#"{"topic":"com.example.sensor","args":[1,2,3],"kwargs":{"unit":"celsius"}}"#.repeat(20);
        let agreement = accept_offer("permessage-deflate", &Compression::enabled()).unwrap();
        let (mut deflater, mut inflater) = agreement.contexts();
        // What the peer reads: compressed messages inflate with the same
        // context, in order; the others come as they are.
        let mut send = |deflater: &mut Deflater, data: &[u8]| -> bool {
            if !deflater.worth_it(data.len()) {
                return false;
            }
            let wire = deflater.compress(data).unwrap();
            let mut out = Vec::new();
            inflater.inflate(&wire, &mut out, 1 << 20).unwrap();
            inflater.finish(&mut out, 1 << 20).unwrap();
            assert_eq!(out, data);
            true
        };
        // Noise only: compressed at message 0, then after skipping 1, 2, 4,
        // ... 64, 64.
        let compressed: Vec<usize> = (0..400).filter(|_| send(&mut deflater, &noise(2048))).collect();
        assert_eq!(compressed, [0, 2, 5, 10, 19, 36, 69, 134, 199, 264, 329, 394]);
        // Text that shrinks ends the skipping once it is tried, and the
        // context stays in step with the peer throughout.
        let sent: Vec<bool> = (0..70).map(|_| send(&mut deflater, &text)).collect();
        let first = sent.iter().position(|on| *on).unwrap();
        assert!(first <= usize::try_from(MAX_SKIPPED).unwrap());
        assert!(sent[first..].iter().all(|on| *on), "every message after the first that shrank");
        // One message that does not shrink skips just the next one.
        assert!(send(&mut deflater, &noise(2048)));
        assert!(!send(&mut deflater, &text));
        assert!(send(&mut deflater, &text));
    }

    #[test]
    fn random_bytes_compress_and_come_back() {
        let mut noise = noise_from(0x9E37_79B9_7F4A_7C15);
        for level in [1, 6] {
            let settings = Compression::enabled().level(level);
            let agreement = accept_offer("permessage-deflate", &settings).unwrap();
            let (mut deflater, mut inflater) = agreement.contexts();
            for i in 0..200 {
                let data = noise(4096 + i);
                let started = std::time::Instant::now();
                let wire = deflater.compress(&data).unwrap();
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(1),
                    "message {i} at level {level}"
                );
                let mut out = Vec::new();
                inflater.inflate(&wire, &mut out, 1 << 20).unwrap();
                inflater.finish(&mut out, 1 << 20).unwrap();
                assert_eq!(out, data);
            }
        }
    }
}
