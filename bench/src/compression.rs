//! permessage-deflate: bytes on the wire and CPU per message, with and
//! without, for messages shaped like WAMP's. The server's work per message
//! (encode, compress, frame) is measured on the WebSocket layer itself
//! (`wamp::internals::Wire`), without sockets, against the same work
//! uncompressed; the client's inflating is measured on the frames it made.

use std::hint::black_box;
use std::time::{Duration, Instant};

use wamp::internals::Wire;
use wamp::protocol::{Dict, List, Payload, Serializer, Value, WampMessage};
use wamp::websocket::Compression;

/// One kind of message and how it is sent.
pub struct Sample {
    pub name: &'static str,
    pub serializer: Serializer,
    /// The `i`th message of its stream: values change, the shape stays.
    make: fn(u64) -> WampMessage,
}

/// A compression setting measured.
pub struct Setting {
    pub name: &'static str,
    offer: Option<&'static str>,
    compression: Compression,
}

/// The figures of one sample under one setting.
pub struct Figures {
    /// Bytes on the wire per message (frame header included).
    pub bytes: f64,
    /// The server's time to write one message, in nanoseconds.
    pub write_ns: f64,
    /// The client's time to inflate one message, in nanoseconds (0 when
    /// uncompressed).
    pub inflate_ns: f64,
}

fn reading(i: u64) -> Dict {
    let mut kwargs = Dict::new();
    kwargs.insert("sensor".into(), format!("building-2/floor-{}/room-{}", i % 5, i % 37).into());
    kwargs.insert("unit".into(), "celsius".into());
    kwargs.insert("value".into(), Value::Float(18.0 + (i % 97) as f64 / 10.0));
    kwargs.insert("timestamp".into(), Value::Int(1_764_800_000_000 + i as i64 * 250));
    kwargs.insert("ok".into(), Value::Bool(i % 13 < 12));
    kwargs
}

fn records(i: u64, n: u64) -> List {
    (0..n).map(|k| Value::Dict(reading(i * n + k))).collect()
}

fn event(i: u64, payload: Payload) -> WampMessage {
    WampMessage::Event { subscription: 4_211_987, publication: 1_000_000 + i, details: Dict::new(), payload }
}

fn result(i: u64, payload: Payload) -> WampMessage {
    WampMessage::Result { request: i + 1, details: Dict::new(), payload }
}

/// Bytes that do not compress (a xorshift stream).
fn noise(i: u64, len: usize) -> Vec<u8> {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub fn samples() -> Vec<Sample> {
    vec![
        Sample {
            name: "EVENT, one sensor reading as kwargs",
            serializer: Serializer::Json,
            make: |i| event(i, Payload::new(List::new(), reading(i))),
        },
        Sample {
            name: "EVENT, one sensor reading as kwargs",
            serializer: Serializer::MsgPack,
            make: |i| event(i, Payload::new(List::new(), reading(i))),
        },
        Sample {
            name: "RESULT, 8 readings",
            serializer: Serializer::Json,
            make: |i| result(i, Payload::args(records(i, 8))),
        },
        Sample {
            name: "RESULT, 100 readings",
            serializer: Serializer::Json,
            make: |i| result(i, Payload::args(records(i, 100))),
        },
        Sample {
            name: "EVENT, 4 KiB of random bytes",
            serializer: Serializer::MsgPack,
            make: |i| event(i, Payload::args(vec![Value::Bytes(noise(i, 4096))])),
        },
    ]
}

pub fn settings() -> Vec<Setting> {
    let on = Compression::enabled();
    vec![
        Setting { name: "off", offer: None, compression: Compression::default() },
        Setting {
            name: "level 1, window 15 (default)",
            offer: Some("permessage-deflate"),
            compression: on.clone(),
        },
        Setting {
            name: "level 6, window 15",
            offer: Some("permessage-deflate"),
            compression: on.clone().level(6),
        },
        Setting {
            name: "level 1, window 9",
            offer: Some("permessage-deflate"),
            compression: on.clone().window_bits(9),
        },
        Setting {
            name: "level 1, no context takeover",
            offer: Some("permessage-deflate; server_no_context_takeover"),
            compression: on,
        },
    ]
}

/// Measures `sample` under `setting` for about `duration`.
pub fn measure(sample: &Sample, setting: &Setting, duration: Duration) -> Result<Figures, String> {
    // The messages are made before the clock starts.
    let messages: Vec<WampMessage> = (0..256).map(sample.make).collect();
    let mut wire = Wire::new(&setting.compression, setting.offer);
    if setting.offer.is_some() && !wire.compressing() {
        return Err(format!("{}: compression was not agreed", setting.name));
    }
    let mut frames = Vec::with_capacity(messages.len());
    let (mut count, mut bytes) = (0u64, 0u64);
    let start = Instant::now();
    while start.elapsed() < duration {
        frames.clear();
        for message in &messages {
            let frame = wire.write(sample.serializer, message)?;
            bytes += frame.len() as u64;
            frames.push(frame);
        }
        count += messages.len() as u64;
    }
    let elapsed = start.elapsed();

    // The client's side alone: a fresh stream of frames, then inflated.
    let mut inflate_ns = 0.0;
    if wire.compressing() {
        let mut wire = Wire::new(&setting.compression, setting.offer);
        let mut frames = Vec::new();
        let (mut inflated, mut spent) = (0u64, Duration::ZERO);
        // Bounded by the wall clock: making the frames (not timed) may
        // take far longer than inflating them.
        let wall = Instant::now();
        while wall.elapsed() < duration {
            frames.clear();
            for message in &messages {
                frames.push(wire.write(sample.serializer, message)?);
            }
            let start = Instant::now();
            for frame in &frames {
                if frame[0] & 0x40 != 0 {
                    black_box(wire.inflate(frame)?);
                }
                inflated += 1;
            }
            spent += start.elapsed();
        }
        inflate_ns = spent.as_nanos() as f64 / inflated as f64;
        // What comes out is the message that went in.
        let mut check = Wire::new(&setting.compression, setting.offer);
        let frame = check.write(sample.serializer, &messages[1])?;
        if frame[0] & 0x40 != 0 {
            let decoded = sample.serializer.decode(&check.inflate(&frame)?).map_err(|e| e.to_string())?;
            if decoded != messages[1] {
                return Err(format!("{} under {}: the inflated message differs", sample.name, setting.name));
            }
        }
    }
    let write_ns = elapsed.as_nanos() as f64 / count as f64;
    Ok(Figures { bytes: bytes as f64 / count as f64, write_ns, inflate_ns })
}

/// Resident memory of this process, in bytes.
pub fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// Resident memory per connection that has sent one message of each
/// sample under `setting`, over `connections` connections, which are
/// returned: the caller keeps them until every setting was measured, so
/// that no setting reuses memory another freed.
pub fn memory_per_connection(setting: &Setting, connections: usize) -> Result<(f64, Vec<Wire>), String> {
    let before = rss();
    let mut wires = Vec::with_capacity(connections);
    for _ in 0..connections {
        let mut wire = Wire::new(&setting.compression, setting.offer);
        for sample in samples() {
            let frame = wire.write(sample.serializer, &(sample.make)(0))?;
            if frame[0] & 0x40 != 0 {
                wire.inflate(&frame)?;
            }
        }
        wires.push(wire);
    }
    let after = rss();
    Ok((after.saturating_sub(before) as f64 / connections as f64, wires))
}
