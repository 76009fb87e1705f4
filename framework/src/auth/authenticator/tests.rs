use ring::signature::{Ed25519KeyPair, KeyPair as _};

use super::*;
use crate::auth::SecretSource;

fn principal(authid: &str, method: AuthMethod, secret: &str) -> Principal {
    Principal {
        authid: authid.into(),
        method,
        role: "full".into(),
        secret: if secret.is_empty() { SecretSource::default() } else { SecretSource::inline(secret) },
        salt: None,
        iterations: None,
        keylen: None,
        authorized_keys: Vec::new(),
    }
}

fn key_pair(seed: u8) -> (Ed25519KeyPair, String) {
    let pair = Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).unwrap();
    let public = hex::encode(pair.public_key().as_ref());
    (pair, public)
}

fn realm() -> RealmConfig {
    let salted = Principal {
        salt: Some("interop-salt".into()),
        iterations: Some(100),
        keylen: Some(32),
        ..principal("cra-salted", AuthMethod::Wampcra, "salted-secret")
    };
    let signer = Principal {
        authorized_keys: vec![key_pair(1).1],
        ..principal("cs-user", AuthMethod::Cryptosign, "")
    };
    RealmConfig {
        name: "authrealm".into(),
        authmethods: vec![AuthMethod::Ticket, AuthMethod::Wampcra, AuthMethod::Cryptosign],
        principals: vec![
            principal("ticket-user", AuthMethod::Ticket, "ticket-secret"),
            principal("cra-user", AuthMethod::Wampcra, "cra-secret"),
            salted,
            signer,
        ],
        ..RealmConfig::named("authrealm")
    }
}

fn hello(methods: &[&str], authid: Option<&str>, authextra: Option<Dict>) -> Dict {
    let mut details = Dict::new();
    details.insert("authmethods".into(), Value::List(methods.iter().map(|m| Value::from(*m)).collect()));
    if let Some(authid) = authid {
        details.insert("authid".into(), authid.into());
    }
    if let Some(extra) = authextra {
        details.insert("authextra".into(), Value::Dict(extra));
    }
    details
}

fn challenge(next: Next) -> (String, Dict, Pending) {
    match next {
        Next::Challenge { challenge: WampMessage::Challenge { method, extra }, pending } => {
            (method, extra, *pending)
        }
        other => panic!("expected a challenge, got {other:?}"),
    }
}

fn text<'a>(extra: &'a Dict, key: &str) -> &'a str {
    extra.get(key).and_then(Value::as_str).unwrap()
}

#[test]
fn a_ticket_is_accepted_only_when_it_matches() {
    let auth = Authenticator::from_config(&realm()).unwrap();
    let (method, _, pending) = challenge(auth.hello(&hello(&["ticket"], Some("ticket-user"), None)).unwrap());
    assert_eq!(method, "ticket");
    let identity = pending.verify("ticket-secret").unwrap();
    assert_eq!(
        (identity.authid.as_str(), identity.authrole.as_str(), identity.authmethod.as_str()),
        ("ticket-user", "full", "ticket")
    );
    assert_eq!(identity.authprovider, STATIC_PROVIDER);
    for (authid, ticket) in [("ticket-user", "wrong"), ("ticket-user", ""), ("nobody", "ticket-secret")] {
        let (_, _, pending) = challenge(auth.hello(&hello(&["ticket"], Some(authid), None)).unwrap());
        assert_eq!(pending.verify(ticket), Err(AuthError::Failed), "{authid}/{ticket}");
    }
    assert_eq!(
        auth.hello(&hello(&["ticket"], None, None)).unwrap_err(),
        AuthError::MissingAuthid(AuthMethod::Ticket)
    );
}

#[test]
fn wampcra_plain_and_salted() {
    let auth = Authenticator::from_config(&realm()).unwrap();
    let (method, extra, pending) =
        challenge(auth.hello(&hello(&["wampcra"], Some("cra-user"), None)).unwrap());
    assert_eq!(method, "wampcra");
    assert!(!extra.contains_key("salt"));
    let signed = wampcra::sign(&wampcra::signing_key("cra-secret", None), text(&extra, "challenge"));
    assert_eq!(pending.verify(&signed).unwrap().authid, "cra-user");

    let (_, extra, pending) = challenge(auth.hello(&hello(&["wampcra"], Some("cra-salted"), None)).unwrap());
    assert_eq!(text(&extra, "salt"), "interop-salt");
    assert_eq!(extra.get("iterations").and_then(Value::as_u64), Some(100));
    assert_eq!(extra.get("keylen").and_then(Value::as_u64), Some(32));
    let salting =
        Salting { salt: "interop-salt".into(), iterations: NonZeroU32::new(100).unwrap(), keylen: 32 };
    let key = wampcra::signing_key("salted-secret", Some(&salting));
    let challenge_text = text(&extra, "challenge").to_owned();
    assert!(pending.verify(&wampcra::sign(&key, &challenge_text)).is_ok());

    // The unsalted secret does not do for the salted principal.
    let (_, extra, pending) = challenge(auth.hello(&hello(&["wampcra"], Some("cra-salted"), None)).unwrap());
    let wrong = wampcra::sign(&wampcra::signing_key("salted-secret", None), text(&extra, "challenge"));
    assert_eq!(pending.verify(&wrong), Err(AuthError::Failed));
    // An unknown user is challenged like a known one, and fails.
    let (_, extra, pending) = challenge(auth.hello(&hello(&["wampcra"], Some("nobody"), None)).unwrap());
    let guess = wampcra::sign(&wampcra::signing_key("cra-secret", None), text(&extra, "challenge"));
    assert_eq!(pending.verify(&guess), Err(AuthError::Failed));
}

#[test]
fn cryptosign_signatures_of_the_challenge_by_an_authorized_key() {
    let auth = Authenticator::from_config(&realm()).unwrap();
    let (pair, public) = key_pair(1);
    let extra = Dict::from([("pubkey".to_owned(), Value::from(public.as_str()))]);
    for authid in [Some("cs-user"), None] {
        let (method, challenge_extra, pending) =
            challenge(auth.hello(&hello(&["cryptosign"], authid, Some(extra.clone()))).unwrap());
        assert_eq!(method, "cryptosign");
        let bytes = hex::decode(text(&challenge_extra, "challenge")).unwrap();
        let identity = pending.verify(&hex::encode(pair.sign(&bytes).as_ref())).unwrap();
        assert_eq!((identity.authid.as_str(), identity.authmethod.as_str()), ("cs-user", "cryptosign"));
    }
    // A key nobody authorized, even with a valid signature.
    let (stranger, stranger_public) = key_pair(2);
    let extra = Dict::from([("pubkey".to_owned(), Value::from(stranger_public.as_str()))]);
    let (_, challenge_extra, pending) =
        challenge(auth.hello(&hello(&["cryptosign"], Some("cs-user"), Some(extra))).unwrap());
    let bytes = hex::decode(text(&challenge_extra, "challenge")).unwrap();
    assert_eq!(pending.verify(&hex::encode(stranger.sign(&bytes).as_ref())), Err(AuthError::Failed));
    // No key, or channel binding: refused at HELLO with a reason.
    assert!(matches!(
        auth.hello(&hello(&["cryptosign"], Some("cs-user"), None)),
        Err(AuthError::Unsupported(_))
    ));
    let binding = Dict::from([
        ("pubkey".to_owned(), Value::from(public.as_str())),
        ("channel_binding".to_owned(), Value::from("tls-unique")),
    ]);
    assert!(matches!(
        auth.hello(&hello(&["cryptosign"], Some("cs-user"), Some(binding))),
        Err(AuthError::Unsupported(_))
    ));
}

#[test]
fn methods_are_tried_in_the_clients_order() {
    let auth = Authenticator::from_config(&realm()).unwrap();
    let (method, ..) =
        challenge(auth.hello(&hello(&["anonymous", "wampcra", "ticket"], Some("x"), None)).unwrap());
    assert_eq!(method, "wampcra");
    let err = auth.hello(&hello(&["anonymous"], None, None)).unwrap_err();
    assert_eq!(err.uri(), crate::protocol::errors::NO_AUTH_METHOD);
    assert!(err.to_string().contains("ticket, wampcra, cryptosign"), "{err}");
    assert_eq!(auth.hello(&Dict::new()).unwrap_err().uri(), crate::protocol::errors::NO_AUTH_METHOD);
    let open = Authenticator::anonymous();
    match open.hello(&Dict::new()).unwrap() {
        Next::Welcome(identity) => assert_eq!(identity.authrole, "anonymous"),
        other => panic!("{other:?}"),
    }
    let bad = Dict::from([("authmethods".to_owned(), Value::from("ticket"))]);
    assert_eq!(open.hello(&bad).unwrap_err(), AuthError::MalformedMethods);
}

#[test]
fn invalid_settings_are_explained() {
    let check = |change: &dyn Fn(&mut RealmConfig)| {
        let mut config = realm();
        change(&mut config);
        Authenticator::from_config(&config).unwrap_err().to_string()
    };
    assert!(check(&|c| c.authmethods.clear()).contains("authmethods is empty"));
    assert!(check(&|c| c.authmethods = vec![AuthMethod::Ticket]).contains("not in the realm's authmethods"));
    assert!(check(&|c| c.principals[0].secret = SecretSource::default()).contains("exactly one"));
    assert!(
        check(&|c| c.principals[3].authorized_keys = vec!["zz".into()]).contains("not an Ed25519 public key")
    );
    assert!(check(&|c| c.principals[0].salt = Some("s".into())).contains("are for wampcra"));
    assert!(check(&|c| c.principals[1].iterations = Some(10)).contains("need a salt"));
    assert!(check(&|c| c.principals.push(c.principals[0].clone())).contains("appears twice"));
    let message = check(&|c| c.principals[0].secret = SecretSource::default());
    assert!(message.contains("'ticket-user'") && message.contains("authrealm"), "{message}");
}

#[test]
fn unknown_users_are_asked_about_when_a_dynamic_authenticator_is_configured() {
    let config = RealmConfig {
        authenticator: Some("com.example.authenticate".into()),
        authenticator_realm: Some("realm1".into()),
        ..realm()
    };
    let auth = Authenticator::from_config(&config).unwrap();
    let (query, resume) = match auth.hello(&hello(&["wampcra"], Some("dyn"), None)).unwrap() {
        Next::Ask { query, resume } => (query, resume),
        other => panic!("expected a question, got {other:?}"),
    };
    assert_eq!((query.procedure.as_str(), query.realm.as_str()), ("com.example.authenticate", "realm1"));
    assert_eq!(query.args[0], Value::from("authrealm"));
    assert_eq!(query.args[1], Value::from("dyn"));
    let answer = Value::Dict(Dict::from([
        ("secret".to_owned(), Value::from("s")),
        ("role".to_owned(), Value::from("r")),
        ("salt".to_owned(), Value::from("salt")),
        ("iterations".to_owned(), Value::from(10)),
    ]));
    let (_, extra, pending) = challenge(auth.resume(resume, &answer).unwrap());
    assert_eq!(text(&extra, "salt"), "salt");
    let salting = Salting { salt: "salt".into(), iterations: NonZeroU32::new(10).unwrap(), keylen: 32 };
    let signed = wampcra::sign(&wampcra::signing_key("s", Some(&salting)), text(&extra, "challenge"));
    let identity = pending.verify(&signed).unwrap();
    assert_eq!((identity.authrole.as_str(), identity.authprovider.as_str()), ("r", DYNAMIC_PROVIDER));
    // Known principals are not asked about; a ticket is asked about with
    // the ticket itself.
    assert!(matches!(
        auth.hello(&hello(&["wampcra"], Some("cra-user"), None)).unwrap(),
        Next::Challenge { .. }
    ));
    let (_, _, pending) = challenge(auth.hello(&hello(&["ticket"], Some("dyn"), None)).unwrap());
    let query = pending.query("the-ticket").unwrap();
    assert_eq!(query.args[2].as_dict().unwrap().get("ticket"), Some(&Value::from("the-ticket")));
    assert_eq!(pending.accept(&Value::from("caller")).unwrap().authrole, "caller");
    // An answer without a role refuses.
    let (_, _, pending) = challenge(auth.hello(&hello(&["ticket"], Some("dyn"), None)).unwrap());
    assert_eq!(pending.accept(&Value::from(5)), Err(AuthError::Failed));
    let (_, _, known) = challenge(auth.hello(&hello(&["ticket"], Some("ticket-user"), None)).unwrap());
    assert!(known.query("ticket-secret").is_none());
}
