//! `#[derive(Event)]` for kiel-schema-registry: `#[event(topic = "orders", key = "order_id")]`
//! on a struct says once which topic its values go to and which field is the record key.
//! Use it through `kiel_schema_registry::Event` (the `derive` feature).
//!
//! # References
//! - the `serde_derive` and `thiserror-impl` crates (attribute parsing with `syn`)

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields, LitStr};

/// Implements `kiel_schema_registry::Event` from `#[event(topic = "...", key = "field")]`.
///
/// `topic` is required. `key` names a field whose value becomes the record key through
/// `kiel_schema_registry::EventKey` (text as UTF-8, integers in decimal, bytes as they are,
/// `Option`s as no key when `None`); without `key` records have no key.
#[proc_macro_derive(Event, attributes(event))]
pub fn derive_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let mut topic: Option<LitStr> = None;
    let mut key: Option<LitStr> = None;
    for attribute in input.attrs.iter().filter(|a| a.path().is_ident("event")) {
        attribute.parse_nested_meta(|meta| {
            if meta.path.is_ident("topic") {
                topic = Some(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("key") {
                key = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("expected `topic = \"...\"` or `key = \"field\"`"))
            }
        })?;
    }
    let topic = topic.ok_or_else(|| {
        syn::Error::new_spanned(
            &input.ident,
            "#[derive(Event)] needs #[event(topic = \"...\")] naming the topic",
        )
    })?;
    if topic.value().is_empty() {
        return Err(syn::Error::new_spanned(&topic, "the topic name is empty"));
    }
    let key_body = match &key {
        None => quote! { ::core::option::Option::None },
        Some(name) => {
            let field = find_field(input, name)?;
            quote! { ::kiel_schema_registry::EventKey::event_key(&self.#field) }
        }
    };
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::kiel_schema_registry::Event for #ident #type_generics #where_clause {
            const TOPIC: &'static str = #topic;

            fn key(&self) -> ::core::option::Option<::kiel_schema_registry::__private::Bytes> {
                #key_body
            }
        }
    })
}

/// The field `name` of a struct with named fields.
fn find_field(input: &DeriveInput, name: &LitStr) -> syn::Result<syn::Ident> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[event(key = \"...\")] needs a struct with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "#[event(key = \"...\")] needs a struct with named fields",
        ));
    };
    fields
        .named
        .iter()
        .filter_map(|f| f.ident.clone())
        .find(|ident| *ident == name.value())
        .ok_or_else(|| {
            syn::Error::new_spanned(
                name,
                format!("`{}` has no field `{}`", input.ident, name.value()),
            )
        })
}
