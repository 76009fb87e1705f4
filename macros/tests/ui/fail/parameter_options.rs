// Misused parameter options: each gets an error at its place.
use std::collections::HashMap;

use wamp::prelude::*;

#[derive(Default)]
struct Search;

#[wamp::component]
impl Search {
    #[wamp::procedure("com.example.twice")]
    fn twice(&self, #[wamp(kwargs)] a: HashMap<String, i64>, #[wamp(kwargs)] b: HashMap<String, i64>) {
        let _ = (a, b);
    }

    #[wamp::procedure("com.example.borrowed")]
    fn borrowed(&self, #[wamp(kwargs)] a: &HashMap<String, i64>) {
        let _ = a;
    }

    #[wamp::procedure("com.example.named")]
    fn named(&self, #[wamp(kwargs, name = "all")] a: HashMap<String, i64>) {
        let _ = a;
    }

    #[wamp::procedure("com.example.empty")]
    fn empty(&self, #[wamp(name = "")] a: i64) {
        let _ = a;
    }

    #[wamp::procedure("com.example.same_name")]
    fn same_name(&self, #[wamp(name = "x")] a: i64, x: i64) {
        let _ = (a, x);
    }

    #[wamp::procedure("com.example.renamed_alike")]
    fn renamed_alike(&self, first: i64, #[wamp(name = "first")] second: i64) {
        let _ = (first, second);
    }

    #[wamp::procedure("com.example.unknown")]
    fn unknown(&self, #[wamp(rename = "x")] a: i64) {
        let _ = a;
    }

    #[wamp::procedure("com.example.details")]
    fn details(&self, #[wamp(kwargs)] details: CallDetails) {
        let _ = details;
    }

    #[wamp::subscribe("com.example.data")]
    fn data(&self, #[wamp(name = "limit")] limit: Data<u32>) {
        let _ = limit;
    }

    async fn on_join(&self, #[wamp(name = "s")] session: &Session) -> Result<(), Error> {
        let _ = session;
        Ok(())
    }

    fn helper(&self, #[wamp(name = "n")] n: i64) -> i64 {
        n
    }

    #[wamp::procedure("com.example.kwargs_twice")]
    fn kwargs_twice(&self, #[wamp(kwargs)] a: HashMap<String, i64>, b: Kwargs<HashMap<String, i64>>) {
        let _ = (a, b);
    }

    #[wamp::procedure("com.example.kwargs_borrowed")]
    fn kwargs_borrowed(&self, a: &Kwargs<HashMap<String, i64>>) {
        let _ = a;
    }
}

fn main() {}
