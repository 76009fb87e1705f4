//! What a method's signature tells the macro: how it borrows the
//! component, which parameters come from the payload and which are
//! injected, and what its result becomes.

use quote::ToTokens as _;
use syn::ext::IdentExt as _;
use syn::{Attribute, FnArg, GenericArgument, Pat, PathArguments, ReturnType, Signature, Type};

/// Where a method runs: a procedure, an event handler or a hook.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Role {
    Procedure,
    Subscription,
    Hook,
    /// `#[wamp::message]`: one parameter is the message, the result is
    /// the reply as it is.
    Message,
}

/// A value the framework passes in, recognised by its type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Injected {
    Session,
    CallDetails,
    EventDetails,
}

impl Injected {
    fn name(self) -> &'static str {
        match self {
            Injected::Session => "Session",
            Injected::CallDetails => "CallDetails",
            Injected::EventDetails => "EventDetails",
        }
    }
}

/// One parameter after the receiver.
pub(crate) enum Param {
    /// Read from the payload: positional, else keyword `name`.
    Arg {
        /// The keyword argument name (the parameter's name, or the one
        /// `#[wamp(name = "...")]` gives).
        name: String,
        /// Its type.
        ty: Box<Type>,
    },
    /// `Data<T>`: the host's application data of type `T`.
    Data {
        /// `T`.
        inner: Box<Type>,
    },
    /// `#[wamp(kwargs)]`: every keyword argument no other parameter took,
    /// as one value (a struct, a map).
    Kwargs {
        /// Its type.
        ty: Box<Type>,
    },
    /// Passed in by the framework.
    Injected {
        /// What is passed.
        what: Injected,
        /// Whether the parameter is a reference.
        by_ref: bool,
    },
}

/// What the method's success value is.
pub(crate) enum Value {
    /// `()`.
    Unit,
    /// `Arguments`: taken as the payload.
    Arguments,
    /// `Kwargs<T>`: sent as keyword arguments.
    Kwargs(Box<Type>),
    /// Any other type: serialized as one positional argument.
    Other(Box<Type>),
}

/// What the method returns.
pub(crate) enum Output {
    /// A plain value (which may be `()`).
    Plain(Value),
    /// A `Result`: `Ok` carries `Value`, `Err` converts into `wamp::Error`.
    Result {
        /// The `Ok` value.
        ok: Value,
        /// The error type, when spelled out.
        err: Option<Box<Type>>,
        /// The whole return type.
        whole: Box<Type>,
    },
}

/// A method as the generated handler calls it.
pub(crate) struct Method {
    /// Takes `&mut self` (a write lock) rather than `&self`.
    pub(crate) mutable: bool,
    /// Is `async`.
    pub(crate) is_async: bool,
    /// The parameters after the receiver.
    pub(crate) params: Vec<Param>,
    /// The result.
    pub(crate) output: Output,
    /// The return type as written (`None` for `()`), a message's reply.
    pub(crate) returns: Option<Box<Type>>,
}

fn error(span: impl quote::ToTokens, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new_spanned(span, message)
}

/// The `#[wamp(...)]` attributes on the parameters of `sig`.
pub fn parameter_helpers(sig: &Signature) -> impl Iterator<Item = &Attribute> {
    sig.inputs
        .iter()
        .filter_map(|input| match input {
            FnArg::Typed(typed) => Some(typed),
            FnArg::Receiver(_) => None,
        })
        .flat_map(|typed| typed.attrs.iter().filter(|a| a.path().is_ident("wamp")))
}

/// The `#[wamp(...)]` options of one parameter.
#[derive(Default)]
struct ParameterOptions {
    /// `kwargs`, kept for its span.
    kwargs: Option<syn::Path>,
    /// `name = "..."`: the keyword argument's name on the wire.
    name: Option<syn::LitStr>,
}

fn parameter_options(attrs: &[syn::Attribute]) -> syn::Result<ParameterOptions> {
    let mut options = ParameterOptions::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("wamp")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("kwargs") {
                options.kwargs = Some(meta.path.clone());
                Ok(())
            } else if meta.path.is_ident("name") {
                let name: syn::LitStr = meta.value()?.parse()?;
                if name.value().is_empty() {
                    return Err(syn::Error::new(name.span(), "a keyword argument's name cannot be empty"));
                }
                options.name = Some(name);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown parameter option; expected `kwargs` (every keyword argument left, as one \
                     value) or `name = \"...\"` (the keyword argument's name on the wire)",
                ))
            }
        })?;
    }
    Ok(options)
}

/// Looks through invisible groups and parentheses.
fn plain(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => plain(&g.elem),
        Type::Paren(p) => plain(&p.elem),
        other => other,
    }
}

/// The last segment of a plain path type, with its generic arguments.
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match plain(ty) {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

fn is_unit(ty: &Type) -> bool {
    matches!(plain(ty), Type::Tuple(t) if t.elems.is_empty())
}

/// Whether `ty` is a path ending in `name` with no generic arguments.
fn is_named(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name && s.arguments.is_none())
}

/// `T` of a `Data<T>` parameter.
fn data_type(ty: &Type) -> Option<&Type> {
    let segment = last_segment(ty)?;
    if segment.ident != "Data" {
        return None;
    }
    match &segment.arguments {
        PathArguments::AngleBracketed(a) if a.args.len() == 1 => match a.args.first() {
            Some(GenericArgument::Type(inner)) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

fn injected(ty: &Type) -> Option<Injected> {
    [Injected::Session, Injected::CallDetails, Injected::EventDetails]
        .into_iter()
        .find(|i| is_named(ty, i.name()))
}

/// Whether `ty` is `Kwargs<T>` (keyword arguments as one value).
fn is_kwargs(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "Kwargs" && !s.arguments.is_none())
}

fn value(ty: &Type) -> Value {
    if is_unit(ty) {
        Value::Unit
    } else if is_named(ty, "Arguments") {
        Value::Arguments
    } else if is_kwargs(ty) {
        Value::Kwargs(Box::new(ty.clone()))
    } else {
        Value::Other(Box::new(ty.clone()))
    }
}

/// The type as a reference that may borrow from the component: any
/// reference but a `'static` one.
fn borrowed(ty: &Type) -> Option<&syn::TypeReference> {
    match plain(ty) {
        Type::Reference(r) if !matches!(&r.lifetime, Some(l) if l.ident == "static") => Some(r),
        _ => None,
    }
}

/// The first `impl Trait` in the type, if any.
fn has_impl_trait(ty: &Type) -> Option<&Type> {
    match ty {
        Type::ImplTrait(_) => Some(ty),
        Type::Group(g) => has_impl_trait(&g.elem),
        Type::Paren(p) => has_impl_trait(&p.elem),
        Type::Reference(r) => has_impl_trait(&r.elem),
        Type::Ptr(p) => has_impl_trait(&p.elem),
        Type::Slice(s) => has_impl_trait(&s.elem),
        Type::Array(a) => has_impl_trait(&a.elem),
        Type::Tuple(t) => t.elems.iter().find_map(has_impl_trait),
        Type::Path(p) => p.path.segments.iter().find_map(|seg| match &seg.arguments {
            PathArguments::AngleBracketed(a) => a.args.iter().find_map(|arg| match arg {
                GenericArgument::Type(t) => has_impl_trait(t),
                _ => None,
            }),
            _ => None,
        }),
        _ => None,
    }
}

fn output(sig: &Signature, role: Role) -> syn::Result<Output> {
    let ty = match &sig.output {
        ReturnType::Default => return Ok(Output::Plain(Value::Unit)),
        ReturnType::Type(_, ty) => &**ty,
    };
    if let Some(found) = has_impl_trait(ty) {
        let hint = if sig.asyncness.is_none() {
            ": make the method `async fn` and return the value itself"
        } else {
            ""
        };
        return Err(error(found, format!("`impl Trait` return types are not supported{hint}")));
    }
    if role == Role::Message {
        if borrowed(ty).is_some() {
            return Err(error(
                ty,
                "a message handler cannot return a reference: the component is locked only while the \
                 method runs; return an owned value instead",
            ));
        }
        return Ok(Output::Plain(value(ty)));
    }
    let result = match last_segment(ty) {
        Some(seg) if seg.ident == "Result" => match &seg.arguments {
            PathArguments::AngleBracketed(a) => {
                let mut types = a.args.iter().filter_map(|arg| match arg {
                    GenericArgument::Type(t) => Some(t),
                    _ => None,
                });
                match (types.next(), types.next()) {
                    (Some(ok), err) => Some(Output::Result {
                        ok: value(ok),
                        err: err.map(|e| Box::new(e.clone())),
                        whole: Box::new(ty.clone()),
                    }),
                    (None, _) => None,
                }
            }
            _ => None,
        },
        _ => None,
    };
    let out = result.unwrap_or_else(|| Output::Plain(value(ty)));
    if let Output::Plain(Value::Other(v)) | Output::Result { ok: Value::Other(v), .. } = &out {
        if let Some(r) = borrowed(v) {
            let owned = match plain(&r.elem) {
                Type::Path(p) if p.path.is_ident("str") => "`String`",
                Type::Slice(_) => "a `Vec`",
                _ => "an owned value",
            };
            return Err(error(
                v,
                format!(
                    "a procedure cannot return a reference: the component is locked only while the method \
                     runs; return {owned} instead"
                ),
            ));
        }
    }
    let returns_a_value =
        matches!(&out, Output::Plain(v) | Output::Result { ok: v, .. } if !matches!(v, Value::Unit));
    if role != Role::Procedure && returns_a_value {
        let what = if role == Role::Hook { "a lifecycle hook" } else { "an event handler" };
        return Err(error(
            ty,
            format!("{what} returns `()` or `Result<(), E>` (with `E: Into<wamp::Error>`)"),
        ));
    }
    Ok(out)
}

/// Reads and checks a method's signature for `role`, reporting every
/// problem at once.
pub(crate) fn analyse(sig: &Signature, role: Role) -> syn::Result<Method> {
    let what = match role {
        Role::Procedure => "a procedure",
        Role::Subscription => "an event handler",
        Role::Hook => "a lifecycle hook",
        Role::Message => "a message handler",
    };
    let mut errors: Vec<syn::Error> = Vec::new();
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.push(error(
            &sig.generics,
            format!("{what} cannot be generic: the macro must know the types it reads and returns"),
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(error(unsafety, format!("{what} cannot be `unsafe`")));
    }
    if let Some(abi) = &sig.abi {
        errors.push(error(abi, format!("{what} cannot have an `extern` ABI")));
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(error(variadic, format!("{what} cannot be variadic")));
    }

    let mutable = match sig.inputs.first() {
        Some(FnArg::Receiver(r)) => match plain(&r.ty) {
            Type::Reference(reference) if matches!(plain(&reference.elem), Type::Path(p) if p.path.is_ident("Self")) => {
                reference.mutability.is_some()
            }
            _ => {
                errors.push(error(
                    r,
                    format!(
                        "{what} must take `&self` or `&mut self`: the component stays in place, \
                         shared by its handlers"
                    ),
                ));
                false
            }
        },
        _ => {
            errors.push(error(
                &sig.ident,
                format!(
                    "{what} must be a method taking `&self` or `&mut self`; `{}` has no `self` parameter",
                    sig.ident
                ),
            ));
            false
        }
    };
    let mut params = Vec::new();
    let mut seen: Vec<Injected> = Vec::new();
    let mut message_param = false;
    for input in &sig.inputs {
        let FnArg::Typed(typed) = input else { continue };
        let (ty, by_ref, ref_mut) = match plain(&typed.ty) {
            Type::Reference(r) => (&*r.elem, true, r.mutability.is_some()),
            other => (other, false, false),
        };
        if let Some(found) = has_impl_trait(&typed.ty) {
            errors.push(error(
                found,
                "`impl Trait` parameters are not supported: name a concrete type that implements \
                 `serde::Deserialize`",
            ));
            continue;
        }
        let passed_in = data_type(ty)
            .map(|_| "`Data<T>`".to_owned())
            .or_else(|| injected(ty).map(|k| format!("`{}`", k.name())));
        if let (Some(what), Some(attr)) = (passed_in, typed.attrs.iter().find(|a| a.path().is_ident("wamp")))
        {
            errors.push(error(
                attr,
                format!(
                    "{what} is passed in by its type, not read from the call's arguments: it takes no \
                     `#[wamp(...)]` options"
                ),
            ));
            continue;
        }
        if let Some(inner) = data_type(ty) {
            if role == Role::Hook {
                errors.push(error(
                    &typed.ty,
                    "a lifecycle hook takes no `Data<T>`: use `session.app_data::<T>()` in it",
                ));
            } else if by_ref {
                errors.push(error(&typed.ty, "take `Data<T>` by value: it is a cheap handle (an `Arc`)"));
            } else {
                params.push(Param::Data { inner: Box::new(inner.clone()) });
            }
            continue;
        }
        if let Some(kind) = injected(ty) {
            let allowed = matches!(
                (kind, role),
                (Injected::Session, _)
                    | (Injected::CallDetails, Role::Procedure)
                    | (Injected::EventDetails, Role::Subscription)
            );
            if !allowed {
                let only = match role {
                    Role::Procedure => "a procedure can take a `Session` and the `CallDetails`",
                    Role::Subscription => "an event handler can take a `Session` and the `EventDetails`",
                    Role::Hook => "a lifecycle hook takes only `&self` or `&mut self` and a `&Session`",
                    Role::Message => "a message handler can take a `Session` besides its message",
                };
                errors.push(error(&typed.ty, format!("`{}` is not available here: {only}", kind.name())));
            } else if ref_mut {
                errors.push(error(&typed.ty, format!("take `&{0}` or `{0}`, not `&mut {0}`", kind.name())));
            } else if seen.contains(&kind) {
                errors.push(error(
                    &typed.ty,
                    format!("`{}` is already passed in by another parameter", kind.name()),
                ));
            } else {
                seen.push(kind);
                params.push(Param::Injected { what: kind, by_ref });
            }
            continue;
        }
        if last_segment(ty).is_some_and(|s| s.ident == "Context") {
            errors.push(error(
                &typed.ty,
                "a WAMP handler does not run in an actor's `Context`: take `&wamp::Session` for the \
                 session it runs in",
            ));
            continue;
        }
        if role == Role::Hook {
            errors.push(error(
                typed,
                "a lifecycle hook takes only `&self` or `&mut self` and, optionally, a `&wamp::Session`",
            ));
            continue;
        }
        if role == Role::Message {
            message_param = true;
            if let Some(attr) = typed.attrs.iter().find(|a| a.path().is_ident("wamp")) {
                errors.push(error(attr, "a message is passed as it is: it takes no `#[wamp(...)]` options"));
            } else if by_ref {
                errors.push(error(&typed.ty, "the message is moved into the method: take it by value"));
            } else if params.iter().any(|p| matches!(p, Param::Arg { .. })) {
                errors.push(error(
                    typed,
                    "a message handler takes one message: put what it carries in one type (a struct or \
                     a tuple)",
                ));
            } else {
                params.push(Param::Arg { name: String::new(), ty: typed.ty.clone() });
            }
            continue;
        }
        let options = match parameter_options(&typed.attrs) {
            Ok(options) => options,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        // `#[wamp(kwargs)]`, or a parameter of type `Kwargs<T>`, which says
        // the same.
        let kwargs = match (&options.kwargs, is_kwargs(ty)) {
            (Some(path), _) => Some(path.to_token_stream()),
            (None, true) => Some(typed.ty.to_token_stream()),
            (None, false) => None,
        };
        if let Some(kwargs) = &kwargs {
            if by_ref {
                errors.push(error(
                    &typed.ty,
                    "the keyword arguments are read into an owned value: drop the `&`",
                ));
            } else if options.name.is_some() {
                errors.push(error(kwargs, "`kwargs` takes every keyword argument left, so it has no `name`"));
            } else if params.iter().any(|p| matches!(p, Param::Kwargs { .. })) {
                errors.push(error(kwargs, "only one parameter can take the keyword arguments"));
            } else {
                params.push(Param::Kwargs { ty: typed.ty.clone() });
            }
            continue;
        }
        let name = match &*typed.pat {
            _ if options.name.is_some() => options.name.as_ref().map(syn::LitStr::value).unwrap_or_default(),
            Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.unraw().to_string(),
            other => {
                errors.push(error(
                    other,
                    "unsupported parameter pattern: bind each argument to a plain name \
                     (`x: i64`), which is also its keyword argument name",
                ));
                continue;
            }
        };
        if params.iter().any(|p| matches!(p, Param::Arg { name: taken, .. } if *taken == name)) {
            let place = match &options.name {
                Some(lit) => lit.to_token_stream(),
                None => typed.pat.to_token_stream(),
            };
            errors.push(error(
                place,
                format!(
                    "two parameters take the keyword argument `{name}`: give each its own wire name \
                     (`#[wamp(name = \"...\")]`)"
                ),
            ));
            continue;
        }
        if by_ref {
            let owned = match plain(ty) {
                Type::Path(p) if p.path.is_ident("str") => "`String`".to_owned(),
                Type::Slice(_) => "a `Vec`".to_owned(),
                _ => "the owned type".to_owned(),
            };
            errors.push(error(
                &typed.ty,
                format!(
                    "parameter `{name}` is a reference: arguments are read into owned values, take {owned} \
                     instead (only `&Session`, `&CallDetails` and `&EventDetails` are passed by reference)"
                ),
            ));
            continue;
        }
        params.push(Param::Arg { name, ty: typed.ty.clone() });
    }

    if role == Role::Message && !message_param {
        errors.push(error(
            &sig.ident,
            format!(
                "a message handler takes the message as a parameter (by value): `fn {}(&mut self, message: \
                 MyMessage)`",
                sig.ident
            ),
        ));
    }
    let output = output(sig, role);
    if let Err(e) = &output {
        errors.push(e.clone());
    }
    let mut errors = errors.into_iter();
    if let Some(mut first) = errors.next() {
        first.extend(errors);
        return Err(first);
    }
    let returns = match &sig.output {
        ReturnType::Type(_, ty) if !is_unit(ty) => Some(ty.clone()),
        _ => None,
    };
    Ok(Method { mutable, is_async: sig.asyncness.is_some(), params, output: output?, returns })
}
