//! `#[wamp::component]`: reads an inherent impl block, checks it, and
//! implements `wamp::component::Component` for its type.

use std::collections::HashMap;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned as _;
use syn::{Attribute, Ident, ImplItem, Item, ItemImpl, LitStr, Meta, Type};

use crate::args::{ComponentArgs, HandlerArgs, HandlerKind, Match};
use crate::client::ClientMethod;
use crate::handler::{Names, Target};
use crate::paths;
use crate::signature::{self, Method, Role};
use crate::uri;

/// The lifecycle hooks, recognised by name.
const HOOKS: [&str; 4] = ["on_start", "on_join", "on_leave", "on_disconnect"];

/// A method with `#[wamp::procedure]` or `#[wamp::subscribe]`.
struct Handler {
    kind: HandlerKind,
    args: HandlerArgs,
    /// The URI with the component's prefix.
    uri: String,
    ident: Ident,
    method: Method,
    /// The attribute's path as written (`wamp::procedure`, `procedure`).
    path: syn::Path,
    /// The method's `#[cfg]` attributes, repeated on its registration.
    cfgs: Vec<Attribute>,
    /// Its doc comments, for the typed client.
    docs: Vec<Attribute>,
}

/// A method with `#[wamp::message]`.
struct MessageHandler {
    ident: Ident,
    method: Method,
    /// The message's type.
    message: Type,
    /// The attribute's path as written.
    path: syn::Path,
    cfgs: Vec<Attribute>,
}

/// A lifecycle hook.
struct Hook {
    ident: Ident,
    method: Method,
    /// The method's `#[cfg]` attributes.
    cfgs: Vec<Attribute>,
}

/// What the impl block offers.
#[derive(Default)]
struct Parts {
    handlers: Vec<Handler>,
    messages: Vec<MessageHandler>,
    hooks: Vec<Hook>,
}

/// A helper attribute: a handler's, or `#[wamp::message]`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Helper {
    Handler(HandlerKind),
    Message,
}

impl Helper {
    fn attribute(self) -> &'static str {
        match self {
            Helper::Handler(kind) => kind.attribute(),
            Helper::Message => "#[wamp::message]",
        }
    }
}

/// Collects errors so that all of them are reported at once.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn take<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }
}

/// Which helper attribute this is, if any: a path ending in `procedure`,
/// `subscribe` or `message` (`#[wamp::procedure]`, or `#[procedure]` when
/// imported).
fn helper_kind(attr: &Attribute) -> Option<Helper> {
    let last = attr.path().segments.last()?;
    if last.ident == "procedure" {
        Some(Helper::Handler(HandlerKind::Procedure))
    } else if last.ident == "subscribe" {
        Some(Helper::Handler(HandlerKind::Subscription))
    } else if last.ident == "message" {
        Some(Helper::Message)
    } else {
        None
    }
}

/// Removes the helper attributes from every item, so the impl block can be
/// emitted as it was written otherwise.
fn strip_helpers(imp: &mut ItemImpl) -> Vec<Vec<(Helper, Attribute)>> {
    let mut found = Vec::new();
    for item in &mut imp.items {
        let attrs = match item {
            ImplItem::Fn(f) => &mut f.attrs,
            ImplItem::Const(c) => &mut c.attrs,
            ImplItem::Type(t) => &mut t.attrs,
            ImplItem::Macro(m) => &mut m.attrs,
            _ => {
                found.push(Vec::new());
                continue;
            }
        };
        let mut helpers = Vec::new();
        attrs.retain(|attr| match helper_kind(attr) {
            Some(kind) => {
                helpers.push((kind, attr.clone()));
                false
            }
            None => true,
        });
        found.push(helpers);
    }
    found
}

/// Removes the `#[wamp(...)]` attributes of methods' parameters (read by
/// the signature analysis, unknown to the compiler).
fn strip_parameter_helpers(imp: &mut ItemImpl) {
    for item in &mut imp.items {
        if let ImplItem::Fn(f) = item {
            for input in &mut f.sig.inputs {
                if let syn::FnArg::Typed(typed) = input {
                    typed.attrs.retain(|a| !a.path().is_ident("wamp"));
                }
            }
        }
    }
}

/// The `#[cfg]` attributes among `attrs`.
fn cfgs(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("cfg")).cloned().collect()
}

/// Parses a helper attribute's arguments.
fn handler_args(kind: HandlerKind, attr: &Attribute) -> syn::Result<HandlerArgs> {
    let parser = |input: syn::parse::ParseStream<'_>| HandlerArgs::parse(kind, attr, input);
    match &attr.meta {
        Meta::Path(_) => syn::parse::Parser::parse2(parser, TokenStream::new()),
        Meta::List(list) => list.parse_args_with(parser),
        Meta::NameValue(nv) => {
            Err(syn::Error::new_spanned(nv, format!("write the URI in parentheses: `{}`", kind.example())))
        }
    }
}

/// Reads the methods of the impl block.
/// `helpers` holds the helper attributes of each item, in order.
fn collect(
    imp: &ItemImpl,
    helpers: Vec<Vec<(Helper, Attribute)>>,
    settings: &ComponentArgs,
    errors: &mut Errors,
) -> Parts {
    let mut parts = Parts::default();
    let mut seen: HashMap<(HandlerKind, String, Match, String), Ident> = HashMap::new();
    for (item, attrs) in imp.items.iter().zip(helpers) {
        let mut attrs = attrs.into_iter();
        let first = attrs.next();
        for (kind, extra) in attrs {
            let first_name = first.as_ref().map_or("", |(k, _)| k.attribute());
            errors.push(syn::Error::new_spanned(
                extra,
                format!("{} cannot be used here: this method already has {first_name}", kind.attribute()),
            ));
        }
        let f = match item {
            ImplItem::Fn(f) => f,
            _ => {
                if let Some((kind, attr)) = first {
                    errors.push(syn::Error::new_spanned(
                        attr,
                        format!("{} goes on a method", kind.attribute()),
                    ));
                }
                continue;
            }
        };
        let Some((kind, attr)) = first else {
            let name = f.sig.ident.to_string();
            if HOOKS.contains(&name.as_str()) {
                if let Some(method) = errors.take(signature::analyse(&f.sig, Role::Hook)) {
                    parts.hooks.push(Hook { ident: f.sig.ident.clone(), method, cfgs: cfgs(&f.attrs) });
                }
            } else {
                for attr in signature::parameter_helpers(&f.sig) {
                    errors.push(syn::Error::new_spanned(
                        attr,
                        format!(
                            "`#[wamp(...)]` options apply to the parameters of procedures and event \
                             handlers; `{name}` is neither (mark it `#[wamp::procedure(\"...\")]` or \
                             `#[wamp::subscribe(\"...\")]`, or drop the option)"
                        ),
                    ));
                }
            }
            continue;
        };
        let kind = match kind {
            Helper::Handler(kind) => kind,
            Helper::Message => {
                if let Some(message) = collect_message(f, &attr, &parts.messages, errors) {
                    parts.messages.push(message);
                }
                continue;
            }
        };
        let role = match kind {
            HandlerKind::Procedure => Role::Procedure,
            HandlerKind::Subscription => Role::Subscription,
        };
        let args = errors.take(handler_args(kind, &attr));
        let method = errors.take(signature::analyse(&f.sig, role));
        let (Some(args), Some(method)) = (args, method) else { continue };
        if let Some(blocking) = &args.blocking {
            if method.is_async {
                errors.push(syn::Error::new_spanned(
                    blocking,
                    format!(
                        "`blocking` runs a method that is not `async` on a worker thread; `{}` is `async` \
                         and already lets others run while it awaits (call \
                         `actix_web::rt::task::spawn_blocking` inside it for blocking work)",
                        f.sig.ident
                    ),
                ));
            }
            let takes_session = |p: &signature::Param| {
                matches!(p, signature::Param::Injected { what: signature::Injected::Session, .. })
            };
            if method.params.iter().any(takes_session) {
                errors.push(syn::Error::new_spanned(
                    blocking,
                    format!(
                        "`{}` takes the `Session`, which stays on the component's thread: a `blocking` \
                         method takes its arguments, `Data<T>`, `CallDetails` and `EventDetails`",
                        f.sig.ident
                    ),
                ));
            }
        }
        if let (Some(_), Some(concurrency)) = (&args.blocking, &args.concurrency) {
            errors.push(syn::Error::new_spanned(
                concurrency,
                format!(
                    "`concurrency` does not apply to a `blocking` handler: each run of `{}` has the \
                     component's state to itself, so its runs go one at a time whatever the limit \
                     (for parallel work, make it `async` and call \
                     `actix_web::rt::task::spawn_blocking` inside it)",
                    f.sig.ident
                ),
            ));
        }
        if !method.is_async && args.blocking.is_none() {
            let limits = [(&args.concurrency, "concurrency"), (&args.timeout_ms, "timeout_ms")];
            for (option, name) in limits {
                if let Some(value) = option {
                    let why = match name {
                        "concurrency" => "it runs to completion at once, one call at a time",
                        _ => "it cannot be stopped midway",
                    };
                    errors.push(syn::Error::new_spanned(
                        value,
                        format!(
                            "`{name}` applies to `async` handlers; `{}` is not `async`, so {why} (on the \
                             component's thread: keep it short, or make it `async`)",
                            f.sig.ident
                        ),
                    ));
                }
            }
        }
        let uri = settings.full_uri(&args.uri.value());
        if let Err(why) = uri::check(&uri, args.is_pattern()) {
            let shown = match &settings.prefix {
                Some(_) => format!(" `{uri}` (with the component's prefix)"),
                None => String::new(),
            };
            let hint = match why {
                uri::Problem::EmptyComponent(_) => {
                    "; only patterns (`match = \"prefix\"` or `match = \"wildcard\"`) may have empty components"
                }
                _ => "",
            };
            errors.push(syn::Error::new_spanned(&args.uri, format!("invalid URI{shown}: {why}{hint}")));
            continue;
        }
        // Methods under different `#[cfg]`s may share a URI.
        let cfgs = cfgs(&f.attrs);
        let condition = cfgs.iter().map(|a| a.to_token_stream().to_string()).collect::<Vec<_>>().join(" ");
        let key = (kind, uri.clone(), args.match_policy.unwrap_or(Match::Exact), condition);
        if let Some(other) = seen.get(&key) {
            let what = match kind {
                HandlerKind::Procedure => "procedure",
                HandlerKind::Subscription => "topic",
            };
            errors.push(syn::Error::new_spanned(
                &args.uri,
                format!("the {what} `{uri}` is already used by `{other}` in this component"),
            ));
            continue;
        }
        seen.insert(key, f.sig.ident.clone());
        let path = attr.path().clone();
        let docs = f.attrs.iter().filter(|a| a.path().is_ident("doc")).cloned().collect();
        parts.handlers.push(Handler {
            kind,
            args,
            uri,
            ident: f.sig.ident.clone(),
            method,
            path,
            cfgs,
            docs,
        });
    }
    parts
}

/// Reads a `#[wamp::message]` method; one per message type.
fn collect_message(
    f: &syn::ImplItemFn,
    attr: &Attribute,
    earlier: &[MessageHandler],
    errors: &mut Errors,
) -> Option<MessageHandler> {
    if !matches!(attr.meta, Meta::Path(_)) {
        errors.push(syn::Error::new_spanned(
            attr,
            "#[wamp::message] takes no arguments: the message's type is its parameter's type",
        ));
        return None;
    }
    let method = errors.take(signature::analyse(&f.sig, Role::Message))?;
    let message = method.params.iter().find_map(|p| match p {
        signature::Param::Arg { ty, .. } => Some((**ty).clone()),
        _ => None,
    })?;
    let cfgs = cfgs(&f.attrs);
    let written = message.to_token_stream().to_string();
    let condition = |c: &[Attribute]| c.iter().map(|a| a.to_token_stream().to_string()).collect::<Vec<_>>();
    if let Some(other) = earlier.iter().find(|m| {
        m.message.to_token_stream().to_string() == written && condition(&m.cfgs) == condition(&cfgs)
    }) {
        errors.push(syn::Error::new_spanned(
            &message,
            format!(
                "messages of type `{written}` already go to `{}`: one method per message type",
                other.ident
            ),
        ));
        return None;
    }
    Some(MessageHandler { ident: f.sig.ident.clone(), method, message, path: attr.path().clone(), cfgs })
}

/// The error for `#[wamp::component]` on something other than an impl
/// block, pointing at the item's keyword and name.
fn not_an_impl(item: &Item) -> syn::Error {
    fn head(keyword: impl ToTokens, name: &Ident) -> TokenStream {
        quote!(#keyword #name)
    }
    let (span, what) = match item {
        Item::Struct(s) => (head(s.struct_token, &s.ident), "a struct"),
        Item::Enum(e) => (head(e.enum_token, &e.ident), "an enum"),
        Item::Fn(f) => (head(f.sig.fn_token, &f.sig.ident), "a function"),
        Item::Trait(t) => (head(t.trait_token, &t.ident), "a trait"),
        Item::Mod(m) => (head(m.mod_token, &m.ident), "a module"),
        other => (other.to_token_stream(), "this item"),
    };
    syn::Error::new_spanned(
        span,
        format!(
            "#[wamp::component] goes on an inherent impl block (`impl MyComponent {{ ... }}`), not on {what}"
        ),
    )
}

/// The name of the component type.
fn type_name(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| &s.ident),
        Type::Group(g) => type_name(&g.elem),
        Type::Paren(p) => type_name(&p.elem),
        _ => None,
    }
}

/// Checks the impl block itself.
fn check_impl(imp: &ItemImpl, errors: &mut Errors) -> Option<String> {
    if let Some((_, path, _)) = &imp.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "#[wamp::component] goes on an inherent impl block (`impl MyComponent { ... }`), not on a trait impl",
        ));
    }
    if !imp.generics.params.is_empty() || imp.generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            &imp.generics,
            "a component cannot be generic: write the impl for one concrete type",
        ));
    }
    match type_name(&imp.self_ty) {
        Some(name) => Some(name.to_string()),
        None => {
            errors.push(syn::Error::new_spanned(
                &imp.self_ty,
                "a component must be a named type (a struct or enum)",
            ));
            None
        }
    }
}

/// Expands `#[wamp::component(attr)] item`.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let settings = errors.take(syn::parse2::<ComponentArgs>(attr)).unwrap_or_default();
    let mut imp = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Impl(imp)) => imp,
        Ok(other) => {
            let error = not_an_impl(&other).into_compile_error();
            return quote!(#error #item);
        }
        Err(e) => {
            let error = e.into_compile_error();
            return quote!(#error #item);
        }
    };
    let name = check_impl(&imp, &mut errors);
    let helpers = strip_helpers(&mut imp);
    let parts = collect(&imp, helpers, &settings, &mut errors);
    strip_parameter_helpers(&mut imp);
    match (errors.0, name) {
        (None, Some(name)) => {
            let component = generate(&imp, &name, &settings, &parts);
            quote!(#imp #component)
        }
        (Some(error), _) => {
            let error = error.into_compile_error();
            quote!(#error #imp)
        }
        (None, None) => quote!(#imp),
    }
}

/// The `Component` impl and the inventory entry.
fn generate(imp: &ItemImpl, name: &str, settings: &ComponentArgs, parts: &Parts) -> TokenStream {
    let krate = paths::facade();
    let names = Names::new();
    let state = &names.state;
    let self_ty = &imp.self_ty;
    let description = Ident::new("description", Span::mixed_site());

    let mut procedures = Vec::new();
    let mut subscriptions = Vec::new();
    for handler in &parts.handlers {
        let target = Target { krate: &krate, ident: &handler.ident, names: &names };
        let uri = &handler.uri;
        let options = handler.args.options(handler.kind, &krate);
        let cfgs = &handler.cfgs;
        match handler.kind {
            HandlerKind::Procedure => {
                let closure = target.procedure(&handler.method, &handler.args.limits(), uri);
                let access = target.access(&handler.method);
                procedures.push(quote! {
                    #(#cfgs)*
                    #description.procedures.push(#krate::__private::ProcedureSpec {
                        uri: ::std::string::String::from(#uri),
                        options: #options,
                        access: #access,
                        handler: #closure,
                    });
                });
            }
            HandlerKind::Subscription => {
                let closure = target.subscription(&handler.method, &handler.args.limits(), name, uri);
                subscriptions.push(quote! {
                    #(#cfgs)*
                    #description.subscriptions.push(#krate::__private::SubscriptionSpec {
                        uri: ::std::string::String::from(#uri),
                        options: #options,
                        handler: #closure,
                    });
                });
            }
        }
    }
    let hooks = parts.hooks.iter().map(|hook| {
        let target = Target { krate: &krate, ident: &hook.ident, names: &names };
        let closure = target.hook(&hook.method);
        let field = &hook.ident;
        let cfgs = &hook.cfgs;
        quote! {
            #(#cfgs)*
            {
                #description.hooks.#field = ::core::option::Option::Some(#closure);
            }
        }
    });
    let messages = parts.messages.iter().map(|handler| {
        let target = Target { krate: &krate, ident: &handler.ident, names: &names };
        let message = Ident::new("message", Span::mixed_site());
        let body = target.message(&handler.method, &message);
        let (ty, cfgs) = (&handler.message, &handler.cfgs);
        let reply = match &handler.method.returns {
            Some(reply) => quote!(#reply),
            None => quote!(()),
        };
        let ctx = &names.ctx;
        let access = target.access(&handler.method);
        quote! {
            #(#cfgs)*
            impl #krate::component::Receive<#ty> for #self_ty {
                type Reply = #reply;

                const ACCESS: #krate::__private::StateAccess = #access;

                fn receive(
                    #state: #krate::__private::ComponentState<Self>,
                    #message: #ty,
                    #ctx: #krate::Session,
                ) -> #krate::__private::LocalBoxFuture<'static, ::core::result::Result<#reply, #krate::Error>> {
                    #body
                }
            }
        }
    });
    // Every handler may be configured out.
    let keep_state = quote!(let _ = &#state;);
    let realm = match &settings.realm {
        Some(realm) => quote! {
            fn realm() -> ::core::option::Option<&'static str> {
                ::core::option::Option::Some(#realm)
            }
        },
        None => quote!(),
    };
    let inventory = settings.inventory().then(|| {
        let make = Ident::new("make", Span::mixed_site());
        if let Some(factory) = &settings.factory {
            // The factory's own type errors point at the path.
            let made_by = quote_spanned! {factory.span()=>
                #krate::__private::made_by::<#self_ty>(#factory)
            };
            return quote! {
                const _: () = {
                    fn #make() -> #krate::__private::Launch {
                        #made_by
                    }
                    #krate::__private::inventory::submit! {
                        #krate::__private::ComponentEntry { name: #name, make: #make }
                    }
                };
            };
        }
        let create = Ident::new("DefaultForInventory", Span::mixed_site());
        let default = quote_spanned! {self_ty.span()=>
            <#self_ty as #create>::create
        };
        let message = format!(
            "`{name}` has no `Default`, which #[wamp::component] needs to list it in the component inventory"
        );
        quote! {
            const _: () = {
                #[diagnostic::on_unimplemented(
                    message = #message,
                    label = "cannot be created with `Default::default()`",
                    note = "derive or implement `Default`, name a function that makes it with \
                            `#[wamp::component(factory = \"path::to::make\")]`, or keep the component out of \
                            the inventory with `#[wamp::component(inventory = false)]` and add it to a host \
                            by value"
                )]
                trait #create: ::core::marker::Sized {
                    fn create() -> Self;
                }
                impl<T: ::core::default::Default> #create for T {
                    fn create() -> Self {
                        <T as ::core::default::Default>::default()
                    }
                }
                fn #make() -> #krate::__private::Launch {
                    #krate::__private::made_by::<#self_ty>(|| #default())
                }
                #krate::__private::inventory::submit! {
                    #krate::__private::ComponentEntry { name: #name, make: #make }
                }
            };
        }
    });
    // The helper attributes are removed before the compiler resolves them;
    // naming their paths keeps `use wamp::procedure;` from looking unused.
    let mut paths: Vec<&syn::Path> = Vec::new();
    let written = parts.handlers.iter().map(|h| &h.path).chain(parts.messages.iter().map(|m| &m.path));
    for path in written {
        let shown = path.to_token_stream().to_string();
        if !paths.iter().any(|p| p.to_token_stream().to_string() == shown) {
            paths.push(path);
        }
    }
    let uses = (!paths.is_empty()).then(|| {
        quote! {
            const _: () = {
                #(
                    #[allow(unused_imports)]
                    use #paths as _;
                )*
            };
        }
    });
    let name_lit = LitStr::new(name, Span::call_site());
    let krate_ref = &krate;
    let methods = parts
        .handlers
        .iter()
        .map(|h| (&h.cfgs, &h.method))
        .chain(parts.messages.iter().map(|m| (&m.cfgs, &m.method)));
    let needs = methods.flat_map(|(cfgs, method)| {
        let krate = krate_ref;
        method.params.iter().filter_map(move |param| match param {
            signature::Param::Data { inner } => Some(quote! {
                #(#cfgs)*
                needs.push(#krate::__private::DataNeed::of::<#inner>());
            }),
            _ => None,
        })
    });
    let needs: Vec<TokenStream> = needs.collect();
    let data_needs = (!needs.is_empty()).then(|| {
        quote! {
            fn data_needs() -> ::std::vec::Vec<#krate::__private::DataNeed> {
                let mut needs = ::std::vec::Vec::new();
                #(#needs)*
                needs
            }
        }
    });
    let client = settings.client.as_ref().map(|client| {
        let methods: Vec<ClientMethod<'_>> = parts
            .handlers
            .iter()
            .filter(|h| !h.args.is_pattern())
            .map(|h| ClientMethod {
                procedure: h.kind == HandlerKind::Procedure,
                uri: &h.uri,
                ident: &h.ident,
                method: &h.method,
                docs: &h.docs,
                cfgs: &h.cfgs,
            })
            .collect();
        crate::client::generate(&krate, client, name, self_ty, &methods)
    });
    quote! {
        #client

        impl #krate::component::Component for #self_ty {
            fn name() -> &'static str {
                #name_lit
            }

            #data_needs

            #realm

            fn describe(#state: #krate::__private::ComponentState<Self>) -> #krate::__private::Description {
                let mut #description = <#krate::__private::Description as ::core::default::Default>::default();
                #(#procedures)*
                #(#subscriptions)*
                #(#hooks)*
                #keep_state
                #description
            }

            fn starter(self) -> #krate::__private::Starter {
                use #krate::__private::{StartsAnywhere as _, StartsHere as _};
                (&&#krate::__private::SendProbe::<Self>::new()).starter(self)
            }
        }

        #(#messages)*
        #inventory
        #uses
    }
}
