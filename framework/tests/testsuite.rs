//! Decodes every JSON and MessagePack sample of the WAMP specification's
//! conformance vectors (`../shared/wamp-testsuite/singlemessage`), compares
//! the result with the vector's `expected_attributes`, and round-trips it.
//!
//! Samples for serializers this crate does not implement (CBOR, UBJSON,
//! FlatBuffers) are skipped by name and counted; nothing else is skipped.
//!
//! The vectors' options- and details-validation samples (a message, and
//! whether its receiver must take it for a protocol violation) are fed to
//! the router's realm core (requests) or the client core (EVENT), which
//! must end the session exactly for the invalid ones.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wamp::internals::Identity;
use wamp::internals::{ClientCore, ClientEffect, Effect, Member, Outbox, RealmCore, RealmSettings};
use wamp::protocol::roles::ClientRoles;
use wamp::protocol::{errors, Dict, Payload, Serializer, Value, WampMessage};

const UNIMPLEMENTED_SERIALIZERS: &[&str] = &["cbor", "ubjson", "flatbuffers"];

fn suite_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/wamp-testsuite/singlemessage");
    assert!(
        dir.is_dir(),
        "the WAMP test vectors are expected at {} (the `shared` folder beside the checkout)",
        dir.display()
    );
    dir
}

fn vector_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            vector_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn args_value(p: &Payload) -> (Value, Value, Value) {
    if let Payload::Transparent(b) = p {
        return (Value::Null, Value::Null, Value::Bytes(b.clone()));
    }
    // Values, or arguments kept as bytes by a router's decoding.
    let (args, kwargs) = p.clone().into_parts();
    (
        if args.is_empty() { Value::Null } else { Value::List(args) },
        if kwargs.is_empty() { Value::Null } else { Value::Dict(kwargs) },
        Value::Null,
    )
}

/// The message's attributes, named as the test vectors name them.
fn attributes(msg: &WampMessage) -> BTreeMap<&'static str, Value> {
    let mut a = BTreeMap::new();
    a.insert("message_type", Value::from(msg.code()));
    let payload = |a: &mut BTreeMap<_, _>, p: &Payload| {
        let (args, kwargs, opaque) = args_value(p);
        a.insert("args", args);
        a.insert("kwargs", kwargs);
        a.insert("payload", opaque);
    };
    let d = |d: &Dict| Value::Dict(d.clone());
    match msg {
        WampMessage::Hello { realm, details } => {
            a.insert("realm", realm.as_str().into());
            a.insert("roles", details.get("roles").cloned().unwrap_or_default());
            a.insert("details", d(details));
        }
        WampMessage::Welcome { session, details } => {
            a.insert("session_id", (*session).into());
            a.insert("roles", details.get("roles").cloned().unwrap_or_default());
            a.insert("details", d(details));
        }
        WampMessage::Abort { details, reason } | WampMessage::Goodbye { details, reason } => {
            a.insert("details", d(details));
            a.insert("reason", reason.as_str().into());
        }
        WampMessage::Challenge { method, extra } => {
            a.insert("method", method.as_str().into());
            a.insert("extra", d(extra));
        }
        WampMessage::Authenticate { signature, extra } => {
            a.insert("signature", signature.as_str().into());
            a.insert("extra", d(extra));
        }
        WampMessage::Error { request_type, request, details, error, payload: p } => {
            a.insert("request_type", (*request_type).into());
            a.insert("request_id", (*request).into());
            a.insert("details", d(details));
            a.insert("error", error.as_str().into());
            payload(&mut a, p);
        }
        WampMessage::Publish { request, options, topic, payload: p } => {
            a.insert("request_id", (*request).into());
            a.insert("options", d(options));
            a.insert("topic", topic.as_ref().into());
            payload(&mut a, p);
        }
        WampMessage::Published { request, publication } => {
            a.insert("request_id", (*request).into());
            a.insert("publication_id", (*publication).into());
        }
        WampMessage::Subscribe { request, options, topic } => {
            a.insert("request_id", (*request).into());
            a.insert("options", d(options));
            a.insert("topic", topic.as_str().into());
        }
        WampMessage::Subscribed { request, subscription }
        | WampMessage::Unsubscribe { request, subscription } => {
            a.insert("request_id", (*request).into());
            a.insert("subscription_id", (*subscription).into());
        }
        WampMessage::Unsubscribed { request } | WampMessage::Unregistered { request } => {
            a.insert("request_id", (*request).into());
        }
        WampMessage::Event { subscription, publication, details, payload: p } => {
            a.insert("subscription", (*subscription).into());
            a.insert("publication", (*publication).into());
            a.insert("details", d(details));
            payload(&mut a, p);
        }
        WampMessage::EventReceived { publication } => {
            a.insert("publication_id", (*publication).into());
        }
        WampMessage::Call { request, options, procedure, payload: p } => {
            a.insert("request_id", (*request).into());
            a.insert("options", d(options));
            a.insert("procedure", procedure.as_ref().into());
            payload(&mut a, p);
        }
        WampMessage::Cancel { request, options } | WampMessage::Interrupt { request, options } => {
            a.insert("request_id", (*request).into());
            a.insert("options", d(options));
        }
        WampMessage::Result { request, details, payload: p } => {
            a.insert("request_id", (*request).into());
            a.insert("details", d(details));
            payload(&mut a, p);
        }
        WampMessage::Register { request, options, procedure } => {
            a.insert("request_id", (*request).into());
            a.insert("options", d(options));
            a.insert("procedure", procedure.as_str().into());
        }
        WampMessage::Registered { request, registration }
        | WampMessage::Unregister { request, registration } => {
            a.insert("request_id", (*request).into());
            a.insert("registration_id", (*registration).into());
        }
        WampMessage::Invocation { request, registration, details, payload: p } => {
            a.insert("request_id", (*request).into());
            a.insert("registration_id", (*registration).into());
            a.insert("details", d(details));
            payload(&mut a, p);
        }
        WampMessage::Yield { request, options, payload: p } => {
            a.insert("request_id", (*request).into());
            a.insert("options", d(options));
            payload(&mut a, p);
        }
        other => panic!("no attribute mapping for {}", other.name()),
    }
    a
}

fn check(file: &str, desc: &str, serializer: Serializer, bytes: &[u8], expected: &Dict) {
    let ctx = format!("{file} / {desc} / {}", serializer.name());
    let msg = serializer.decode(bytes).unwrap_or_else(|e| panic!("{ctx}: decode failed: {e}"));
    // A router's decoding, which keeps arguments as bytes, reads the same.
    let shared = serializer
        .decode_shared(&bytes::Bytes::copy_from_slice(bytes))
        .unwrap_or_else(|e| panic!("{ctx}: shared decode failed: {e}"));
    assert_eq!(attributes(&shared), attributes(&msg), "{ctx}: shared decoding");
    let attrs = attributes(&msg);
    for (key, want) in expected {
        let got = attrs.get(key.as_str()).unwrap_or_else(|| panic!("{ctx}: unknown attribute {key}"));
        let want = match (key.as_str(), want) {
            ("payload", Value::String(h)) => Value::Bytes(hex(h)),
            _ => want.clone(),
        };
        assert_eq!(got, &want, "{ctx}: attribute {key}");
    }
    for s in Serializer::ALL {
        let again = s.encode(&msg).unwrap_or_else(|e| panic!("{ctx}: encode as {s}: {e}"));
        let back = s.decode(&again).unwrap_or_else(|e| panic!("{ctx}: decode re-encoded {s}: {e}"));
        assert_eq!(back, msg, "{ctx}: round trip through {s}");
    }
}

fn samples() -> Vec<(String, Dict)> {
    let mut files = Vec::new();
    vector_files(&suite_dir(), &mut files);
    files.sort();
    let mut all = Vec::new();
    for path in &files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let doc = Serializer::Json.decode_value(&std::fs::read(path).unwrap()).unwrap();
        let samples = doc.as_dict().and_then(|d| d.get("samples")).and_then(Value::as_list).unwrap();
        for sample in samples {
            all.push((file.clone(), sample.as_dict().unwrap().clone()));
        }
    }
    assert!(files.len() >= 20, "too few vector files: {}", files.len());
    all
}

/// How the receiver of `message` took it: `Err` with the explanation if it
/// ended the session for a protocol violation.
fn receive(message: WampMessage) -> Result<(), String> {
    match message {
        WampMessage::Event { .. } => {
            let mut core = ClientCore::<(), ()>::new();
            let mut out = Vec::new();
            let effect = core.receive(message, &mut out);
            out.extend(effect);
            match out.as_slice() {
                [ClientEffect::Violation(text)] => Err(text.clone()),
                _ => Ok(()),
            }
        }
        request => {
            let mut realm = RealmCore::new("realm1", RealmSettings::default());
            let info =
                Member { identity: Identity::anonymous(), roles: ClientRoles::BASIC, in_process: false };
            let mut out = Outbox::new();
            let session = realm.join(info, &mut out);
            realm.handle(session, request, &mut out);
            let closed = out.drain().find_map(|effect| match effect {
                Effect::Close { to, reason, message } if to == session => Some((reason, message)),
                _ => None,
            });
            match closed {
                Some((reason, text)) => {
                    assert_eq!(reason, errors::PROTOCOL_VIOLATION, "{text}");
                    assert!(!realm.contains(session));
                    Err(text)
                }
                None => {
                    assert!(realm.contains(session), "the session left without a close");
                    Ok(())
                }
            }
        }
    }
}

#[test]
fn options_and_details_samples_end_the_session_exactly_when_invalid() {
    let mut checked = 0;
    for (file, sample) in samples() {
        let Some(wmsg) = sample.get("wmsg").and_then(Value::as_list) else { continue };
        let desc = sample.get("description").and_then(Value::as_str).unwrap_or("?");
        let mut list = wmsg.clone();
        // The vectors write an opaque (payload passthru) payload as hex.
        let passthru = list.iter().any(|v| v.as_dict().is_some_and(|d| d.contains_key("enc_algo")));
        if let (true, Some(Value::String(text))) = (passthru, list.last()) {
            let bytes = hex(text);
            *list.last_mut().unwrap() = Value::Bytes(bytes);
        }
        let message = WampMessage::from_list(list).unwrap_or_else(|e| panic!("{file}: {desc}: {e}"));
        let outcome = receive(message);
        match sample.get("expected_error").and_then(Value::as_dict) {
            None => assert!(outcome.is_ok(), "{file}: {desc}: taken for a violation: {outcome:?}"),
            Some(expected) => {
                assert_eq!(
                    expected.get("type").and_then(Value::as_str),
                    Some("protocol_violation"),
                    "{desc}"
                );
                let contains = expected.get("contains").and_then(Value::as_str).unwrap();
                match outcome {
                    Err(text) => {
                        assert!(text.contains(contains), "{file}: {desc}: '{text}' names no {contains}")
                    }
                    Ok(()) => panic!("{file}: {desc}: accepted"),
                }
            }
        }
        checked += 1;
    }
    assert_eq!(checked, 67, "validation samples");
}

#[test]
fn every_json_and_msgpack_sample_decodes_and_round_trips() {
    let (mut checked, mut skipped) = (0, 0);
    for (file, sample) in samples() {
        let desc = sample.get("description").and_then(Value::as_str).unwrap_or("?");
        let (Some(sers), Some(expected)) = (
            sample.get("serializers").and_then(Value::as_dict),
            sample.get("expected_attributes").and_then(Value::as_dict),
        ) else {
            continue; // a validation sample, checked by the test above
        };
        for (name, variants) in sers {
            let serializer = match name.as_str() {
                "json" => Serializer::Json,
                "msgpack" => Serializer::MsgPack,
                other if UNIMPLEMENTED_SERIALIZERS.contains(&other) => {
                    skipped += 1;
                    continue;
                }
                other => panic!("{file}: unexpected serializer {other}"),
            };
            for v in variants.as_list().unwrap() {
                let v = v.as_dict().unwrap();
                let bytes = hex(v.get("bytes_hex").and_then(Value::as_str).unwrap());
                check(&file, desc, serializer, &bytes, expected);
                checked += 1;
            }
        }
    }
    eprintln!("checked {checked} samples, skipped {skipped} for unimplemented serializers");
    assert!(checked >= 60, "too few samples found: {checked}");
}
