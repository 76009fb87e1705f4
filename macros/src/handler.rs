//! The code of one handler: a closure over the component's shared state
//! that reads the arguments, takes the lock, calls the method and turns
//! its result into what the framework expects.
//!
//! Local names are `Span::mixed_site()`, so they never clash with the
//! user's; calls whose trait bounds the user's types must meet
//! (`Deserialize`, `Serialize`, `Into<wamp::Error>`) carry the span of the
//! user's type, so a type that falls short is where the error points.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens as _};
use syn::spanned::Spanned as _;
use syn::Ident;

use crate::signature::{Injected, Method, Output, Param, Value};

/// The names the generated code uses.
pub(crate) struct Names {
    pub(crate) state: Ident,
    payload: Ident,
    details: Ident,
    pub(crate) ctx: Ident,
    args: Ident,
    guard: Ident,
    ret: Ident,
    value: Ident,
    err: Ident,
    outcome: Ident,
    placement: Ident,
    movable: Ident,
    this: Ident,
    /// Whether the arguments came as a Rust value (the result then goes
    /// as one too).
    native: Ident,
}

impl Names {
    pub(crate) fn new() -> Self {
        let name = |n: &str| Ident::new(n, Span::mixed_site());
        Names {
            state: name("state"),
            payload: name("payload"),
            details: name("details"),
            ctx: name("ctx"),
            args: name("args"),
            guard: name("guard"),
            ret: name("ret"),
            value: name("value"),
            err: name("err"),
            outcome: name("outcome"),
            placement: name("placement"),
            movable: name("movable"),
            this: name("this"),
            native: name("_native"),
        }
    }
}

/// A handler's `concurrency` and `timeout_ms` options.
pub(crate) struct Limits {
    pub(crate) concurrency: Option<syn::LitInt>,
    pub(crate) timeout_ms: Option<syn::LitInt>,
    /// `blocking = true`, where it is written.
    pub(crate) blocking: Option<Span>,
}

/// What the generated code needs to know besides the method.
pub(crate) struct Target<'a> {
    /// The path of the `wamp` crate.
    pub(crate) krate: &'a TokenStream,
    /// The method's name.
    pub(crate) ident: &'a Ident,
    /// Local names.
    pub(crate) names: &'a Names,
}

impl Target<'_> {
    fn private(&self) -> TokenStream {
        let krate = self.krate;
        quote!(#krate::__private)
    }

    /// Reads the payload's arguments into one local per parameter, then
    /// checks nothing is left over; errors leave with `?`. A method with
    /// positional parameters only first tries to take the caller's tuple
    /// as it is (a typed client in this process sends one). The local
    /// `_native` says whether the result may stay a Rust value: the
    /// caller sent one, or the session is joined to a router in this
    /// process (which converts the result for a caller elsewhere).
    fn read_arguments(&self, method: &Method) -> (TokenStream, Vec<Ident>) {
        let Names { payload, args, native, .. } = self.names;
        let private = self.private();
        let session = session_ref();
        let mut locals = Vec::new();
        // Positional parameters (local, type, read), then `Data` ones,
        // which come from the session.
        let mut positional = Vec::new();
        let mut data = Vec::new();
        // The keyword arguments' parameter takes what the others left, so
        // it is read last.
        let mut rest = None;
        for (index, param) in method.params.iter().enumerate() {
            let local = format_ident!("arg{}", index, span = Span::mixed_site());
            match param {
                Param::Arg { name, ty } => {
                    let read = quote_spanned! {ty.span()=>
                        let #local = #private::ParameterReader::next::<#ty>(&mut #args, #name)?;
                    };
                    positional.push((local.clone(), ty, read));
                    locals.push(local);
                }
                Param::Kwargs { ty } => {
                    rest = Some(quote_spanned! {ty.span()=>
                        let #local = #private::ParameterReader::rest::<#ty>(&mut #args)?;
                    });
                    locals.push(local);
                }
                Param::Data { inner } => {
                    data.push(quote_spanned! {inner.span()=>
                        let #local = #private::app_data::<#inner>(#session)?;
                    });
                    locals.push(local);
                }
                Param::Injected { .. } => {}
            }
        }
        let arg_locals: Vec<_> = positional.iter().map(|(local, ..)| local).collect();
        let arg_types = positional.iter().map(|(_, ty, _)| ty);
        let arg_reads: Vec<_> = positional.iter().map(|(.., read)| read).collect();
        let code = match rest {
            Some(rest) => quote! {
                let #native = #private::in_process(#session);
                let mut #args = #private::ParameterReader::new(#payload);
                #(#arg_reads)*
                #rest
                #private::ParameterReader::finish(#args)?;
                #(#data)*
            },
            None => quote! {
                let ((#(#arg_locals,)*), #native) = match #private::native_arguments::<(#(#arg_types,)*)>(#payload)? {
                    ::core::result::Result::Ok(tuple) => (tuple, true),
                    ::core::result::Result::Err(#payload) => {
                        let mut #args = #private::ParameterReader::new(#payload);
                        #(#arg_reads)*
                        #private::ParameterReader::finish(#args)?;
                        ((#(#arg_locals,)*), #private::in_process(#session))
                    }
                };
                #(#data)*
            },
        };
        (code, locals)
    }

    /// The method's arguments in order: the locals read from the payload
    /// and the injected values.
    fn arguments(&self, method: &Method, locals: &[Ident]) -> Vec<TokenStream> {
        let Names { details, ctx, .. } = self.names;
        let mut locals = locals.iter();
        method
            .params
            .iter()
            .map(|param| match param {
                Param::Arg { .. } | Param::Kwargs { .. } | Param::Data { .. } => {
                    locals.next().map(|l| l.to_token_stream()).unwrap_or_default()
                }
                Param::Injected { what, by_ref } => {
                    let value = match what {
                        Injected::Session => ctx,
                        Injected::CallDetails | Injected::EventDetails => details,
                    };
                    match (by_ref, what) {
                        (true, _) => quote!(&#value),
                        // The context also marks the call (see `marked_call`).
                        (false, Injected::Session) => quote!(::core::clone::Clone::clone(&#value)),
                        (false, _) => quote!(#value),
                    }
                }
            })
            .collect()
    }

    /// How the method takes the state, as a `StateAccess` value.
    pub(crate) fn access(&self, method: &Method) -> TokenStream {
        let krate = self.krate;
        if method.mutable {
            quote!(#krate::__private::StateAccess::Write)
        } else {
            quote!(#krate::__private::StateAccess::Read)
        }
    }

    /// The method called on the locked state, marked as holding it (so a
    /// call back into its own component that could never be answered fails
    /// at once).
    fn marked_call(&self, method: &Method, locals: &[Ident], receiver: TokenStream) -> TokenStream {
        let Names { ctx, .. } = self.names;
        let krate = self.krate;
        let ident = self.ident;
        let access = self.access(method);
        let arguments = self.arguments(method, locals);
        if method.is_async {
            quote! {
                #krate::__private::Holding::new(&#ctx, #access, Self::#ident(#receiver, #(#arguments),*)).await
            }
        } else {
            quote! {
                #krate::__private::holding(&#ctx, #access, || Self::#ident(#receiver, #(#arguments),*))
            }
        }
    }

    /// Waits for the lock and calls the method, binding its result to
    /// `ret`; the lock is released before the result is converted.
    fn call(&self, method: &Method, locals: &[Ident], note: &TokenStream) -> TokenStream {
        let Names { state, guard, ret, ctx, .. } = self.names;
        let private = self.private();
        let (binding, lock, receiver) = if method.mutable {
            (quote!(mut #guard), quote!(#state.write().await), quote!(&mut *#guard))
        } else {
            (quote!(#guard), quote!(#private::read_owed(&#state, &#ctx).await), quote!(&*#guard))
        };
        let call = self.marked_call(method, locals, receiver);
        quote! {
            let #ret = {
                let #binding = #lock;
                #call
            };
            #note
        }
    }

    /// For a `blocking = true` method: moves the state to the blocking
    /// pool, calls the method there and binds its result to `ret`; a
    /// failure to run it returns early with the error.
    fn blocking_call(&self, method: &Method, locals: &[Ident], span: Span) -> TokenStream {
        let Names { state, ret, err, .. } = self.names;
        let private = self.private();
        let closure = self.on_worker(method, locals);
        // A component that cannot move to a worker thread is where the
        // error points: the option.
        let path = respan(&private, span);
        let run = quote_spanned!(span=> #path::blocking::<Self, _>(&#state, #closure));
        let (to_pool, run) = self.relayed(method, run);
        let run = quote_spanned!(span=> #run.await);
        quote! {
            #to_pool
            let #ret = match #run {
                ::core::result::Result::Ok(value) => value,
                ::core::result::Result::Err(#err) => return ::core::result::Result::Err(#err),
            };
        }
    }

    /// The method as a closure over the state, to run on a worker thread.
    /// Call details go there as the copy [`Self::relayed`] made, and are
    /// details again on the worker.
    fn on_worker(&self, method: &Method, locals: &[Ident]) -> TokenStream {
        let Names { this, details, .. } = self.names;
        let ident = self.ident;
        let receiver = if method.mutable { quote!(#this) } else { quote!(&*#this) };
        let arguments = self.arguments(method, locals);
        let details =
            uses(method, Injected::CallDetails).then(|| quote!(let #details = #details.into_details();));
        quote! {
            move |#this: &mut Self| {
                #details
                Self::#ident(#receiver, #(#arguments),*)
            }
        }
    }

    /// For a run on a worker thread (`run`, a future) of a method taking
    /// call details: the statement that splits the details into the copy
    /// that goes and the relay that stays, and the run with the relay
    /// beside it. Other methods' runs are left as they are.
    fn relayed(&self, method: &Method, run: TokenStream) -> (TokenStream, TokenStream) {
        if !uses(method, Injected::CallDetails) {
            return (quote!(), run);
        }
        let details = &self.names.details;
        let private = self.private();
        let relay = Ident::new("relay", Span::mixed_site());
        (
            quote!(let (#details, #relay) = #private::to_pool(#details);),
            quote!(#private::relayed(#relay, #run)),
        )
    }

    /// For a method that is not `async` and could move to the blocking pool
    /// (see [`Movable`]): the probe of its types, `Mover::<Self, Args,
    /// Result>`, with the two traits that answer it in scope.
    fn mover(&self, movable: &Movable) -> TokenStream {
        let private = self.private();
        let Movable { args, output } = movable;
        quote! {
            use #private::{MoveToPool as _, StayOnThread as _};
            (&&#private::Mover::<Self, (#(#args,)*), #output>::new())
        }
    }

    /// For a method that could move: while its `placement` puts it on the
    /// pool (on trial, or moved after a slow run), runs it there, then
    /// `finish` (with its result bound to `ret`) or `failed` (with the
    /// error bound to `err`) in a task, out of line (`run_moved`).
    fn moved_call(
        &self,
        method: &Method,
        locals: &[Ident],
        movable: &Movable,
        name: &str,
        finish: TokenStream,
        failed: TokenStream,
    ) -> TokenStream {
        let Names { state, ret, err, placement, movable: can, .. } = self.names;
        let private = self.private();
        let mover = self.mover(movable);
        let closure = self.on_worker(method, locals);
        let fut = Ident::new("offloaded", Span::mixed_site());
        // On the pool a method has the state to itself. A `&self` method
        // runs on its thread beside the `&self` methods holding the state
        // instead: one of them may be waiting for this very run (a method
        // calling a procedure of its own component), and would wait
        // forever for a run that waits for it to let go.
        let shared = (!method.mutable).then(|| quote!(&& !#state.read_held()));
        let offload = quote!({ #mover.offload(&#state, ::std::rc::Rc::clone(&#placement), #name, #closure) });
        let (to_pool, offload) = self.relayed(method, offload);
        quote! {
            if #placement.on_pool(#can) #shared {
                #to_pool
                let #fut = #offload;
                return #private::run_moved(#fut, move |#ret| #finish, move |#err| #failed);
            }
        }
    }

    /// After a run of a method that could move: notes whether it held its
    /// thread too long.
    fn note_run(&self, movable: Option<&Movable>, name: &str) -> TokenStream {
        let Names { placement, movable: can, .. } = self.names;
        match movable {
            Some(_) => quote! {
                if #can {
                    #placement.note_run(#name);
                }
            },
            None => quote!(),
        }
    }

    /// For a method that is not `async`: if the lock is free, calls the
    /// method at once, binds its result to `ret`, releases the lock and
    /// runs `then` (which returns). Otherwise falls through, with the
    /// arguments untouched.
    fn call_now(
        &self,
        method: &Method,
        locals: &[Ident],
        note: &TokenStream,
        then: TokenStream,
    ) -> TokenStream {
        let Names { state, guard, ret, ctx, .. } = self.names;
        let private = self.private();
        let (binding, lock, receiver) = if method.mutable {
            (quote!(mut #guard), quote!(#state.try_write()), quote!(&mut *#guard))
        } else {
            (quote!(#guard), quote!(#private::try_read_owed(&#state, &#ctx)), quote!(&*#guard))
        };
        let call = self.marked_call(method, locals, receiver);
        quote! {
            if let ::core::option::Option::Some(#binding) = #lock {
                let #ret = #call;
                ::core::mem::drop(#guard);
                #note
                #then
            }
        }
    }

    /// Reads the arguments into their locals, or runs `failed` (which
    /// returns) with the error bound to `err`.
    fn read_or(&self, method: &Method, failed: TokenStream) -> (TokenStream, Vec<Ident>) {
        let Names { err, native, .. } = self.names;
        let krate = self.krate;
        let (read, locals) = self.read_arguments(method);
        let (ctx, session) = (&self.names.ctx, session_ref());
        let code = quote! {
            let #session = &#ctx;
            let (#(#locals,)* #native,) = match (move || -> ::core::result::Result<_, #krate::Error> {
                #read
                ::core::result::Result::Ok((#(#locals,)* #native,))
            })() {
                ::core::result::Result::Ok(read) => read,
                ::core::result::Result::Err(#err) => #failed,
            };
        };
        (code, locals)
    }

    /// Turns a success value into a payload.
    fn payload_of(&self, value: &Value, of: &Ident) -> TokenStream {
        let private = self.private();
        let krate = self.krate;
        match value {
            Value::Unit => quote!(#private::unit_payload(#of)),
            Value::Arguments => quote! {
                ::core::result::Result::Ok(#krate::client::Arguments::into_payload(#of))
            },
            Value::Kwargs(ty) => quote_spanned! {ty.span()=> #private::kwargs_result(&#of) },
            // For a caller that sent a Rust value, kept one when it can
            // be (`Send + Sync`), for the caller to take as it is.
            Value::Other(ty) => {
                let native = &self.names.native;
                quote_spanned! {ty.span()=>
                    {
                        #[allow(unused_imports)]
                        use #private::{AsNative as _, AsValues as _};
                        #private::probed_result::<#ty>((&&#private::Probe::<#ty>::new(#of)).result(#native))
                    }
                }
            }
        }
    }

    /// A match on `ret` (a `Result`): `ok` for `Ok(value)`, and the error
    /// turned into `wamp::Error` for `Err(err)`.
    ///
    /// When the error type is spelled out, the conversion names it
    /// (`<E as Into<wamp::Error>>::into`), so an error type without the
    /// conversion is where the compiler points. For an alias that hides
    /// it (`io::Result<T>`), the conversion goes through `map_err` with the
    /// span of the whole return type.
    fn match_result(&self, ok: TokenStream, err_ty: Option<&syn::Type>, whole: &syn::Type) -> TokenStream {
        let Names { ret, value, err, .. } = self.names;
        let (matched, convert) = match err_ty {
            Some(err_ty) => {
                let krate = respan(self.krate, err_ty.span());
                let into = quote_spanned! {err_ty.span()=>
                    <#err_ty as ::core::convert::Into<#krate::Error>>::into
                };
                (quote!(#ret), quote!(#into(#err)))
            }
            None => {
                let krate = respan(self.krate, whole.span());
                let into = quote_spanned! {whole.span()=> ::core::convert::Into::<#krate::Error>::into };
                (quote!(::core::result::Result::map_err(#ret, #into)), quote!(#err))
            }
        };
        quote! {
            match #matched {
                ::core::result::Result::Ok(#value) => #ok,
                ::core::result::Result::Err(#err) => ::core::result::Result::Err(#convert),
            }
        }
    }

    /// Wraps `work` (a block that ends in the handler's `Result`) in the
    /// handler's limits: waits for a place at its gate, then runs it
    /// within its timeout. Returns the setup (outside the closure), the
    /// clone (inside it) and the wrapped block.
    fn limited(&self, limits: &Limits, work: TokenStream) -> (TokenStream, TokenStream, TokenStream) {
        let private = self.private();
        let gate = Ident::new("gate", Span::mixed_site());
        let (mut setup, mut clone, mut enter) = (quote!(), quote!(), quote!());
        if let Some(n) = &limits.concurrency {
            setup = quote!(let #gate = #private::concurrency_gate(#n););
            clone = quote!(let #gate = ::std::rc::Rc::clone(&#gate););
            enter = quote!(let _permit = #private::enter(&#gate).await;);
        }
        let run = match &limits.timeout_ms {
            Some(ms) => quote!(#private::within(#ms, async move { #work }).await),
            // A blocking call returns its error early.
            None if limits.blocking.is_some() => quote!(async move { #work }.await),
            None => work,
        };
        (setup, clone, quote! {{ #enter #run }})
    }

    /// The closure of a procedure (`uri` names it in the log). A method
    /// that is not `async` runs at once when the lock is free, and nothing
    /// is boxed.
    pub(crate) fn procedure(&self, method: &Method, limits: &Limits, uri: &str) -> TokenStream {
        let krate = self.krate;
        let Names { state, payload, details, ctx, ret, value, err, .. } = self.names;
        let completion = quote!(#krate::__private::Completion);
        let (read, locals) =
            self.read_or(method, quote!(return #completion::Now(::core::result::Result::Err(#err))));
        let finish = match &method.output {
            Output::Plain(v) => self.payload_of(v, ret),
            Output::Result { ok, err: err_ty, whole } => {
                let ok = self.payload_of(ok, value);
                self.match_result(ok, err_ty.as_deref(), whole)
            }
        };
        let movable = Movable::of(self.krate, method, limits);
        let note = self.note_run(movable.as_ref(), uri);
        let moved_call = movable.as_ref().map(|movable| {
            self.moved_call(
                method,
                &locals,
                movable,
                uri,
                quote!({ #finish }),
                quote!(::core::result::Result::Err(#err)),
            )
        });
        let now = (!method.is_async && limits.blocking.is_none())
            .then(|| self.call_now(method, &locals, &note, quote!(return #completion::Now(#finish);)));
        let call = match limits.blocking {
            Some(span) => self.blocking_call(method, &locals, span),
            None => self.call(method, &locals, &note),
        };
        let (setup, clone, run) = self.limited(limits, quote! { #call #finish });
        let (move_setup, move_clone) = self.move_setup(movable.as_ref());
        // The details are read only for a method that takes them.
        let takes_details = uses(method, Injected::CallDetails);
        let details_param = unused_unless(details, takes_details);
        let read_details = takes_details.then(|| quote!(let #details = #details.into_details(&#ctx);));
        quote! {{
            let #state = ::std::rc::Rc::clone(&#state);
            #setup
            #move_setup
            ::std::rc::Rc::new(move |
                #payload: #krate::protocol::Payload,
                #details_param: #krate::__private::IncomingCall,
                #ctx: #krate::Session,
            | -> #completion<::core::result::Result<#krate::protocol::Payload, #krate::Error>> {
                #read_details
                #read
                #moved_call
                #now
                let #state = ::std::rc::Rc::clone(&#state);
                #clone
                #move_clone
                #completion::of(async move #run)
            })
        }}
    }

    /// For a method that could move: whether it can (`movable`, decided
    /// once) and where it runs (`placement`), set up before the closure;
    /// and the clone of `placement` for the task of a run that waits for
    /// the lock.
    fn move_setup(&self, movable: Option<&Movable>) -> (TokenStream, TokenStream) {
        let Names { placement, movable: can, .. } = self.names;
        let Some(probe) = movable else { return (quote!(), quote!()) };
        let private = self.private();
        let mover = self.mover(probe);
        (
            quote! {
                let #can: bool = { #mover.movable() };
                let #placement = ::std::rc::Rc::new(#private::Placement::new());
            },
            quote!(let #placement = ::std::rc::Rc::clone(&#placement);),
        )
    }

    /// The closure of an event handler; `component` and `uri` name it in
    /// the report of a failure.
    pub(crate) fn subscription(
        &self,
        method: &Method,
        limits: &Limits,
        component: &str,
        uri: &str,
    ) -> TokenStream {
        let krate = self.krate;
        let private = self.private();
        let Names { state, payload, details, ctx, ret, err, outcome, .. } = self.names;
        let completion = quote!(#krate::__private::Completion);
        let report = quote! {
            if let ::core::result::Result::Err(#err) = #outcome {
                #private::event_failed(#component, #uri, &#err);
            }
        };
        let (read, locals) = self.read_or(
            method,
            quote!({
                #private::event_failed(#component, #uri, &#err);
                return #completion::Now(());
            }),
        );
        let finish = match &method.output {
            Output::Plain(_) => quote!(::core::result::Result::Ok(#ret)),
            Output::Result { err: err_ty, whole, .. } => {
                let value = &self.names.value;
                self.match_result(quote!(::core::result::Result::Ok(#value)), err_ty.as_deref(), whole)
            }
        };
        let movable = Movable::of(self.krate, method, limits);
        let note = self.note_run(movable.as_ref(), uri);
        let moved_call = movable.as_ref().map(|movable| {
            let finish = quote!({
                let #outcome: ::core::result::Result<(), #krate::Error> = #finish;
                #report
            });
            let failed = quote!({
                let #outcome: ::core::result::Result<(), #krate::Error> = ::core::result::Result::Err(#err);
                #report
            });
            self.moved_call(method, &locals, movable, uri, finish, failed)
        });
        let now = (!method.is_async && limits.blocking.is_none()).then(|| {
            self.call_now(
                method,
                &locals,
                &note,
                quote! {
                    let #outcome: ::core::result::Result<(), #krate::Error> = #finish;
                    #report
                    return #completion::Now(());
                },
            )
        });
        let call = match limits.blocking {
            Some(span) => self.blocking_call(method, &locals, span),
            None => self.call(method, &locals, &note),
        };
        let (setup, clone, run) = self.limited(limits, quote! { #call #finish });
        let (move_setup, move_clone) = self.move_setup(movable.as_ref());
        let details_param = unused_unless(details, uses(method, Injected::EventDetails));
        quote! {{
            let #state = ::std::rc::Rc::clone(&#state);
            #setup
            #move_setup
            ::std::rc::Rc::new(move |
                #payload: #krate::protocol::Payload,
                #details_param: #krate::client::EventDetails,
                #ctx: #krate::Session,
            | -> #completion<()> {
                #read
                #moved_call
                #now
                let #state = ::std::rc::Rc::clone(&#state);
                #clone
                #move_clone
                #completion::of(async move {
                    let #outcome: ::core::result::Result<(), #krate::Error> = #run;
                    #report
                })
            })
        }}
    }

    /// The body of `Receive::receive` for a message handler: reads its
    /// `Data<T>` parameters, takes the lock and calls the method with the
    /// message (the parameter `message`, moved in).
    pub(crate) fn message(&self, method: &Method, message: &Ident) -> TokenStream {
        let Names { ctx, ret, .. } = self.names;
        let private = self.private();
        let session = session_ref();
        let mut reads = Vec::new();
        let mut locals = Vec::new();
        for (index, param) in method.params.iter().enumerate() {
            match param {
                Param::Arg { .. } => locals.push(message.clone()),
                Param::Data { inner } => {
                    let local = format_ident!("arg{}", index, span = Span::mixed_site());
                    reads.push(quote_spanned! {inner.span()=>
                        let #local = #private::app_data::<#inner>(#session)?;
                    });
                    locals.push(local);
                }
                Param::Kwargs { .. } | Param::Injected { .. } => {}
            }
        }
        // A sync method that can move does, for every component of this
        // type, once one of its runs held its thread too long.
        let limits = Limits { concurrency: None, timeout_ms: None, blocking: None };
        let (moved_call, note) = match Movable::of(self.krate, method, &limits) {
            Some(movable) => {
                let Names { state, err, .. } = self.names;
                let mover = self.mover(&movable);
                let closure = self.on_worker(method, &locals);
                let flag = Ident::new("__WAMP_PLACEMENT", Span::mixed_site());
                // As for procedures (`moved_call`).
                let shared = (!method.mutable).then(|| quote!(&& !#state.read_held()));
                let name = match method.params.iter().find_map(|p| match p {
                    Param::Arg { ty, .. } => Some(ty),
                    _ => None,
                }) {
                    Some(ty) => quote!(::core::any::type_name::<#ty>()),
                    None => quote!(::core::any::type_name::<Self>()),
                };
                (
                    quote! {
                        static #flag: #private::Placement = #private::Placement::new();
                        if #flag.on_pool({ #mover.movable() }) #shared {
                            let #ret = match { #mover.offload(&#state, &#flag, #name, #closure) }.await {
                                ::core::result::Result::Ok(value) => value,
                                ::core::result::Result::Err(#err) => return ::core::result::Result::Err(#err),
                            };
                            return ::core::result::Result::Ok(#ret);
                        }
                    },
                    quote! {
                        if { #mover.movable() } {
                            #flag.note_run(#name);
                        }
                    },
                )
            }
            None => (quote!(), quote!()),
        };
        let call = self.call(method, &locals, &note);
        quote! {
            ::std::boxed::Box::pin(async move {
                let #session = &#ctx;
                #(#reads)*
                #moved_call
                #call
                ::core::result::Result::Ok(#ret)
            })
        }
    }

    /// The closure of a lifecycle hook.
    pub(crate) fn hook(&self, method: &Method) -> TokenStream {
        let krate = self.krate;
        let private = self.private();
        let Names { state, ctx, ret, .. } = self.names;
        let call = self.call(method, &[], &quote!());
        let finish = match &method.output {
            Output::Plain(_) => quote!(::core::result::Result::Ok(#ret)),
            Output::Result { err: err_ty, whole, .. } => {
                let value = &self.names.value;
                self.match_result(quote!(::core::result::Result::Ok(#value)), err_ty.as_deref(), whole)
            }
        };
        quote! {{
            let #state = ::std::rc::Rc::clone(&#state);
            ::std::rc::Rc::new(move |
                #ctx: #krate::Session,
            | -> #private::LocalBoxFuture<'static, ::core::result::Result<(), #krate::Error>> {
                let #state = ::std::rc::Rc::clone(&#state);
                ::std::boxed::Box::pin(async move {
                    #call
                    #finish
                })
            })
        }}
    }
}

/// The same tokens with another span (for paths whose resolution does not
/// depend on their span: `crate`, `::wamp`).
pub(crate) fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut tree| {
            if let TokenTree::Group(g) = &tree {
                let mut group = Group::new(g.delimiter(), respan(&g.stream(), span));
                group.set_span(span);
                tree = TokenTree::Group(group);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

fn uses(method: &Method, what: Injected) -> bool {
    method.params.iter().any(|p| matches!(p, Param::Injected { what: w, .. } if *w == what))
}

/// The closure parameter: its name if the method uses it, else `_`.
fn unused_unless(name: &Ident, used: bool) -> TokenStream {
    if used {
        name.to_token_stream()
    } else {
        quote!(_)
    }
}

/// A reference to the session, which the closure reading the arguments
/// captures (rather than the session itself).
fn session_ref() -> Ident {
    Ident::new("session_ref", Span::mixed_site())
}

/// The types of a method that is not `async` that could move to the
/// blocking pool (on trial, or after a slow run): it takes no `Session`
/// (event details it may, and call details, which go as a `Send` copy
/// with a relay on the session's thread), and its arguments and result
/// are owned types the generated code can name. Whether it can (the
/// component and the types `Send`) is decided by the compiler through
/// `Mover`.
pub(crate) struct Movable {
    /// The arguments' types, in order.
    args: Vec<TokenStream>,
    /// The return type (`()` when there is none).
    output: TokenStream,
}

impl Movable {
    pub(crate) fn of(krate: &TokenStream, method: &Method, limits: &Limits) -> Option<Movable> {
        if method.is_async || limits.blocking.is_some() {
            return None;
        }
        let mut args = Vec::new();
        for param in &method.params {
            let ty = match param {
                Param::Arg { ty, .. } | Param::Kwargs { ty } => ty.to_token_stream(),
                Param::Data { inner } => quote!(#krate::Data<#inner>),
                // An event's details are plain data; a call's go as a copy
                // that is `Send` by construction. The session stays.
                Param::Injected { what: Injected::EventDetails, .. } => quote!(#krate::client::EventDetails),
                Param::Injected { what: Injected::CallDetails, .. } => continue,
                Param::Injected { what: Injected::Session, .. } => return None,
            };
            if !owned(ty.clone()) {
                return None;
            }
            args.push(ty);
        }
        let output = match &method.returns {
            Some(ty) => ty.to_token_stream(),
            None => quote!(()),
        };
        owned(output.clone()).then_some(Movable { args, output })
    }
}

/// Whether a type, as written, borrows nothing but `'static` data and
/// hides nothing behind `impl` (so it can be named in a tuple and moved
/// to another thread).
fn owned(ty: TokenStream) -> bool {
    let mut tokens = ty.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Group(group) if !owned(group.stream()) => return false,
            TokenTree::Ident(ident) if ident == "impl" => return false,
            TokenTree::Punct(punct) if punct.as_char() == '\'' => match tokens.next() {
                Some(TokenTree::Ident(lifetime)) if lifetime == "static" => {}
                _ => return false,
            },
            TokenTree::Punct(punct) if punct.as_char() == '&' => {
                // Only `&'static`.
                let is_static = matches!(tokens.peek(), Some(TokenTree::Punct(p)) if p.as_char() == '\'');
                if !is_static {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}
