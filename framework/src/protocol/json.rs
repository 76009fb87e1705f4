//! JSON read and written directly, for what WAMP peers send most, with
//! `serde_json` behind.
//!
//! Most of what WAMP peers send is integers, plain strings, lists and
//! dictionaries. Read through `serde_json` and a visitor, every list grows
//! as it fills; written through it, every string is escaped one byte at a
//! time. For a small call that was a quarter of the router's work.
//!
//! [`decode_value`] reads the common case in one pass, checking each
//! string for UTF-8 as it takes it (the text between strings can only be
//! ASCII punctuation, digits and keywords, or it is refused), and gives up
//! (`None`) at anything else: an escape in a string, a
//! number with a fraction or an exponent, `-0`, an integer out of range,
//! deep nesting, or anything malformed. The caller then decodes with
//! `serde_json`, which has the last word on every value and every error.
//! [`Json`] writes everything (through [`super::writer`]), byte for byte
//! as `serde_json` writes it, looking for what a string must escape
//! sixteen bytes at a time (floats it leaves to `serde_json`).
//! Tests and the `decode_json` fuzz target compare both with `serde_json`.

use super::value::{List, Value, UNSIZED_LIST, UNSIZED_MESSAGE};
use super::writer::{Error, Format};
use super::Dict;

/// Nesting past which the reading is left to `serde_json` (which refuses
/// past 128 levels).
const MAX_NESTING: usize = 100;

/// The value that fills `data`, if it is in the common case; `None` if
/// `serde_json` must decide.
pub(crate) fn decode_value(data: &[u8]) -> Option<Value> {
    let mut reader = Reader { bytes: data, pos: 0 };
    let mut value = Value::Null;
    reader.value(&mut value, 0)?;
    reader.skip_space();
    (reader.pos == data.len()).then_some(value)
}

/// A position in the text being read.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Takes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.pos += usize::from(next);
        next
    }

    fn literal(&mut self, word: &str, value: Value) -> Option<Value> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word.as_bytes()).then(|| {
            self.pos = end;
            value
        })
    }

    /// Reads the value at the reading position into `slot` (where it
    /// stays: values are not moved up through the nesting); `nesting`
    /// lists or dictionaries are open around it.
    fn value(&mut self, slot: &mut Value, nesting: usize) -> Option<()> {
        self.skip_space();
        *slot = match self.peek()? {
            b'"' => Value::String(self.string()?),
            b'-' | b'0'..=b'9' => self.integer()?,
            b'[' => return self.list(slot, nesting),
            b'{' => return self.dict(slot, nesting),
            b'n' => self.literal("null", Value::Null)?,
            b't' => self.literal("true", Value::Bool(true))?,
            b'f' => self.literal("false", Value::Bool(false))?,
            _ => return None,
        };
        Some(())
    }

    /// An integer without fraction or exponent that fits its type.
    fn integer(&mut self) -> Option<Value> {
        let negative = self.eat(b'-');
        let start = self.pos;
        let mut magnitude: u64 = 0;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            magnitude = magnitude.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
            self.pos += 1;
        }
        let digits = self.pos - start;
        // No digits, a leading zero, or a fraction or exponent next.
        if digits == 0
            || (digits > 1 && self.bytes[start] == b'0')
            || matches!(self.peek(), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        if !negative {
            return Some(Value::from(magnitude));
        }
        // `-0` is a float to serde_json.
        if magnitude == 0 {
            return None;
        }
        0i64.checked_sub_unsigned(magnitude).map(Value::Int)
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<String> {
        let start = self.pos + 1;
        let rest = self.bytes.get(start..)?;
        let length = string_end(rest)?;
        if rest[length] != b'"' {
            return None;
        }
        self.pos = start + length + 1;
        // Short, and most often ASCII: the standard library's check has
        // a fast path for that, and no set-up.
        std::str::from_utf8(rest.get(..length)?).ok().map(str::to_owned)
    }

    fn list(&mut self, slot: &mut Value, nesting: usize) -> Option<()> {
        if nesting >= MAX_NESTING {
            return None;
        }
        self.pos += 1;
        let room = if nesting == 0 { UNSIZED_MESSAGE } else { UNSIZED_LIST };
        *slot = Value::List(List::with_capacity(room));
        let Value::List(list) = slot else { return None };
        self.skip_space();
        if self.eat(b']') {
            return Some(());
        }
        loop {
            list.push(Value::Null);
            self.value(list.last_mut()?, nesting + 1)?;
            self.skip_space();
            if self.eat(b']') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    fn dict(&mut self, slot: &mut Value, nesting: usize) -> Option<()> {
        if nesting >= MAX_NESTING {
            return None;
        }
        self.pos += 1;
        *slot = Value::Dict(Dict::new());
        let Value::Dict(dict) = slot else { return None };
        self.skip_space();
        if self.eat(b'}') {
            return Some(());
        }
        loop {
            self.skip_space();
            if self.peek() != Some(b'"') {
                return None;
            }
            let key = self.string()?;
            self.skip_space();
            if !self.eat(b':') {
                return None;
            }
            // A repeated key takes the last value, as serde_json's reading
            // into a map does.
            self.value(dict.slot(key), nesting + 1)?;
            self.skip_space();
            if self.eat(b'}') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }
}

/// Where the first quote, backslash or control character of `text` is.
fn string_end(text: &[u8]) -> Option<usize> {
    let special = |b: u8| (b == b'"') | (b == b'\\') | (b < 0x20);
    // Sixteen bytes at a time, without an early exit inside, which the
    // compiler turns into vector instructions.
    let mut chunks = text.chunks_exact(16);
    let mut offset = 0;
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |found, b| found | special(*b)) {
            return chunk.iter().position(|b| special(*b)).map(|i| offset + i);
        }
        offset += 16;
    }
    chunks.remainder().iter().position(|b| special(*b)).map(|i| offset + i)
}

/// JSON as `serde_json` writes it, strings faster (see the module doc).
pub(crate) struct Json;

impl Format for Json {
    const HUMAN_READABLE: bool = true;

    fn null(out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(b"null");
        Ok(())
    }
    fn bool(out: &mut Vec<u8>, v: bool) -> Result<(), Error> {
        out.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn int(out: &mut Vec<u8>, v: i64) -> Result<(), Error> {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        Ok(())
    }
    fn uint(out: &mut Vec<u8>, v: u64) -> Result<(), Error> {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        Ok(())
    }
    fn float(out: &mut Vec<u8>, v: f64) -> Result<(), Error> {
        // Rare in WAMP messages, and the shortest exact form is a matter
        // of taste (and of serde_json's version): serde_json writes them.
        serde_json::to_writer(out, &v).map_err(|e| Error::new(e.to_string()))
    }
    fn string(out: &mut Vec<u8>, v: &str) -> Result<(), Error> {
        write_string(out, v);
        Ok(())
    }
    fn bytes(_: &mut Vec<u8>, _: &[u8]) -> Result<(), Error> {
        // Values write their bytes as text (`is_human_readable`).
        Err(Error::not_a_wamp_value("raw bytes"))
    }
    fn open_list(out: &mut Vec<u8>, _: Option<usize>) -> Result<(), Error> {
        out.push(b'[');
        Ok(())
    }
    fn open_dict(out: &mut Vec<u8>, _: Option<usize>) -> Result<(), Error> {
        out.push(b'{');
        Ok(())
    }
    fn separate(out: &mut Vec<u8>, first: bool) {
        if !first {
            out.push(b',');
        }
    }
    fn is_text(first_byte: u8) -> bool {
        first_byte == b'"'
    }
    fn after_key(out: &mut Vec<u8>) {
        out.push(b':');
    }
    fn close_list(out: &mut Vec<u8>) {
        out.push(b']');
    }
    fn close_dict(out: &mut Vec<u8>) {
        out.push(b'}');
    }
}

/// Writes a string with the escapes `serde_json` uses.
fn write_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    while let Some(found) = bytes.get(start..).and_then(string_end) {
        let at = start + found;
        out.extend_from_slice(&bytes[start..at]);
        let byte = bytes[at];
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0x0f)],
            ]),
        }
        start = at + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `serde_json` makes of `data`.
    fn reference(data: &str) -> Result<Value, serde_json::Error> {
        serde_json::from_str(data)
    }

    /// Read here, `data` gives what `serde_json` gives (compared by debug
    /// form, so that integer kinds count); `read` says whether it was read
    /// here at all.
    fn agree(data: &str, read: bool) {
        let ours = decode_value(data.as_bytes());
        assert_eq!(ours.is_some(), read, "{data:?}: read here: {ours:?}");
        if let Some(ours) = ours {
            let theirs = reference(data).unwrap_or_else(|e| panic!("{data:?}: serde_json refuses: {e}"));
            assert_eq!(format!("{ours:?}"), format!("{theirs:?}"), "{data:?}");
        }
    }

    #[test]
    fn the_common_case_is_read_as_serde_json_reads_it() {
        for data in [
            "0",
            "7",
            "-7",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "-9223372036854775808",
            "null",
            "true",
            "false",
            "\"\"",
            "\"com.example.add\"",
            "\"caf\u{e9} \u{1f600}\"",
            "[]",
            "{}",
            " [ 48 , 1 , { } , \"a.b\" , [ 1 , -2 , \"x\" ] , { \"k\" : null } ] ",
            "[48,12345,{},\"com.bench.echo\",[\"xxxx\"]]",
            "{\"a\":1,\"a\":2}",
            "{\"nested\":{\"deeper\":[[[]],{}]}}",
            "\t\n\r[1]\n",
        ] {
            agree(data, true);
        }
    }

    #[test]
    fn the_end_of_a_string_is_found_in_every_position() {
        for length in 0..40 {
            for stop in [b'"', b'\\', b'\n', 0x00, 0x1f] {
                let mut text = vec![b'x'; length];
                text.push(stop);
                text.extend_from_slice(b"x\"");
                assert_eq!(string_end(&text), Some(length), "{length} {stop}");
            }
            assert_eq!(string_end(&vec![b' '; length]), None);
        }
    }

    #[test]
    fn everything_else_is_left_to_serde_json() {
        for data in [
            // serde_json reads these, differently from an integer or with
            // an escape to undo.
            "1.5",
            "1e3",
            "1E3",
            "-0",
            "18446744073709551616",
            "-9223372036854775809",
            "\"a\\nb\"",
            "\"\\u0000AAEC\"",
            // Malformed: serde_json names the error.
            "",
            " ",
            "01",
            "-",
            "+1",
            "[1,]",
            "[1 2]",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "{1:2}",
            "\"unterminated",
            "\"tab\there\"",
            "[1]x",
            "[1]]",
            "nul",
            "tru",
            "NaN",
        ] {
            agree(data, false);
        }
        assert!(decode_value(&[b'"', 0xff, b'"']).is_none(), "not UTF-8");
        let deep = format!("{}{}", "[".repeat(MAX_NESTING + 1), "]".repeat(MAX_NESTING + 1));
        agree(&deep, false);
        let deep_enough = format!("{}{}", "[".repeat(MAX_NESTING), "]".repeat(MAX_NESTING));
        agree(&deep_enough, true);
    }
}
