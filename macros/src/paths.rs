//! Where the `wamp` facade crate is, seen from the crate being compiled.

use proc_macro2::{Span, TokenStream};
use proc_macro_crate::{crate_name, FoundCrate};
use quote::quote;
use syn::Ident;

/// The path of the `wamp` crate: `crate` inside its own library, `::name`
/// where it is a dependency (renamed or not), `::wamp` if it cannot be
/// told.
pub(crate) fn facade() -> TokenStream {
    match crate_name("wamp") {
        Ok(FoundCrate::Itself) if compiling_the_library() => quote!(crate),
        Ok(FoundCrate::Itself) | Err(_) => quote!(::wamp),
        Ok(FoundCrate::Name(name)) => {
            let name = Ident::new(&name, Span::call_site());
            quote!(::#name)
        }
    }
}

/// `proc-macro-crate` says `Itself` for every target of the `wamp`
/// package but its integration tests; its doctests, examples and binaries
/// see it as the extern crate `wamp`.
fn compiling_the_library() -> bool {
    let doctest = std::env::var_os("UNSTABLE_RUSTDOC_TEST_PATH").is_some();
    let other_target = std::env::var("CARGO_CRATE_NAME").is_ok_and(|name| name != "wamp");
    !doctest && !other_target
}
