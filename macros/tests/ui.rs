//! Compile-time behaviour of the component macros: what must compile, and
//! what must fail with a helpful message at the right place.
//!
//! Refresh the expected messages with
//! `TRYBUILD=overwrite cargo test -p wamp-macros --test ui`, then read
//! every changed `.stderr` before committing it.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
