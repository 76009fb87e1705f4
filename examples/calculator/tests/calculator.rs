//! The calculator on an embedded router, called over WebSocket: through its
//! typed client, and with raw positional and keyword arguments as any WAMP
//! peer sends them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail by panicking

use calculator::{CalcError, CalculatorClient, PowerOptions, Stats};
use wamp::client::{Arguments, CallOptions, Client, ConnectOptions, Kwargs};
use wamp::component::{HostConfig, RunningHost};

async fn start() -> (RunningHost, Client) {
    let mut config = HostConfig::default();
    config.router.listen = "127.0.0.1:0".into();
    let running = calculator::add_components(wamp::Host::new(config)).start().unwrap();
    let server = running.bind().expect("an embedded router").unwrap();
    let url = server.url();
    actix_web::rt::spawn(server.run());
    running.joined().await.unwrap();
    let client = Client::connect(ConnectOptions::new(url, "realm1")).await.unwrap();
    (running, client)
}

async fn call(client: &Client, procedure: &str, args: Arguments) -> Result<Arguments, wamp::Error> {
    client.call_with(format!("com.example.calculator.{procedure}"), args, CallOptions::default()).await
}

#[actix_web::test]
async fn the_typed_client_gets_results_and_decodes_errors() {
    let (running, client) = start().await;
    let calc = CalculatorClient::new(client);
    assert_eq!(calc.add(2.0, 3.5).await.unwrap(), 5.5);
    assert_eq!(calc.divide(1.0, 4.0).await.unwrap(), 0.25);
    let error = calc.divide(1.0, 0.0).await.unwrap_err();
    assert_eq!(error.uri, "com.example.calculator.error.division_by_zero");
    assert_eq!(error.decode::<CalcError>(), Some(CalcError::DivisionByZero));

    assert_eq!(calc.round(1.23456, Some(2)).await.unwrap(), 1.23);
    assert_eq!(calc.round(2.5, None).await.unwrap(), 3.0, "digits is optional");
    let error = calc.round(1.0, Some(40)).await.unwrap_err();
    assert_eq!(error.decode::<CalcError>(), Some(CalcError::TooManyDigits { asked: 40, max: 15 }));

    let options = PowerOptions { exponent: 10, modulo: Some(1000) };
    assert_eq!(calc.power(2, options).await.unwrap(), 24);

    let Kwargs(stats) = calc.stats(vec![4.0, 1.0, 7.0]).await.unwrap();
    assert_eq!(stats, Stats { count: 3, mean: 4.0, min: 1.0, max: 7.0 });
    running.shutdown().await;
}

#[actix_web::test]
async fn positional_and_keyword_arguments_are_both_accepted() {
    let (running, client) = start().await;
    let positional = call(&client, "add", Arguments::new().arg(2).unwrap().arg(3).unwrap()).await.unwrap();
    assert_eq!(positional.get::<f64>(0).unwrap(), 5.0);
    let keywords = Arguments::new().kwarg("a", 2).unwrap().kwarg("b", 3).unwrap();
    assert_eq!(call(&client, "add", keywords).await.unwrap().get::<f64>(0).unwrap(), 5.0);
    let mixed = Arguments::new().arg(2).unwrap().kwarg("b", 3).unwrap();
    assert_eq!(call(&client, "add", mixed).await.unwrap().get::<f64>(0).unwrap(), 5.0);

    // `from` on the wire, whatever the Rust parameter is called.
    let inches = Arguments::new().arg(254).unwrap().kwarg("from", "cm").unwrap().kwarg("to", "in").unwrap();
    let converted: f64 = call(&client, "convert", inches).await.unwrap().get(0).unwrap();
    assert!((converted - 100.0).abs() < 1e-9, "{converted}");
    let parsecs = Arguments::new().arg(1).unwrap().kwarg("from", "pc").unwrap().kwarg("to", "m").unwrap();
    let error = call(&client, "convert", parsecs).await.unwrap_err();
    assert_eq!(error.decode::<CalcError>(), Some(CalcError::UnknownUnit("pc".into())));

    // Keyword arguments into a struct, with defaults; unknown ones refused.
    let squared = call(&client, "power", Arguments::new().arg(7).unwrap()).await.unwrap();
    assert_eq!(squared.get::<u64>(0).unwrap(), 49);
    let typo = Arguments::new().arg(7).unwrap().kwarg("exponnent", 3).unwrap();
    let error = call(&client, "power", typo).await.unwrap_err();
    assert_eq!(error.uri, "wamp.error.invalid_argument");

    // Missing and mistyped arguments name the parameter.
    let error = call(&client, "add", Arguments::new().arg(1).unwrap()).await.unwrap_err();
    assert_eq!(error.uri, "wamp.error.invalid_argument");
    assert!(error.to_string().contains('b'), "{error}");
    running.shutdown().await;
}

#[actix_web::test]
async fn a_result_may_be_keyword_arguments() {
    let (running, client) = start().await;
    let numbers = Arguments::new().arg([4.0, 1.0, 7.0]).unwrap();
    let stats = call(&client, "stats", numbers).await.unwrap();
    assert_eq!(stats.get_kw::<usize>("count").unwrap(), 3);
    assert_eq!(stats.get_kw::<f64>("mean").unwrap(), 4.0);
    assert_eq!(stats.get_kw::<f64>("min").unwrap(), 1.0);
    assert_eq!(stats.get_kw::<f64>("max").unwrap(), 7.0);
    assert!(stats.args.is_empty(), "keyword arguments only");
    let error = call(&client, "stats", Arguments::new().arg(Vec::<f64>::new()).unwrap()).await.unwrap_err();
    assert_eq!(error.decode::<CalcError>(), Some(CalcError::NoNumbers));
    assert!(error.to_string().contains("at least one number"), "{error}");
    running.shutdown().await;
}
