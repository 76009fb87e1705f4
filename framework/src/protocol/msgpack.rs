//! MessagePack read directly, without `rmp-serde`: where a value ends and
//! whether it keeps the [`Budget`] ([`check_value`]), and values decoded
//! into [`Value`] ([`decode_value`]), and the MessagePack form of the
//! serializer of [`super::writer`] ([`MsgPack`]).
//!
//! The router keeps the arguments of a message as the bytes they came in
//! ([`RawPayload`](super::RawPayload)), so it only needs to know where each
//! field ends and that the message is one the full decoding
//! ([`Serializer::decode`](super::Serializer::decode)) would accept within
//! the budget. Going through `rmp-serde` for that checked every string for
//! UTF-8, a tenth of the router's time for a 64 KiB string argument, for
//! nothing: a string that is not UTF-8 is read as binary data by the full
//! decoding, so any string value is acceptable. Only dictionary keys,
//! which must be text, are checked here.
//!
//! The full decoding is also done here: through `rmp-serde` and its
//! reader, every string took a temporary buffer and a generic copy loop,
//! and a small message cost the router about a tenth more. It accepts
//! exactly what `rmp-serde` decoding a [`Value`] accepts, with the same
//! result (tests compare the two).

use super::raw::{Budget, MAX_DEPTH};
use super::writer::{Error, Format};
use super::{Dict, List, Value};

/// What the next item inside a container is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A list element or a dictionary value: anything, counted by the budget.
    Value,
    /// A dictionary key: text (a string, or binary data holding UTF-8).
    Key,
}

/// Checks the value that starts at `start` against `budget` and the rules
/// of the full decoding, and returns where it ends. `depth` is the value's
/// nesting level (the elements of a message are at level 1): a list or
/// dictionary at level [`MAX_DEPTH`] or deeper is refused. No recursion and
/// no allocation, whatever the input.
pub(crate) fn check_value(data: &[u8], start: usize, budget: &Budget, depth: usize) -> Result<usize, String> {
    // Items still to read in each open container; for a dictionary, keys
    // and values both count, so an odd count left after taking one means a
    // key was taken.
    let mut left = [0usize; MAX_DEPTH];
    let mut is_dict = [false; MAX_DEPTH];
    let mut open = 0usize;
    let mut pos = start;
    let mut role = Role::Value;
    loop {
        let (next, children) = item(data, pos, role)?;
        pos = next;
        if role == Role::Value {
            if !budget.try_spend(1) {
                return Err(Budget::exceeded());
            }
            if let Some((count, dict)) = children {
                if depth + open >= MAX_DEPTH {
                    return Err(format!("values are nested deeper than {MAX_DEPTH} levels"));
                }
                // Each item takes at least one byte: a count beyond what is
                // left is a lie, refused before anything is read.
                let items = if dict { count.saturating_mul(2) } else { count };
                if items > data.len() - pos {
                    return Err(format!(
                        "a value announces more elements than the {} bytes left",
                        data.len() - pos
                    ));
                }
                if items > 0 {
                    left[open] = items;
                    is_dict[open] = dict;
                    open += 1;
                }
            }
        }
        // The next item: in the innermost container that has one left.
        loop {
            let Some(top) = open.checked_sub(1) else {
                return Ok(pos);
            };
            if left[top] == 0 {
                open = top;
                continue;
            }
            left[top] -= 1;
            role = if is_dict[top] && left[top] % 2 == 1 { Role::Key } else { Role::Value };
            break;
        }
    }
}

/// Reads the marker at `pos` and what follows it up to the first child:
/// returns where the item ends (for a container, where its first child
/// starts) and, for a container, its number of children and whether it is
/// a dictionary.
fn item(data: &[u8], mut pos: usize, role: Role) -> Result<(usize, Option<(usize, bool)>), String> {
    let truncated = || "the message ends inside a value".to_string();
    // A big-endian length of `n` bytes at `at`.
    let length = |at: usize, n: usize| -> Result<usize, String> {
        let bytes = data.get(at..at + n).ok_or_else(truncated)?;
        Ok(bytes.iter().fold(0usize, |len, b| (len << 8) | usize::from(*b)))
    };
    let marker = *data.get(pos).ok_or_else(truncated)?;
    pos += 1;
    let text = matches!(marker, 0xa0..=0xbf | 0xd9 | 0xda | 0xdb | 0xc4 | 0xc5 | 0xc6);
    if role == Role::Key && !text {
        return Err("a dictionary key must be a string".into());
    }
    let (skip, children) = match marker {
        // fixint, nil, booleans
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, None),
        0x80..=0x8f => (0, Some((usize::from(marker & 0x0f), true))),
        0x90..=0x9f => (0, Some((usize::from(marker & 0x0f), false))),
        0xa0..=0xbf => (usize::from(marker & 0x1f), None),
        // bin 8/16/32 and str 8/16/32: a length, then the bytes
        0xc4 | 0xd9 => (1 + length(pos, 1)?, None),
        0xc5 | 0xda => (2 + length(pos, 2)?, None),
        0xc6 | 0xdb => (4 + length(pos, 4)?, None),
        // numbers of a fixed size
        0xcc | 0xd0 => (1, None),
        0xcd | 0xd1 => (2, None),
        0xca | 0xce | 0xd2 => (4, None),
        0xcb | 0xcf | 0xd3 => (8, None),
        // array 16/32, map 16/32
        0xdc => (2, Some((length(pos, 2)?, false))),
        0xdd => (4, Some((length(pos, 4)?, false))),
        0xde => (2, Some((length(pos, 2)?, true))),
        0xdf => (4, Some((length(pos, 4)?, true))),
        0xc7..=0xc9 | 0xd4..=0xd8 => return Err("a MessagePack extension type is not a WAMP value".into()),
        0xc1 => return Err("the reserved MessagePack marker 0xc1".into()),
    };
    let end = pos.checked_add(skip).filter(|end| *end <= data.len()).ok_or_else(truncated)?;
    if role == Role::Key {
        // The key's bytes follow its length.
        let header = match marker {
            0xa0..=0xbf => 0,
            0xc4 | 0xd9 => 1,
            0xc5 | 0xda => 2,
            _ => 4,
        };
        if simdutf8::basic::from_utf8(&data[pos + header..end]).is_err() {
            return Err("a dictionary key is not UTF-8 text".into());
        }
    }
    Ok((end, children))
}

/// How many lists and dictionaries [`decode_value`] opens inside each
/// other: the limit of `rmp-serde`, which refuses the 1,024th.
const DECODE_DEPTH: usize = 1023;

/// Decodes one value that fills `data` exactly.
pub(crate) fn decode_value(data: &[u8]) -> Result<Value, String> {
    let mut reader = Reader { data, pos: 0 };
    let mut value = Value::Null;
    reader.value(&mut value, DECODE_DEPTH)?;
    match data.len() - reader.pos {
        0 => Ok(value),
        extra => Err(format!("{extra} trailing bytes after the message")),
    }
}

/// A position in the bytes being decoded.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|end| *end <= self.data.len());
        let bytes = end.and_then(|end| self.data.get(self.pos..end));
        let bytes = bytes.ok_or_else(|| "the message ends inside a value".to_string())?;
        self.pos += n;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut bytes = [0u8; N];
        bytes.copy_from_slice(self.take(N)?);
        Ok(bytes)
    }

    /// A big-endian length of `n` bytes.
    fn length(&mut self, n: usize) -> Result<usize, String> {
        Ok(self.take(n)?.iter().fold(0usize, |len, b| (len << 8) | usize::from(*b)))
    }

    /// Reads the next value into `slot` (where it stays: values are not
    /// moved up through the nesting); `depth` more lists or dictionaries
    /// may open.
    fn value(&mut self, slot: &mut Value, depth: usize) -> Result<(), String> {
        let marker = self.take(1)?[0];
        *slot = match marker {
            0x00..=0x7f => Value::Int(i64::from(marker)),
            0xe0..=0xff => Value::Int(i64::from(marker as i8)),
            0xc0 => Value::Null,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xcc => Value::Int(i64::from(self.take(1)?[0])),
            0xcd => Value::Int(i64::from(u16::from_be_bytes(self.array()?))),
            0xce => Value::Int(i64::from(u32::from_be_bytes(self.array()?))),
            0xcf => Value::from(u64::from_be_bytes(self.array()?)),
            0xd0 => Value::Int(i64::from(i8::from_be_bytes(self.array()?))),
            0xd1 => Value::Int(i64::from(i16::from_be_bytes(self.array()?))),
            0xd2 => Value::Int(i64::from(i32::from_be_bytes(self.array()?))),
            0xd3 => Value::Int(i64::from_be_bytes(self.array()?)),
            0xca => Value::Float(f64::from(f32::from_be_bytes(self.array()?))),
            0xcb => Value::Float(f64::from_be_bytes(self.array()?)),
            0xa0..=0xbf => self.string(usize::from(marker & 0x1f))?,
            0xd9 => {
                let len = self.length(1)?;
                self.string(len)?
            }
            0xda => {
                let len = self.length(2)?;
                self.string(len)?
            }
            0xdb => {
                let len = self.length(4)?;
                self.string(len)?
            }
            0xc4 => {
                let len = self.length(1)?;
                Value::Bytes(self.take(len)?.to_vec())
            }
            0xc5 => {
                let len = self.length(2)?;
                Value::Bytes(self.take(len)?.to_vec())
            }
            0xc6 => {
                let len = self.length(4)?;
                Value::Bytes(self.take(len)?.to_vec())
            }
            0x90..=0x9f => return self.list(slot, usize::from(marker & 0x0f), depth),
            0xdc => {
                let len = self.length(2)?;
                return self.list(slot, len, depth);
            }
            0xdd => {
                let len = self.length(4)?;
                return self.list(slot, len, depth);
            }
            0x80..=0x8f => return self.dict(slot, usize::from(marker & 0x0f), depth),
            0xde => {
                let len = self.length(2)?;
                return self.dict(slot, len, depth);
            }
            0xdf => {
                let len = self.length(4)?;
                return self.dict(slot, len, depth);
            }
            0xc7..=0xc9 | 0xd4..=0xd8 => {
                return Err("a MessagePack extension type is not a WAMP value".into())
            }
            0xc1 => return Err("the reserved MessagePack marker 0xc1".into()),
        };
        Ok(())
    }

    /// A string value: text if it is UTF-8, binary data otherwise.
    fn string(&mut self, len: usize) -> Result<Value, String> {
        let bytes = self.take(len)?;
        Ok(match simdutf8::basic::from_utf8(bytes) {
            Ok(text) => Value::String(text.to_owned()),
            Err(_) => Value::Bytes(bytes.to_vec()),
        })
    }

    /// A list or dictionary opens: how many more may open inside it.
    fn opened(depth: usize) -> Result<usize, String> {
        depth
            .checked_sub(1)
            .ok_or_else(|| format!("lists and dictionaries are nested more than {DECODE_DEPTH} deep"))
    }

    fn list(&mut self, slot: &mut Value, len: usize, depth: usize) -> Result<(), String> {
        let depth = Self::opened(depth)?;
        // Never trust a length from the wire for more than a small
        // allocation: the elements prove the size.
        *slot = Value::List(List::with_capacity(len.min(64)));
        let Value::List(list) = slot else { return Ok(()) };
        for _ in 0..len {
            list.push(Value::Null);
            let Some(element) = list.last_mut() else { break };
            self.value(element, depth)?;
        }
        Ok(())
    }

    fn dict(&mut self, slot: &mut Value, len: usize, depth: usize) -> Result<(), String> {
        let depth = Self::opened(depth)?;
        *slot = Value::Dict(Dict::new());
        let Value::Dict(dict) = slot else { return Ok(()) };
        for _ in 0..len {
            let key = self.key()?;
            // A repeated key takes the last value, as rmp-serde's reading
            // into a map does.
            self.value(dict.slot(key), depth)?;
        }
        Ok(())
    }

    /// A dictionary key: a string or binary data, holding UTF-8 text.
    fn key(&mut self) -> Result<String, String> {
        let marker = self.take(1)?[0];
        let len = match marker {
            0xa0..=0xbf => usize::from(marker & 0x1f),
            0xc4 | 0xd9 => self.length(1)?,
            0xc5 | 0xda => self.length(2)?,
            0xc6 | 0xdb => self.length(4)?,
            _ => return Err("a dictionary key must be a string".into()),
        };
        match simdutf8::basic::from_utf8(self.take(len)?) {
            Ok(text) => Ok(text.to_owned()),
            Err(_) => Err("a dictionary key is not UTF-8 text".into()),
        }
    }
}

/// MessagePack as `rmp-serde` writes it: each value in its smallest form
/// (the encoding functions of `rmp`, which `rmp-serde` calls too), lists
/// and dictionaries with their length first.
pub(crate) struct MsgPack;

/// Writing into a vector fails only for a length MessagePack cannot hold.
fn written<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<(), Error> {
    result.map(drop).map_err(|e| Error::new(e.to_string()))
}

/// A length MessagePack can hold (32 bits).
fn length(len: Option<usize>) -> Result<u32, Error> {
    let len = len.ok_or_else(|| Error::new("a list or dictionary of unknown length".into()))?;
    u32::try_from(len).map_err(|_| Error::new(format!("{len} elements are more than MessagePack can hold")))
}

impl Format for MsgPack {
    const HUMAN_READABLE: bool = false;

    fn null(out: &mut Vec<u8>) -> Result<(), Error> {
        written(rmp::encode::write_nil(out))
    }
    fn bool(out: &mut Vec<u8>, v: bool) -> Result<(), Error> {
        written(rmp::encode::write_bool(out, v))
    }
    fn int(out: &mut Vec<u8>, v: i64) -> Result<(), Error> {
        written(rmp::encode::write_sint(out, v))
    }
    fn uint(out: &mut Vec<u8>, v: u64) -> Result<(), Error> {
        written(rmp::encode::write_uint(out, v))
    }
    fn float(out: &mut Vec<u8>, v: f64) -> Result<(), Error> {
        written(rmp::encode::write_f64(out, v))
    }
    fn string(out: &mut Vec<u8>, v: &str) -> Result<(), Error> {
        written(rmp::encode::write_str(out, v))
    }
    fn bytes(out: &mut Vec<u8>, v: &[u8]) -> Result<(), Error> {
        written(rmp::encode::write_bin(out, v))
    }
    fn open_list(out: &mut Vec<u8>, len: Option<usize>) -> Result<(), Error> {
        written(rmp::encode::write_array_len(out, length(len)?))
    }
    fn open_dict(out: &mut Vec<u8>, len: Option<usize>) -> Result<(), Error> {
        written(rmp::encode::write_map_len(out, length(len)?))
    }
    fn separate(_: &mut Vec<u8>, _: bool) {}
    fn is_text(first_byte: u8) -> bool {
        matches!(first_byte, 0xa0..=0xbf | 0xd9..=0xdb)
    }
    fn after_key(_: &mut Vec<u8>) {}
    fn close_list(_: &mut Vec<u8>) {}
    fn close_dict(_: &mut Vec<u8>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmp::encode as e;

    fn check(data: &[u8]) -> Result<usize, String> {
        check_value(data, 0, &Budget::default(), 1)
    }

    fn encoded(write: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
        let mut buf = Vec::new();
        write(&mut buf);
        buf
    }

    /// One encoding of every kind of value: each integer, length and
    /// float form, text and binary strings (strings that are not UTF-8
    /// too), lists, dictionaries, and the keys the full decoding accepts.
    fn every_kind_of_value() -> Vec<Vec<u8>> {
        let mut values: Vec<Vec<u8>> = Vec::new();
        for n in [0u64, 127, 128, 255, 256, 65_535, 65_536, u32::MAX as u64, i64::MAX as u64, u64::MAX] {
            values.push(encoded(|b| drop(e::write_uint(b, n))));
        }
        for n in [-1i64, -32, -33, -128, -129, -32_768, -32_769, i32::MIN as i64, i64::MIN] {
            values.push(encoded(|b| drop(e::write_sint(b, n))));
        }
        // Every integer marker with every kind of content, positive numbers
        // in signed markers too.
        for marker in [0xccu8, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3] {
            let size = match marker {
                0xcc | 0xd0 => 1,
                0xcd | 0xd1 => 2,
                0xce | 0xd2 => 4,
                _ => 8,
            };
            for fill in [0x00u8, 0x01, 0x7f, 0x80, 0xff] {
                let mut data = vec![marker];
                data.extend(std::iter::repeat_n(fill, size));
                values.push(data);
            }
        }
        values.push(encoded(|b| drop(e::write_nil(b))));
        values.push(encoded(|b| drop(e::write_bool(b, true))));
        values.push(encoded(|b| drop(e::write_bool(b, false))));
        for f in [1.5f64, -0.0, f64::NAN, f64::INFINITY, 1e300] {
            values.push(encoded(|b| drop(e::write_f64(b, f))));
            values.push(encoded(|b| drop(e::write_f32(b, f as f32))));
        }
        for len in [0usize, 1, 31, 32, 255, 256, 65_535, 65_536] {
            values.push(encoded(|b| drop(e::write_str(b, &"s".repeat(len)))));
            values.push(encoded(|b| drop(e::write_bin(b, &vec![7u8; len]))));
        }
        // Strings that are not UTF-8 (binary data), or are, past ASCII.
        values.push(vec![0xa2, 0xff, 0xfe]);
        values.push(vec![0xd9, 0x02, 0xc3, 0xa9]);
        values.push(vec![0xa1, 0x00]);
        for len in [0u32, 1, 15, 16, 65_535, 65_536] {
            values.push(encoded(|b| {
                drop(e::write_array_len(b, len));
                b.extend(std::iter::repeat_n(0x01u8, len as usize));
            }));
            values.push(encoded(|b| {
                drop(e::write_map_len(b, len));
                for i in 0..len {
                    drop(e::write_str(b, &i.to_string()));
                    b.push(0xc0);
                }
            }));
        }
        // Keys: binary holding text, and a repeated key (the last counts).
        values.push(vec![0x81, 0xc4, 0x01, b'k', 0x05]);
        values.push(vec![0x82, 0xa1, b'k', 0x01, 0xa1, b'k', 0x02]);
        values
    }

    #[test]
    fn the_end_of_every_kind_of_value_is_found() {
        for value in every_kind_of_value() {
            let mut data = value.clone();
            data.extend_from_slice(&[0xc3, 0xc3]);
            assert_eq!(check(&data), Ok(value.len()), "{:02x?}", &value[..value.len().min(8)]);
            assert!(check(&value[..value.len() - 1]).is_err(), "truncated: an error");
        }
    }

    #[test]
    fn what_the_full_decoding_refuses_is_refused() {
        assert!(check(&[0xc1]).is_err(), "reserved marker");
        for ext in
            [encoded(|b| drop(e::write_ext_meta(b, 4, 5))), encoded(|b| drop(e::write_ext_meta(b, 3, 5)))]
        {
            let mut data = ext;
            data.extend_from_slice(&[1, 2, 3, 4]);
            assert!(check(&data).unwrap_err().contains("extension"));
        }
        // A list announcing 2^32 - 1 elements in a few bytes.
        assert!(check(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]).unwrap_err().contains("announces"));
        // Keys: an integer, a list, text that is not UTF-8 (as str and bin).
        assert!(check(&[0x81, 0x01, 0xc0]).unwrap_err().contains("must be a string"));
        assert!(check(&[0x81, 0x90, 0xc0]).unwrap_err().contains("must be a string"));
        assert!(check(&[0x81, 0xa1, 0xff, 0xc0]).unwrap_err().contains("not UTF-8"));
        assert!(check(&[0x81, 0xc4, 0x01, 0xff, 0xc0]).unwrap_err().contains("not UTF-8"));
        // A binary key holding text is a key, as for the full decoding.
        assert_eq!(check(&[0x81, 0xc4, 0x01, b'k', 0xc0]), Ok(5));
        // A string value that is not UTF-8 is binary data, not an error.
        assert_eq!(check(&[0x91, 0xa2, 0xff, 0xfe]), Ok(4));
    }

    #[test]
    fn nesting_and_values_are_counted() {
        // 63 lists inside one another at level 1 reach level 63: allowed.
        let mut data = vec![0x91; MAX_DEPTH - 1];
        data.push(0xc0);
        assert_eq!(check(&data), Ok(data.len()));
        let mut data = vec![0x91; MAX_DEPTH];
        data.push(0xc0);
        assert!(check(&data).unwrap_err().contains("nested deeper"));
        // Keys are not counted; values and containers are.
        let budget = Budget::default();
        check_value(&[0x82, 0xa1, b'a', 0xc0, 0xa1, b'b', 0x91, 0x01], 0, &budget, 1).unwrap();
        assert_eq!(budget.left(), crate::protocol::raw::MAX_ELEMENTS - 4);
    }

    /// What `rmp-serde` makes of `data` as a [`Value`], the decoding ours
    /// replaces (trailing bytes refused as ours refuses them).
    fn rmp_serde_decoding(data: &[u8]) -> Result<Value, String> {
        let mut rest = data;
        let value: Value = {
            let mut de = rmp_serde::Deserializer::new(&mut rest);
            serde::Deserialize::deserialize(&mut de).map_err(|e| e.to_string())?
        };
        if rest.is_empty() {
            Ok(value)
        } else {
            Err("trailing bytes".into())
        }
    }

    /// Both decodings accept `data` with the same value (compared by its
    /// debug form, so that integer kinds and float bits count), or both
    /// refuse it.
    fn agree(data: &[u8]) {
        match (decode_value(data), rmp_serde_decoding(data)) {
            (Ok(ours), Ok(theirs)) => assert_eq!(format!("{ours:?}"), format!("{theirs:?}"), "{data:02x?}"),
            (Err(_), Err(_)) => {}
            (ours, theirs) => {
                panic!("{:02x?}: ours {ours:?}, rmp-serde {theirs:?}", &data[..data.len().min(16)])
            }
        }
    }

    #[test]
    fn values_decode_as_rmp_serde_decodes_them() {
        let mut values = every_kind_of_value();
        // Each kind of value or key that is refused.
        for refused in [
            vec![0x81, 0x01, 0xc0],
            vec![0x81, 0x90, 0xc0],
            vec![0x81, 0xc0, 0xc0],
            vec![0x81, 0xa1, 0xff, 0xc0],
            vec![0x81, 0xc4, 0x01, 0xff, 0xc0],
            vec![0xc1],
            vec![0xd4, 0x01, 0x02],
            vec![0xc7, 0x01, 0x05, 0x00],
            vec![0x92, 0x01],
            vec![0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0],
            vec![0xda, 0x00],
            vec![0x01, 0x02],
            vec![],
        ] {
            assert!(decode_value(&refused).is_err(), "{refused:02x?}");
            values.push(refused);
        }
        for value in &values {
            agree(value);
            // Inside a message-like list, and cut short anywhere.
            let mut list = vec![0x93, 0x30];
            list.extend_from_slice(value);
            list.push(0xc0);
            agree(&list);
            for cut in 0..list.len().min(12) {
                agree(&list[..cut]);
            }
        }
    }

    #[test]
    fn nesting_is_limited_where_rmp_serde_limits_it() {
        // A thousand nested calls take more than a test thread's stack in
        // a debug build.
        let big_stack = std::thread::Builder::new().stack_size(256 << 20);
        let nesting = big_stack.spawn(nesting_limit).expect("a test thread");
        nesting.join().expect("the nesting test");
    }

    fn nesting_limit() {
        for (depth, accepted) in [(DECODE_DEPTH, true), (DECODE_DEPTH + 1, false)] {
            for opening in [0x91u8, 0x81] {
                let mut data = Vec::new();
                for _ in 0..depth {
                    data.push(opening);
                    if opening == 0x81 {
                        data.extend_from_slice(&[0xa1, b'k']);
                    }
                }
                data.push(0xc0);
                assert_eq!(decode_value(&data).is_ok(), accepted, "{depth} of {opening:02x}");
                agree(&data);
            }
        }
    }
}
