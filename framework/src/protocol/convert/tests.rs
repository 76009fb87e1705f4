use std::collections::{BTreeMap, HashMap};
use std::fmt;

use proptest::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use serde::de::{IntoDeserializer, Visitor};

use super::*;

fn dict<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::Dict(entries.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// Converts `x` to a value, checks its shape, and reads it back both
/// from the owned and from the borrowed value.
fn round_trip<T>(x: &T, expected: Value)
where
    T: Serialize + DeserializeOwned + PartialEq + fmt::Debug,
{
    let v = to_value(x).unwrap();
    assert_eq!(v, expected);
    assert_eq!(&T::deserialize(&v).unwrap(), x, "borrowed");
    assert_eq!(&from_value::<T>(v).unwrap(), x, "owned");
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Shape {
    Empty,
    Circle(f64),
    Rect(u32, u32),
    Poly { sides: u8, label: Option<String> },
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Meters(u16);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Marker;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Drawing {
    title: String,
    note: Option<String>,
    missing: Option<i32>,
    shapes: Vec<Shape>,
    layers: HashMap<String, Vec<i64>>,
    origin: (i8, i8),
    width: Meters,
    marker: Marker,
    initial: char,
    scale: f64,
}

#[test]
fn nested_struct_round_trips() {
    let drawing = Drawing {
        title: "plan".into(),
        note: Some("draft".into()),
        missing: None,
        shapes: vec![
            Shape::Empty,
            Shape::Circle(1.5),
            Shape::Rect(2, 3),
            Shape::Poly { sides: 6, label: None },
        ],
        layers: HashMap::from([("base".into(), vec![1, -1]), ("top".into(), vec![])]),
        origin: (-1, 127),
        width: Meters(40),
        marker: Marker,
        initial: 'é',
        scale: 0.25,
    };
    let expected = dict([
        ("title", Value::from("plan")),
        ("note", Value::from("draft")),
        ("missing", Value::Null),
        (
            "shapes",
            Value::List(vec![
                Value::from("Empty"),
                dict([("Circle", Value::Float(1.5))]),
                dict([("Rect", Value::List(vec![Value::Int(2), Value::Int(3)]))]),
                dict([("Poly", dict([("sides", Value::Int(6)), ("label", Value::Null)]))]),
            ]),
        ),
        (
            "layers",
            dict([("base", Value::List(vec![Value::Int(1), Value::Int(-1)])), ("top", Value::List(vec![]))]),
        ),
        ("origin", Value::List(vec![Value::Int(-1), Value::Int(127)])),
        ("width", Value::Int(40)),
        ("marker", Value::Null),
        ("initial", Value::from("é")),
        ("scale", Value::Float(0.25)),
    ]);
    round_trip(&drawing, expected);
}

#[test]
fn missing_optional_fields_are_none() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct Args {
        a: i32,
        b: Option<i32>,
    }
    let args: Args = from_value(dict([("a", Value::Int(1))])).unwrap();
    assert_eq!(args, Args { a: 1, b: None });
}

#[test]
fn enum_variants_of_each_kind() {
    round_trip(&Shape::Empty, Value::from("Empty"));
    round_trip(&Shape::Circle(2.0), dict([("Circle", Value::Float(2.0))]));
    round_trip(&Shape::Rect(1, 2), dict([("Rect", Value::List(vec![Value::Int(1), Value::Int(2)]))]));
    round_trip(
        &Shape::Poly { sides: 3, label: Some("tri".into()) },
        dict([("Poly", dict([("sides", Value::Int(3)), ("label", Value::from("tri"))]))]),
    );
    // A unit variant may also be written with null content.
    let empty: Shape = from_value(dict([("Empty", Value::Null)])).unwrap();
    assert_eq!(empty, Shape::Empty);
}

#[test]
fn scalars_and_unit() {
    round_trip(&(), Value::Null);
    round_trip(&Some(5u8), Value::Int(5));
    round_trip(&None::<u8>, Value::Null);
    round_trip(&'x', Value::from("x"));
    round_trip(&true, Value::Bool(true));
    round_trip(&-0.5f64, Value::Float(-0.5));
    round_trip(&1.5f32, Value::Float(1.5));
    round_trip(&String::from("hi"), Value::from("hi"));
    round_trip(
        &(1u8, "two".to_owned(), [3i16, 4]),
        Value::List(vec![Value::Int(1), Value::from("two"), Value::List(vec![Value::Int(3), Value::Int(4)])]),
    );
}

#[test]
fn integer_edges() {
    round_trip(&i64::MIN, Value::Int(i64::MIN));
    round_trip(&i64::MAX, Value::Int(i64::MAX));
    round_trip(&u64::MAX, Value::UInt(u64::MAX));
    // Unsigned values that fit an i64 are `Int`, as `Value::from` does.
    assert!(matches!(to_value(&(i64::MAX as u64)), Ok(Value::Int(i64::MAX))));
    assert!(matches!(to_value(&u8::MAX), Ok(Value::Int(255))));
    assert_eq!(from_value::<u64>(Value::Int(7)), Ok(7));
    assert_eq!(from_value::<f64>(Value::Int(-3)), Ok(-3.0));
    assert_eq!(from_value::<f64>(Value::UInt(u64::MAX)), Ok(u64::MAX as f64));
    assert_eq!(to_value(&-1i128), Ok(Value::Int(-1)));
    assert_eq!(to_value(&u128::from(u64::MAX)), Ok(Value::UInt(u64::MAX)));
    assert_eq!(from_value::<i128>(Value::UInt(u64::MAX)), Ok(u64::MAX.into()));
    assert_eq!(
        to_value(&i128::MIN).unwrap_err().to_string(),
        format!("integer {} is out of range: WAMP integers have 64 bits", i128::MIN)
    );
}

#[test]
fn wrong_types_give_serde_messages() {
    let err = |r: Result<_, ConvertError>| r.map(|_: ()| ()).unwrap_err().to_string();
    assert_eq!(
        from_value::<i64>(Value::from("abc")).unwrap_err().to_string(),
        "invalid type: string \"abc\", expected i64"
    );
    assert_eq!(
        from_value::<i8>(Value::Int(300)).unwrap_err().to_string(),
        "invalid value: integer `300`, expected i8"
    );
    assert_eq!(
        from_value::<u32>(Value::Int(-1)).unwrap_err().to_string(),
        "invalid value: integer `-1`, expected u32"
    );
    assert_eq!(
        from_value::<i64>(Value::Float(1.5)).unwrap_err().to_string(),
        "invalid type: floating point `1.5`, expected i64"
    );
    assert_eq!(
        from_value::<String>(Value::Null).unwrap_err().to_string(),
        "invalid type: null, expected a string"
    );
    assert_eq!(
        from_value::<String>(Value::List(vec![])).unwrap_err().to_string(),
        "invalid type: list, expected a string"
    );
    assert_eq!(
        from_value::<Vec<i32>>(dict([])).unwrap_err().to_string(),
        "invalid type: dictionary, expected a sequence"
    );
    assert_eq!(err(from_value(Value::Int(1))), "invalid type: integer `1`, expected unit");
    assert_eq!(
        from_value::<Shape>(Value::Int(1)).unwrap_err().to_string(),
        "invalid type: integer `1`, expected enum Shape"
    );
    assert_eq!(
        from_value::<Shape>(Value::from("Hexagon")).unwrap_err().to_string(),
        "unknown variant `Hexagon`, expected one of `Empty`, `Circle`, `Rect`, `Poly`"
    );
    assert_eq!(
        from_value::<Shape>(dict([("Empty", Value::Null), ("Rect", Value::Null)])).unwrap_err().to_string(),
        "invalid value: dictionary, expected a dictionary with exactly one entry, \
         {variant: content}"
    );
    assert_eq!(
        from_value::<Shape>(Value::from("Circle")).unwrap_err().to_string(),
        "invalid type: unit variant, expected newtype variant"
    );
    assert_eq!(from_value::<Drawing>(dict([])).unwrap_err().to_string(), "missing field `title`");
}

#[test]
fn tuples_check_their_length() {
    let three = Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)]);
    assert_eq!(
        from_value::<(i32, i32)>(three.clone()).unwrap_err().to_string(),
        "invalid length 3, expected a list of 2 elements"
    );
    assert_eq!(
        from_value::<(i32, i32, i32, i32)>(three).unwrap_err().to_string(),
        "invalid length 3, expected a tuple of size 4"
    );
}

#[test]
fn map_keys_become_strings_and_back() {
    round_trip(
        &BTreeMap::from([(1u32, "one".to_owned()), (20, "twenty".to_owned())]),
        dict([("1", Value::from("one")), ("20", Value::from("twenty"))]),
    );
    round_trip(&BTreeMap::from([(-5i64, 0u8)]), dict([("-5", Value::Int(0))]));
    round_trip(
        &BTreeMap::from([(true, 1u8), (false, 0)]),
        dict([("false", Value::Int(0)), ("true", Value::Int(1))]),
    );
    round_trip(&BTreeMap::from([('k', 1u8)]), dict([("k", Value::Int(1))]));

    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
    enum Color {
        Red,
    }
    round_trip(&BTreeMap::from([(Color::Red, 1u8)]), dict([("Red", Value::Int(1))]));

    let err = to_value(&BTreeMap::from([((1, 2), 3)])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "dictionary keys must be strings, integers, booleans or chars, found a tuple"
    );
    let err = from_value::<BTreeMap<u8, u8>>(dict([("x", Value::Int(1))])).unwrap_err();
    assert_eq!(err.to_string(), "invalid type: string \"x\", expected u8");
}

/// A byte string that serializes with `serialize_bytes`, as
/// `serde_bytes::ByteBuf` does.
#[derive(Debug, PartialEq)]
struct Blob(Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BlobVisitor;
        impl Visitor<'_> for BlobVisitor {
            type Value = Blob;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Blob, E> {
                Ok(Blob(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Blob, E> {
                Ok(Blob(v))
            }
        }
        d.deserialize_byte_buf(BlobVisitor)
    }
}

#[test]
fn bytes_stay_bytes() {
    round_trip(&Blob(vec![0, 1, 255]), Value::Bytes(vec![0, 1, 255]));
    // A plain Vec<u8> is a list of integers, but reads a byte string too.
    let plain = vec![7u8, 8];
    assert_eq!(to_value(&plain), Ok(Value::List(vec![Value::Int(7), Value::Int(8)])));
    assert_eq!(from_value::<Vec<u8>>(Value::Bytes(plain.clone())), Ok(plain.clone()));
    assert_eq!(Vec::<u8>::deserialize(&Value::Bytes(plain.clone())), Ok(plain));
    assert_eq!(
        from_value::<Blob>(Value::from("ab")).unwrap_err().to_string(),
        "invalid type: string \"ab\", expected a byte string"
    );
}

#[test]
fn values_pass_through_unchanged() {
    // Not human readable: bytes are not turned into base64 text, and a
    // string that looks like WAMP's JSON byte convention stays a string.
    let v = Value::List(vec![
        Value::Bytes(vec![1, 2]),
        Value::from("\u{0}AQI="),
        Value::UInt(u64::MAX),
        dict([("k", Value::Null)]),
    ]);
    assert_eq!(to_value(&v), Ok(v.clone()));
    assert_eq!(from_value::<Value>(v.clone()), Ok(v.clone()));
    assert_eq!(Value::deserialize(&v), Ok(v.clone()));
    assert!(!<Value as de::Deserializer<'_>>::is_human_readable(&v));
    assert!(!<&Value as de::Deserializer<'_>>::is_human_readable(&&v));
}

#[test]
fn borrowed_values_lend_strings() {
    #[derive(Deserialize)]
    struct View<'a> {
        name: &'a str,
        #[serde(borrow)]
        tags: Vec<&'a str>,
    }
    let v = dict([("name", Value::from("alice")), ("tags", Value::List(vec![Value::from("x")]))]);
    let view = View::deserialize(&v).unwrap();
    assert_eq!((view.name, view.tags), ("alice", vec!["x"]));
    // An owned value cannot lend its strings.
    let err = <&str>::deserialize(Value::from("owned")).unwrap_err();
    assert_eq!(err.to_string(), "invalid type: string \"owned\", expected a borrowed string");
}

#[test]
fn into_deserializer_works_for_both_forms() {
    let v = Value::Int(3);
    let n = u8::deserialize(IntoDeserializer::<ConvertError>::into_deserializer(&v));
    assert_eq!(n, Ok(3));
    let n = u8::deserialize(IntoDeserializer::<ConvertError>::into_deserializer(v));
    assert_eq!(n, Ok(3));
}

proptest! {
    #[test]
    fn round_trip_random_values(
        x in (
            any::<i64>(),
            any::<String>(),
            proptest::collection::vec(any::<u32>(), 0..8),
            any::<Option<bool>>(),
            proptest::collection::btree_map(
                any::<String>(),
                proptest::num::f64::POSITIVE
                    | proptest::num::f64::NEGATIVE
                    | proptest::num::f64::NORMAL
                    | proptest::num::f64::SUBNORMAL
                    | proptest::num::f64::ZERO,
                0..6,
            ),
        )
    ) {
        let v = to_value(&x).unwrap();
        let borrowed: (i64, String, Vec<u32>, Option<bool>, BTreeMap<String, f64>) =
            Deserialize::deserialize(&v).unwrap();
        prop_assert_eq!(&borrowed, &x);
        prop_assert_eq!(from_value::<(i64, String, Vec<u32>, Option<bool>, BTreeMap<String, f64>)>(v).unwrap(), x);
    }
}
