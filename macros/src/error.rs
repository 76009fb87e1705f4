//! `#[derive(wamp::Error)]`: an enum whose variants are an application's
//! error URIs. Each variant converts to a `wamp::Error` for the wire (tuple
//! fields become the positional arguments, named fields the keyword
//! arguments) and back, so a callee returns the enum and a caller matches
//! on it.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr};

use crate::handler::respan;
use crate::{paths, uri};

/// The settings of one `#[wamp(...)]` attribute.
#[derive(Default)]
struct Settings {
    prefix: Option<LitStr>,
    uri: Option<LitStr>,
    message: Option<LitStr>,
}

/// Reads the `#[wamp(...)]` attributes among `attrs`, taking only the
/// options in `allowed`.
fn settings(attrs: &[Attribute], allowed: &[&str]) -> syn::Result<Settings> {
    let mut found = Settings::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("wamp")) {
        attr.parse_nested_meta(|meta| {
            let name = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
            if !allowed.contains(&name.as_str()) {
                let expected = allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(" or ");
                return Err(meta.error(format!("unknown option here; expected {expected}")));
            }
            let value: LitStr = meta.value()?.parse()?;
            let slot = match name.as_str() {
                "prefix" => &mut found.prefix,
                "uri" => &mut found.uri,
                _ => &mut found.message,
            };
            if slot.replace(value).is_some() {
                return Err(meta.error(format!("`{name}` is given twice")));
            }
            Ok(())
        })?;
    }
    Ok(found)
}

/// `InsufficientFunds` → `insufficient_funds`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// One variant, read and checked.
struct Variant {
    ident: syn::Ident,
    uri: String,
    message: Option<String>,
    fields: Fields,
}

pub(crate) fn derive(input: DeriveInput) -> syn::Result<TokenStream> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(wamp::Error)] works on an enum: one variant per error URI",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            "a generic error type cannot be derived: name its types",
        ));
    }
    let on_enum = settings(&input.attrs, &["prefix"])?;
    let prefix = match &on_enum.prefix {
        Some(lit) => {
            let value = lit.value();
            uri::check(&value, false)
                .map_err(|p| syn::Error::new(lit.span(), format!("invalid URI prefix `{value}`: {p}")))?;
            Some(value)
        }
        None => None,
    };
    if data.variants.is_empty() {
        return Err(syn::Error::new(input.ident.span(), "an error enum needs at least one variant"));
    }

    let mut variants = Vec::new();
    let mut seen: HashMap<String, syn::Ident> = HashMap::new();
    let mut errors: Vec<syn::Error> = Vec::new();
    for v in &data.variants {
        let own = match settings(&v.attrs, &["uri", "message"]) {
            Ok(own) => own,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let (uri, span) = match (&own.uri, &prefix) {
            (Some(lit), _) => (lit.value(), lit.span()),
            (None, Some(prefix)) => {
                (format!("{prefix}.{}", snake_case(&v.ident.to_string())), v.ident.span())
            }
            (None, None) => {
                errors.push(syn::Error::new(
                    v.ident.span(),
                    format!(
                        "variant `{}` has no error URI: add #[wamp(uri = \"...\")] to it, or \
                         #[wamp(prefix = \"...\")] to the enum to name it after the variant",
                        v.ident
                    ),
                ));
                continue;
            }
        };
        if let Err(problem) = uri::check(&uri, false) {
            errors.push(syn::Error::new(span, format!("invalid error URI `{uri}`: {problem}")));
            continue;
        }
        if let Some(first) = seen.get(&uri) {
            errors.push(syn::Error::new(
                span,
                format!("error URI `{uri}` is also the URI of variant `{first}`"),
            ));
            continue;
        }
        if own.message.is_some() && matches!(v.fields, Fields::Unnamed(_)) {
            errors.push(syn::Error::new(
                own.message.as_ref().map_or(span, LitStr::span),
                "a tuple variant's fields are its positional arguments, so it cannot have a `message`; \
                 name its fields or drop the message",
            ));
            continue;
        }
        seen.insert(uri.clone(), v.ident.clone());
        variants.push(Variant {
            ident: v.ident.clone(),
            uri,
            message: own.message.map(|m| m.value()),
            fields: v.fields.clone(),
        });
    }
    let mut errors = errors.into_iter();
    if let Some(mut first) = errors.next() {
        first.extend(errors);
        return Err(first);
    }

    let krate = paths::facade();
    let private = quote!(#krate::__private);
    let ty = &input.ident;
    let into_arms = variants.iter().map(|v| into_arm(ty, v, &krate, &private));
    let from_arms = variants.iter().map(|v| from_arm(ty, v, &private));
    let uris = variants.iter().map(|v| &v.uri);
    Ok(quote! {
        impl ::core::convert::From<#ty> for #krate::Error {
            fn from(error: #ty) -> Self {
                match error {
                    #(#into_arms)*
                }
            }
        }

        impl #krate::ApplicationError for #ty {
            const URIS: &'static [&'static str] = &[#(#uris),*];

            fn from_error(error: &#krate::Error) -> ::core::option::Option<Self> {
                match error.uri.as_str() {
                    #(#from_arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    })
}

/// The positional arguments of a variant with a message.
fn message_args(v: &Variant, private: &TokenStream) -> TokenStream {
    match &v.message {
        Some(m) => quote!(::std::vec![#private::Value::from(#m)]),
        None => quote!(::std::vec::Vec::new()),
    }
}

fn into_arm(ty: &syn::Ident, v: &Variant, krate: &TokenStream, private: &TokenStream) -> TokenStream {
    let (ident, uri) = (&v.ident, &v.uri);
    match &v.fields {
        Fields::Unit => {
            let args = message_args(v, private);
            quote!(#ty::#ident => #krate::Error::with_payload(#uri, #args, #private::Dict::new()),)
        }
        Fields::Unnamed(fields) => {
            let names: Vec<_> = (0..fields.unnamed.len()).map(|i| format_ident!("field{i}")).collect();
            let values = fields.unnamed.iter().zip(&names).map(|(f, name)| {
                let private = respan(private, f.ty.span());
                let name = syn::Ident::new(&name.to_string(), f.ty.span());
                quote_spanned!(f.ty.span()=> #private::to_arg(&#name))
            });
            quote! {
                #ty::#ident(#(#names),*) => {
                    #krate::Error::with_payload(#uri, ::std::vec![#(#values),*], #private::Dict::new())
                }
            }
        }
        Fields::Named(fields) => {
            let args = message_args(v, private);
            let names: Vec<_> = fields.named.iter().filter_map(|f| f.ident.clone()).collect();
            let inserts = fields.named.iter().zip(&names).map(|(f, name)| {
                let key = unraw(name);
                let ty = &f.ty;
                let private = respan(private, ty.span());
                quote_spanned!(ty.span()=> kwargs.insert(::std::string::String::from(#key), #private::to_arg::<#ty>(&#name));)
            });
            quote! {
                #ty::#ident { #(#names),* } => {
                    let mut kwargs = #private::Dict::new();
                    #(#inserts)*
                    #krate::Error::with_payload(#uri, #args, kwargs)
                }
            }
        }
    }
}

fn from_arm(ty: &syn::Ident, v: &Variant, private: &TokenStream) -> TokenStream {
    let (ident, uri) = (&v.ident, &v.uri);
    match &v.fields {
        Fields::Unit => quote!(#uri => ::core::option::Option::Some(#ty::#ident),),
        Fields::Unnamed(fields) => {
            let values = fields.unnamed.iter().enumerate().map(|(i, f)| {
                let private = respan(private, f.ty.span());
                quote_spanned!(f.ty.span()=> #private::from_arg(error.args.get(#i))?)
            });
            quote!(#uri => ::core::option::Option::Some(#ty::#ident(#(#values),*)),)
        }
        Fields::Named(fields) => {
            let values = fields.named.iter().filter_map(|f| {
                let name = f.ident.as_ref()?;
                let key = unraw(name);
                let ty = &f.ty;
                let private = respan(private, ty.span());
                Some(quote_spanned!(ty.span()=> #name: #private::from_arg::<#ty>(error.kwargs.get(#key))?))
            });
            quote!(#uri => ::core::option::Option::Some(#ty::#ident { #(#values),* }),)
        }
    }
}

/// A field's wire name: its name without `r#`.
fn unraw(name: &syn::Ident) -> LitStr {
    let text = name.to_string();
    LitStr::new(text.strip_prefix("r#").unwrap_or(&text), Span::call_site())
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn variant_names_become_uri_components() {
        assert_eq!(snake_case("InsufficientFunds"), "insufficient_funds");
        assert_eq!(snake_case("Frozen"), "frozen");
        assert_eq!(snake_case("A"), "a");
    }
}
