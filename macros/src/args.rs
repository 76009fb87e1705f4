//! The arguments of the three attributes:
//!
//! * `#[wamp::component(realm = "..", prefix = "..", inventory = false)]`
//! * `#[wamp::procedure("uri", match = "..", invoke = "..", disclose_caller = true)]`
//! * `#[wamp::subscribe("uri", match = "..")]`
//!
//! Every option is `name = literal`; names may be keywords (`match`).

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, ExprLit, Ident, Lit, LitBool, LitStr, Token};

use crate::uri;

/// One `name = value` option; the value should be a literal.
struct Opt {
    name: Ident,
    value: Expr,
}

impl Parse for Opt {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = Ident::parse_any(input)?;
        if !input.peek(Token![=]) {
            return Err(syn::Error::new_spanned(
                &name,
                format!("expected `{name} = value`: every option takes a value"),
            ));
        }
        input.parse::<Token![=]>()?;
        let value = input.parse()?;
        Ok(Opt { name, value })
    }
}

/// Options separated by commas, a trailing comma allowed.
fn options(input: ParseStream<'_>) -> syn::Result<Vec<Opt>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        out.push(input.parse()?);
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(out)
}

/// Rejects an option given twice.
fn once<T>(slot: &Option<T>, name: &Ident) -> syn::Result<()> {
    match slot {
        Some(_) => Err(syn::Error::new_spanned(name, format!("`{name}` is given twice"))),
        None => Ok(()),
    }
}

fn string(opt: &Opt) -> syn::Result<LitStr> {
    match &opt.value {
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(s.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{}` takes a string: `{} = \"...\"`", opt.name, opt.name),
        )),
    }
}

/// A whole number of at least 1 (`meaning` says what it counts).
fn positive(opt: &Opt, meaning: &str) -> syn::Result<syn::LitInt> {
    match &opt.value {
        Expr::Lit(ExprLit { lit: Lit::Int(n), .. }) => match n.base10_parse::<u64>() {
            Ok(value) if value > 0 && n.suffix().is_empty() => Ok(n.clone()),
            _ => Err(syn::Error::new_spanned(
                n,
                format!("`{}` takes a whole number of at least 1: {meaning}", opt.name),
            )),
        },
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{}` takes a whole number of at least 1: {meaning}", opt.name),
        )),
    }
}

fn boolean(opt: &Opt) -> syn::Result<LitBool> {
    match &opt.value {
        Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }) => Ok(b.clone()),
        other => Err(syn::Error::new_spanned(other, format!("`{}` takes `true` or `false`", opt.name))),
    }
}

/// The settings of `#[wamp::component(...)]`.
#[derive(Default)]
pub(crate) struct ComponentArgs {
    /// The realm to join.
    pub(crate) realm: Option<LitStr>,
    /// What every URI of the component is relative to.
    pub(crate) prefix: Option<LitStr>,
    /// Whether to submit the component to the inventory (default: yes).
    pub(crate) inventory: Option<LitBool>,
    /// `factory = "path"`: the function that creates the component for the
    /// inventory, instead of `Default::default()`.
    pub(crate) factory: Option<syn::ExprPath>,
    /// `client = "Name"`: generate a typed client of that name.
    pub(crate) client: Option<Ident>,
}

impl Parse for ComponentArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = ComponentArgs::default();
        for opt in options(input)? {
            match opt.name.unraw().to_string().as_str() {
                "realm" => {
                    once(&args.realm, &opt.name)?;
                    let realm = string(&opt)?;
                    uri::check(&realm.value(), false).map_err(|why| {
                        syn::Error::new_spanned(&realm, format!("invalid realm name: {why}"))
                    })?;
                    args.realm = Some(realm);
                }
                "prefix" => {
                    once(&args.prefix, &opt.name)?;
                    let prefix = string(&opt)?;
                    uri::check(&prefix.value(), false).map_err(|why| {
                        let hint = match why {
                            uri::Problem::EmptyComponent(_) if prefix.value().ends_with('.') => {
                                " (write the prefix without its trailing dot)"
                            }
                            _ => "",
                        };
                        syn::Error::new_spanned(&prefix, format!("invalid URI prefix: {why}{hint}"))
                    })?;
                    args.prefix = Some(prefix);
                }
                "inventory" => {
                    once(&args.inventory, &opt.name)?;
                    args.inventory = Some(boolean(&opt)?);
                }
                "factory" => {
                    once(&args.factory, &opt.name)?;
                    let path = string(&opt)?;
                    let parsed = path.parse::<syn::ExprPath>().map_err(|_| {
                        syn::Error::new_spanned(
                            &path,
                            "`factory` names a function that creates the component, e.g. \"Shop::from_env\"",
                        )
                    })?;
                    args.factory = Some(parsed);
                }
                "client" => {
                    once(&args.client, &opt.name)?;
                    let name = string(&opt)?;
                    let ident = syn::parse_str::<Ident>(&name.value()).map_err(|_| {
                        syn::Error::new_spanned(
                            &name,
                            "`client` names the typed client to generate, a type name such as \"ShopClient\"",
                        )
                    })?;
                    args.client = Some(Ident::new(&ident.to_string(), name.span()));
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        &opt.name,
                        format!(
                            "unknown option `{}`: #[wamp::component] takes `realm = \"...\"`, \
                             `prefix = \"...\"`, `inventory = false`, `factory = \"...\"` and \
                             `client = \"...\"`",
                            opt.name
                        ),
                    ))
                }
            }
        }
        if let (Some(factory), false) = (&args.factory, args.inventory()) {
            return Err(syn::Error::new_spanned(
                factory,
                "`factory` creates the component for the inventory, which `inventory = false` turns off",
            ));
        }
        Ok(args)
    }
}

impl ComponentArgs {
    /// Whether to submit the component to the inventory.
    pub(crate) fn inventory(&self) -> bool {
        self.inventory.as_ref().map(LitBool::value).unwrap_or(true)
    }

    /// The full URI of a URI written relative to the prefix.
    pub(crate) fn full_uri(&self, relative: &str) -> String {
        match &self.prefix {
            Some(prefix) => format!("{}.{relative}", prefix.value()),
            None => relative.to_owned(),
        }
    }
}

/// Which attribute a method carries.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum HandlerKind {
    /// `#[wamp::procedure]`.
    Procedure,
    /// `#[wamp::subscribe]`.
    Subscription,
}

impl HandlerKind {
    /// How the attribute is written.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            HandlerKind::Procedure => "#[wamp::procedure]",
            HandlerKind::Subscription => "#[wamp::subscribe]",
        }
    }

    /// An example of the attribute, for error messages.
    pub(crate) fn example(self) -> &'static str {
        match self {
            HandlerKind::Procedure => "#[wamp::procedure(\"com.example.add2\")]",
            HandlerKind::Subscription => "#[wamp::subscribe(\"com.example.hello\")]",
        }
    }
}

/// A `match` option value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Match {
    Exact,
    Prefix,
    Wildcard,
}

impl Match {
    /// The variant of the framework's `MatchPolicy`.
    pub(crate) fn variant(self) -> Ident {
        let name = match self {
            Match::Exact => "Exact",
            Match::Prefix => "Prefix",
            Match::Wildcard => "Wildcard",
        };
        Ident::new(name, Span::call_site())
    }
}

/// An `invoke` option value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Invoke {
    Single,
    RoundRobin,
    Random,
    First,
    Last,
}

impl Invoke {
    /// The variant of the framework's `InvokePolicy`.
    pub(crate) fn variant(self) -> Ident {
        let name = match self {
            Invoke::Single => "Single",
            Invoke::RoundRobin => "RoundRobin",
            Invoke::Random => "Random",
            Invoke::First => "First",
            Invoke::Last => "Last",
        };
        Ident::new(name, Span::call_site())
    }
}

/// The arguments of `#[wamp::procedure(...)]` or `#[wamp::subscribe(...)]`.
pub(crate) struct HandlerArgs {
    /// The URI as written (relative to the component's prefix, if any).
    pub(crate) uri: LitStr,
    /// `match = ...`.
    pub(crate) match_policy: Option<Match>,
    /// `invoke = ...` (procedures only).
    pub(crate) invoke: Option<Invoke>,
    /// `disclose_caller = ...` (procedures only).
    pub(crate) disclose_caller: bool,
    /// `concurrency = N`: at most N calls or events of this handler at
    /// once (async handlers only).
    pub(crate) concurrency: Option<syn::LitInt>,
    /// `timeout_ms = N`: a run of the handler is dropped after N ms
    /// (async handlers only).
    pub(crate) timeout_ms: Option<syn::LitInt>,
    /// `blocking = true`: run the method on the blocking thread pool.
    pub(crate) blocking: Option<LitBool>,
}

impl HandlerArgs {
    /// The handler's limits.
    pub(crate) fn limits(&self) -> crate::handler::Limits {
        crate::handler::Limits {
            concurrency: self.concurrency.clone(),
            timeout_ms: self.timeout_ms.clone(),
            blocking: self.blocking.as_ref().map(|b| b.span()),
        }
    }

    /// Whether the URI is a pattern, which may have empty components.
    pub(crate) fn is_pattern(&self) -> bool {
        matches!(self.match_policy, Some(Match::Prefix | Match::Wildcard))
    }

    /// Parses the arguments of an attribute of the given kind; `span`
    /// points at the attribute, for a missing URI.
    pub(crate) fn parse(kind: HandlerKind, span: &dyn ToTokens, input: ParseStream<'_>) -> syn::Result<Self> {
        let missing_uri = || {
            syn::Error::new_spanned(
                span.to_token_stream(),
                format!("{} needs a URI: write `{}`", kind.attribute(), kind.example()),
            )
        };
        if input.is_empty() {
            return Err(missing_uri());
        }
        let uri: LitStr = if input.peek(LitStr) {
            input.parse()?
        } else if input.peek(Ident::peek_any) && input.peek2(Token![=]) {
            return Err(syn::Error::new(
                input.span(),
                format!("{} needs a URI before its options: write `{}`", kind.attribute(), kind.example()),
            ));
        } else {
            return Err(syn::Error::new(
                input.span(),
                format!("expected the URI as a string literal: `{}`", kind.example()),
            ));
        };
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
        let mut match_policy = None;
        let mut invoke = None;
        let mut disclose_caller: Option<LitBool> = None;
        let mut concurrency = None;
        let mut timeout_ms = None;
        let mut blocking: Option<LitBool> = None;
        for opt in options(input)? {
            match (opt.name.unraw().to_string().as_str(), kind) {
                ("concurrency", _) => {
                    once(&concurrency, &opt.name)?;
                    concurrency = Some(positive(&opt, "at most this many runs of the handler at once")?);
                }
                ("blocking", _) => {
                    once(&blocking, &opt.name)?;
                    blocking = Some(boolean(&opt)?);
                }
                ("timeout_ms", _) => {
                    once(&timeout_ms, &opt.name)?;
                    timeout_ms =
                        Some(positive(&opt, "a run of the handler is dropped after this many milliseconds")?);
                }
                ("match", _) => {
                    once(&match_policy, &opt.name)?;
                    let value = string(&opt)?;
                    match_policy = Some(match value.value().as_str() {
                        "exact" => Match::Exact,
                        "prefix" => Match::Prefix,
                        "wildcard" => Match::Wildcard,
                        other => {
                            return Err(syn::Error::new_spanned(
                                &value,
                                format!(
                                    "unknown match policy \"{other}\": use \"exact\" (the default), \
                                     \"prefix\" or \"wildcard\""
                                ),
                            ))
                        }
                    });
                }
                ("invoke", HandlerKind::Procedure) => {
                    once(&invoke, &opt.name)?;
                    let value = string(&opt)?;
                    invoke = Some(match value.value().as_str() {
                        "single" => Invoke::Single,
                        "roundrobin" => Invoke::RoundRobin,
                        "random" => Invoke::Random,
                        "first" => Invoke::First,
                        "last" => Invoke::Last,
                        other => {
                            return Err(syn::Error::new_spanned(
                                &value,
                                format!(
                                    "unknown invocation policy \"{other}\": use \"single\" (the default), \
                                     \"roundrobin\", \"random\", \"first\" or \"last\""
                                ),
                            ))
                        }
                    });
                }
                ("disclose_caller", HandlerKind::Procedure) => {
                    once(&disclose_caller, &opt.name)?;
                    disclose_caller = Some(boolean(&opt)?);
                }
                (name @ ("invoke" | "disclose_caller"), HandlerKind::Subscription) => {
                    return Err(syn::Error::new_spanned(
                        &opt.name,
                        format!(
                            "`{name}` is an option of procedures: #[wamp::subscribe] takes \
                             `match = \"exact\" | \"prefix\" | \"wildcard\"`, `concurrency = N`, \
                             `timeout_ms = N` and `blocking = true`"
                        ),
                    ))
                }
                (_, HandlerKind::Procedure) => {
                    return Err(syn::Error::new_spanned(
                        &opt.name,
                        format!(
                            "unknown option `{}`: #[wamp::procedure] takes `match = \"...\"`, \
                             `invoke = \"...\"`, `disclose_caller = true`, `concurrency = N`, \
                             `timeout_ms = N` and `blocking = true`",
                            opt.name
                        ),
                    ))
                }
                (_, HandlerKind::Subscription) => {
                    return Err(syn::Error::new_spanned(
                        &opt.name,
                        format!(
                            "unknown option `{}`: #[wamp::subscribe] takes `match = \"...\"`, \
                             `concurrency = N`, `timeout_ms = N` and `blocking = true`",
                            opt.name
                        ),
                    ))
                }
            }
        }
        Ok(HandlerArgs {
            uri,
            match_policy,
            invoke,
            disclose_caller: disclose_caller.as_ref().is_some_and(LitBool::value),
            concurrency,
            timeout_ms,
            blocking: blocking.filter(LitBool::value),
        })
    }

    /// Code that builds the `RegisterOptions` or `SubscribeOptions`.
    pub(crate) fn options(&self, kind: HandlerKind, krate: &TokenStream) -> TokenStream {
        let options = Ident::new("options", Span::mixed_site());
        let mut sets = Vec::new();
        if let Some(m) = self.match_policy {
            let variant = m.variant();
            sets.push(quote! {
                #options.match_policy = ::core::option::Option::Some(#krate::client::MatchPolicy::#variant);
            });
        }
        if let Some(i) = self.invoke {
            let variant = i.variant();
            sets.push(quote! {
                #options.invoke = ::core::option::Option::Some(#krate::client::InvokePolicy::#variant);
            });
        }
        if self.disclose_caller {
            sets.push(quote! { #options.disclose_caller = true; });
        }
        let ty = match kind {
            HandlerKind::Procedure => quote!(#krate::client::RegisterOptions),
            HandlerKind::Subscription => quote!(#krate::client::SubscribeOptions),
        };
        if sets.is_empty() {
            quote! { <#ty as ::core::default::Default>::default() }
        } else {
            quote! {{
                let mut #options = <#ty as ::core::default::Default>::default();
                #(#sets)*
                #options
            }}
        }
    }
}
