//! The typed client `#[wamp::component(client = "Name")]` generates: one
//! async method per procedure and one per topic the component subscribes
//! to, with the component's own parameter and result types and URIs, over
//! any `wamp::client::Caller` (a `Session` or a `Client`).

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens as _};
use syn::spanned::Spanned as _;
use syn::{Attribute, Ident, Type};

use crate::signature::{Method, Output, Param, Value};

/// What the client needs of one handler.
pub(crate) struct ClientMethod<'a> {
    /// Procedure or topic.
    pub(crate) procedure: bool,
    /// The full URI (exact match only).
    pub(crate) uri: &'a str,
    /// The component method's name.
    pub(crate) ident: &'a Ident,
    pub(crate) method: &'a Method,
    /// Its doc comments and `#[cfg]`s.
    pub(crate) docs: &'a [Attribute],
    pub(crate) cfgs: &'a [Attribute],
}

/// `Self` in a type of the component's signature means the component; in
/// the client it must be spelled out.
fn without_self(tokens: TokenStream, self_ty: &Type) -> TokenStream {
    tokens
        .into_iter()
        .flat_map(|tree| match tree {
            TokenTree::Ident(ident) if ident == "Self" => self_ty.to_token_stream(),
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), without_self(g.stream(), self_ty));
                group.set_span(g.span());
                TokenTree::Group(group).into_token_stream()
            }
            other => other.into_token_stream(),
        })
        .collect()
}

/// What a caller reads a `'static` reference result into: `String` for
/// `&'static str`, a `Vec` for a slice, the value for anything else.
fn owned(ty: &Type) -> TokenStream {
    match ty {
        Type::Reference(r) => match &*r.elem {
            Type::Path(p) if p.path.is_ident("str") => quote!(::std::string::String),
            Type::Slice(slice) => {
                let elem = &slice.elem;
                quote!(::std::vec::Vec<#elem>)
            }
            other => other.to_token_stream(),
        },
        Type::Group(g) => owned(&g.elem),
        Type::Paren(p) => owned(&p.elem),
        other => other.to_token_stream(),
    }
}

/// The client type and its methods.
pub(crate) fn generate(
    krate: &TokenStream,
    name: &Ident,
    component: &str,
    self_ty: &Type,
    methods: &[ClientMethod<'_>],
) -> TokenStream {
    let private = quote!(#krate::__private);
    let args = Ident::new("args", Span::mixed_site());
    let session = Ident::new("session", Span::mixed_site());
    let call_options = Ident::new("call_options", Span::mixed_site());
    let publish_options = Ident::new("publish_options", Span::mixed_site());
    let clashes = clashes(name, methods);
    let functions = methods.iter().filter(|m| !clashes.iter().any(|(at, _)| std::ptr::eq(*at, m.ident))).map(|m| {
        let mut params = Vec::new();
        let mut pushes = Vec::new();
        // The positional parameters, as (local, type): with no keyword
        // parameter, a procedure's arguments go as one tuple.
        let mut positional = Vec::new();
        let mut keywords = false;
        for (index, param) in m.method.params.iter().enumerate() {
            match param {
                Param::Arg { name, ty } => {
                    let span = ty.span();
                    let local = match syn::parse_str::<Ident>(name) {
                        Ok(ident) if name != "self" => format_ident!("{}", ident, span = span),
                        _ => format_ident!("arg{}", index, span = span),
                    };
                    let ty = without_self(ty.to_token_stream(), self_ty);
                    params.push(quote!(#local: #ty));
                    pushes.push(quote_spanned! {span=>
                        let #args = #krate::client::Arguments::arg(#args, &#local)?;
                    });
                    positional.push((local, ty));
                }
                Param::Kwargs { ty } => {
                    let span = ty.span();
                    let local = format_ident!("kwargs", span = span);
                    let ty = without_self(ty.to_token_stream(), self_ty);
                    params.push(quote!(#local: #ty));
                    pushes.push(quote_spanned! {span=> let #args = #private::with_kwargs(#args, &#local)?; });
                    keywords = true;
                }
                Param::Data { .. } | Param::Injected { .. } => {}
            }
        }
        let (uri, docs, cfgs) = (m.uri, m.docs, m.cfgs);
        let fallback =
            if m.procedure { format!(" Calls `{uri}`.") } else { format!(" Publishes to `{uri}`.") };
        let docs = if docs.is_empty() { quote!(#[doc = #fallback]) } else { quote!(#(#docs)*) };
        if m.procedure {
            let ident = m.ident;
            let ok = match &m.method.output {
                Output::Plain(v) | Output::Result { ok: v, .. } => v,
            };
            let (ok, read) = match ok {
                Value::Unit => (quote!(()), quote!(#private::typed_result::<()>(result))),
                Value::Arguments => (
                    quote!(#krate::client::Arguments),
                    quote!(::core::result::Result::Ok(#krate::client::Arguments::from_payload(result))),
                ),
                Value::Other(ty) | Value::Kwargs(ty) => {
                    let ok = without_self(owned(ty).to_token_stream(), self_ty);
                    // A type that cannot be read back is where the error points.
                    let read = quote_spanned! {ty.span()=> #private::typed_result::<#ok>(result) };
                    (ok, read)
                }
            };
            // Positional arguments only: one tuple, kept a Rust value when
            // it can be (`Send + Sync`) for a callee in this process to take
            // as it is. Otherwise the arguments are built one by one.
            let payload = if keywords {
                quote! {
                    let #args = #krate::client::Arguments::new();
                    #(#pushes)*
                    let payload = #krate::client::Arguments::into_payload(#args);
                }
            } else {
                let (locals, types): (Vec<_>, Vec<_>) = positional.into_iter().unzip();
                quote! {
                    #[allow(unused_imports)]
                    use #private::{AsNative as _, AsValues as _};
                    let payload = match (&&#private::Probe::<(#(#types,)*)>::new((#(#locals,)*))).arguments() {
                        ::core::result::Result::Ok(payload) => payload,
                        ::core::result::Result::Err(::core::option::Option::Some((#(#locals,)*))) => {
                            let #args = #krate::client::Arguments::new();
                            #(#pushes)*
                            #krate::client::Arguments::into_payload(#args)
                        }
                        ::core::result::Result::Err(::core::option::Option::None) => #krate::protocol::Payload::default(),
                    };
                }
            };
            quote! {
                #(#cfgs)*
                #docs
                pub async fn #ident(&self, #(#params),*) -> ::core::result::Result<#ok, #krate::Error> {
                    #payload
                    let options = ::core::clone::Clone::clone(&self.#call_options);
                    let result = #krate::client::Caller::call_payload(&self.#session, #uri, payload, options).await?;
                    #read
                }
            }
        } else {
            let ident = format_ident!("publish_{}", m.ident);
            quote! {
                #(#cfgs)*
                #docs
                pub async fn #ident(&self, #(#params),*) -> ::core::result::Result<(), #krate::Error> {
                    let #args = #krate::client::Arguments::new();
                    #(#pushes)*
                    let options = ::core::clone::Clone::clone(&self.#publish_options);
                    #krate::client::Caller::publish_arguments(
                        &self.#session,
                        #krate::protocol::Uri::Borrowed(#uri),
                        #args,
                        options,
                    )
                    .await
                }
            }
        }
    });
    let doc = format!(
        " A typed client of the `{component}` component: one method per procedure (named after the \
         component's method), one `publish_*` method per topic it subscribes to (exact URIs only), with \
         the component's argument and result types. It works through any session (`S` is a \
         `wamp::Session` or a `wamp::client::Client`), against any router; an application error comes \
         back as a `wamp::Error`, which `Error::decode` turns back into the component's error type. \
         `with_call_options` and `with_publish_options` set the options its calls and publications go \
         with (a timeout, `disclose_me`, `exclude_me`, ...)."
    );
    let clash_errors = clashes.iter().map(|(_, error)| error.to_compile_error());
    quote! {
        #(#clash_errors)*

        #[doc = #doc]
        #[derive(Clone, Debug)]
        pub struct #name<S> {
            #session: S,
            #call_options: #krate::client::CallOptions,
            #publish_options: #krate::client::PublishOptions,
        }

        #[allow(private_interfaces, clippy::too_many_arguments)]
        impl<S: #krate::client::Caller> #name<S> {
            /// A client that calls and publishes through `session`, with
            /// the default options.
            pub fn new(#session: S) -> Self {
                #name {
                    #session,
                    #call_options: ::core::default::Default::default(),
                    #publish_options: ::core::default::Default::default(),
                }
            }

            /// The same client, its calls made with `options` (a timeout,
            /// `disclose_me`, ...).
            pub fn with_call_options(mut self, options: #krate::client::CallOptions) -> Self {
                self.#call_options = options;
                self
            }

            /// The same client, its publications made with `options`
            /// (`exclude_me`, `acknowledge`, ...).
            pub fn with_publish_options(mut self, options: #krate::client::PublishOptions) -> Self {
                self.#publish_options = options;
                self
            }

            /// The session it goes through.
            pub fn session(&self) -> &S {
                &self.#session
            }

            #(#functions)*
        }
    }
}

/// The methods of the client itself, which no generated method may take.
const OWN_METHODS: [&str; 4] = ["new", "with_call_options", "with_publish_options", "session"];

/// The component methods whose client method would clash with another:
/// one of the client's own, or another handler's (a procedure `publish_x`
/// beside a subscription `x`). Handlers under `#[cfg]`s may be
/// alternatives, so only two without any count as a clash.
fn clashes<'a>(client: &Ident, methods: &'a [ClientMethod<'a>]) -> Vec<(&'a Ident, syn::Error)> {
    let name = |m: &ClientMethod<'_>| {
        if m.procedure {
            m.ident.to_string()
        } else {
            format!("publish_{}", m.ident)
        }
    };
    let mut found = Vec::new();
    for (index, m) in methods.iter().enumerate() {
        let own = name(m);
        let what = if m.procedure { "procedure" } else { "topic" };
        let message = if OWN_METHODS.contains(&own.as_str()) {
            format!(
                "the typed client `{client}` would get a method `{own}` for this {what}, but `{own}` is one \
                 of its own: rename the method (the URI stays as it is)"
            )
        } else if let Some(other) = methods[..index]
            .iter()
            .find(|other| name(other) == own && other.cfgs.is_empty() && m.cfgs.is_empty())
        {
            format!(
                "the typed client `{client}` would get two methods `{own}`: one for `{}` and one for this \
                 {what}; rename one of the methods (the URIs stay as they are)",
                other.ident
            )
        } else {
            continue;
        };
        found.push((m.ident, syn::Error::new(m.ident.span(), message)));
    }
    found
}
