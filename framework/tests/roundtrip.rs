//! Property test: any message survives encode → decode with both
//! serializers, and decoding arbitrary bytes never panics.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use proptest::prelude::*;
use wamp::protocol::id::MAX_ID;
use wamp::protocol::{Dict, Payload, Serializer, Value, WampMessage};

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        (i64::MAX as u64 + 1..=u64::MAX).prop_map(Value::UInt),
        // JSON has no NaN or infinity.
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::Float),
        // A JSON string that starts with NUL is, by WAMP's convention, bytes.
        "[^\u{0}][^\u{0}]{0,12}|".prop_map(Value::String),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..6).prop_map(|map| Value::Dict(map.into())),
        ]
    })
}

fn dict() -> impl Strategy<Value = Dict> {
    prop::collection::btree_map("[a-z_]{1,8}", value(), 0..4).prop_map(Dict::from)
}

fn id() -> impl Strategy<Value = u64> {
    1..=MAX_ID
}

fn uri() -> impl Strategy<Value = String> {
    "[a-z]{1,6}(\\.[a-z0-9_]{1,6}){0,3}"
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        4 => (prop::collection::vec(value(), 0..4), dict()).prop_map(|(a, k)| Payload::new(a, k)),
        1 => prop::collection::vec(any::<u8>(), 0..32).prop_map(Payload::Transparent),
    ]
}

fn message() -> impl Strategy<Value = WampMessage> {
    prop_oneof![
        (uri(), dict()).prop_map(|(realm, details)| WampMessage::Hello { realm, details }),
        (id(), dict()).prop_map(|(session, details)| WampMessage::Welcome { session, details }),
        (dict(), uri()).prop_map(|(details, reason)| WampMessage::Abort { details, reason }),
        (dict(), uri()).prop_map(|(details, reason)| WampMessage::Goodbye { details, reason }),
        ("[a-z]{1,9}", dict()).prop_map(|(method, extra)| WampMessage::Challenge { method, extra }),
        ("[^\u{0}]{0,20}", dict())
            .prop_map(|(signature, extra)| WampMessage::Authenticate { signature, extra }),
        (prop::sample::select(vec![16u64, 32, 34, 48, 64, 66, 68]), id(), dict(), uri(), payload()).prop_map(
            |(request_type, request, details, error, payload)| WampMessage::Error {
                request_type,
                request,
                details,
                error,
                payload
            }
        ),
        (id(), dict(), uri(), payload()).prop_map(|(request, options, topic, payload)| {
            WampMessage::Publish { request, options, topic: topic.into(), payload }
        }),
        (id(), id()).prop_map(|(request, publication)| WampMessage::Published { request, publication }),
        (id(), dict(), uri()).prop_map(|(request, options, topic)| WampMessage::Subscribe {
            request,
            options,
            topic
        }),
        (id(), id()).prop_map(|(request, subscription)| WampMessage::Subscribed { request, subscription }),
        (id(), id()).prop_map(|(request, subscription)| WampMessage::Unsubscribe { request, subscription }),
        id().prop_map(|request| WampMessage::Unsubscribed { request }),
        (id(), id(), dict(), payload()).prop_map(|(subscription, publication, details, payload)| {
            WampMessage::Event { subscription, publication, details, payload }
        }),
        id().prop_map(|publication| WampMessage::EventReceived { publication }),
        (id(), dict(), uri(), payload()).prop_map(|(request, options, procedure, payload)| {
            WampMessage::Call { request, options, procedure: procedure.into(), payload }
        }),
        (id(), dict()).prop_map(|(request, options)| WampMessage::Cancel { request, options }),
        (id(), dict(), payload()).prop_map(|(request, details, payload)| WampMessage::Result {
            request,
            details,
            payload
        }),
        (id(), dict(), uri()).prop_map(|(request, options, procedure)| WampMessage::Register {
            request,
            options,
            procedure
        }),
        (id(), id()).prop_map(|(request, registration)| WampMessage::Registered { request, registration }),
        (id(), id()).prop_map(|(request, registration)| WampMessage::Unregister { request, registration }),
        id().prop_map(|request| WampMessage::Unregistered { request }),
        (id(), id(), dict(), payload()).prop_map(|(request, registration, details, payload)| {
            WampMessage::Invocation { request, registration, details, payload }
        }),
        (id(), dict()).prop_map(|(request, options)| WampMessage::Interrupt { request, options }),
        (id(), dict(), payload()).prop_map(|(request, options, payload)| WampMessage::Yield {
            request,
            options,
            payload
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn messages_round_trip(msg in message()) {
        for s in Serializer::ALL {
            let bytes = s.encode(&msg).unwrap();
            prop_assert_eq!(s.decode(&bytes).unwrap(), msg.clone(), "through {}", s);
        }
    }

    #[test]
    fn messages_kept_as_bytes_forward_unchanged_and_convert_to_the_other_serializer(msg in message()) {
        for from in Serializer::ALL {
            let bytes = from.encode(&msg).unwrap();
            let shared = from.decode_shared(&bytes::Bytes::from(bytes.clone())).unwrap();
            prop_assert_eq!(&shared, &msg, "decoded from {}", from);
            for to in Serializer::ALL {
                let forwarded = to.encode(&shared).unwrap();
                prop_assert_eq!(to.decode(&forwarded).unwrap(), msg.clone(), "{} to {}", from, to);
                if to == from {
                    prop_assert_eq!(&forwarded, &bytes, "byte for byte through {}", from);
                }
            }
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        for s in Serializer::ALL {
            let _ = s.decode(&bytes);
            let _ = s.decode_shared(&bytes::Bytes::from(bytes.clone()));
        }
    }

    #[test]
    fn decoding_mutated_messages_never_panics(msg in message(), flip in any::<prop::sample::Index>(), byte in any::<u8>()) {
        for s in Serializer::ALL {
            let mut bytes = s.encode(&msg).unwrap();
            let i = flip.index(bytes.len());
            bytes[i] = byte;
            let _ = s.decode(&bytes);
            let _ = s.decode_shared(&bytes::Bytes::from(bytes.clone()));
        }
    }
}
