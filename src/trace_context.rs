//! W3C Trace Context in record headers (feature `opentelemetry`): with
//! [`ProducerBuilder::propagate_trace_context`](crate::ProducerBuilder::propagate_trace_context)
//! on, `produce` writes the OpenTelemetry context of the caller's current span into each record
//! as a `traceparent` header (and `tracestate` when the context carries one), so a consumer
//! can continue the trace, as OpenTelemetry's Kafka instrumentations do.
//!
//! The context is the current `tracing` span's, through `tracing-opentelemetry`'s layer; when
//! that span has none (no OpenTelemetry layer, or no span), the context attached with
//! OpenTelemetry's own API ([`opentelemetry::Context::attach`]). A record without a valid
//! context gets no header. Headers of those names already on the record are replaced, never
//! doubled.
//!
//! # References
//! - W3C Trace Context, Level 1: the `traceparent` and `tracestate` headers
//! - OpenTelemetry semantic conventions for messaging: context propagation
//! - `tracing-opentelemetry`'s `OpenTelemetrySpanExt::context`

use bytes::Bytes;
use opentelemetry::trace::{SpanContext, TraceContextExt};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::record::Header;

/// The header carrying version, trace id, parent span id and flags.
pub(crate) const TRACEPARENT: &str = "traceparent";
/// The header carrying vendors' trace state, when there is any.
pub(crate) const TRACESTATE: &str = "tracestate";

/// Writes the caller's current trace context into `headers`.
pub(crate) fn inject_current(headers: &mut Vec<Header>) {
    let from_span = tracing::Span::current().context();
    let span_context = from_span.span().span_context().clone();
    let span_context = if span_context.is_valid() {
        span_context
    } else {
        opentelemetry::Context::current()
            .span()
            .span_context()
            .clone()
    };
    inject(&span_context, headers);
}

/// Writes `span_context` into `headers` (nothing when it is not valid).
pub(crate) fn inject(span_context: &SpanContext, headers: &mut Vec<Header>) {
    if !span_context.is_valid() {
        return;
    }
    set(headers, TRACEPARENT, traceparent(span_context));
    let state = span_context.trace_state().header();
    if state.is_empty() {
        headers.retain(|h| h.key != TRACESTATE);
    } else {
        set(headers, TRACESTATE, state);
    }
}

/// `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`.
fn traceparent(span_context: &SpanContext) -> String {
    format!(
        "00-{}-{}-{:02x}",
        span_context.trace_id(),
        span_context.span_id(),
        span_context.trace_flags().to_u8()
    )
}

fn set(headers: &mut Vec<Header>, key: &str, value: String) {
    headers.retain(|h| h.key != key);
    headers.push(Header::new(key, Bytes::from(value)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

    fn context(state: TraceState) -> SpanContext {
        SpanContext::new(
            TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            TraceFlags::SAMPLED,
            false,
            state,
        )
    }

    fn value<'a>(headers: &'a [Header], key: &str) -> Vec<&'a [u8]> {
        headers
            .iter()
            .filter(|h| h.key == key)
            .map(|h| h.value.as_deref().unwrap())
            .collect()
    }

    #[test]
    fn a_valid_context_becomes_the_w3c_header_replacing_an_old_one() {
        let mut headers = vec![
            Header::new("app", "x"),
            Header::new(TRACEPARENT, "00-old"),
            Header::new(TRACESTATE, "old=1"),
        ];
        inject(&context(TraceState::default()), &mut headers);
        assert_eq!(
            value(&headers, TRACEPARENT),
            [&b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"[..]]
        );
        assert!(value(&headers, TRACESTATE).is_empty());
        assert_eq!(value(&headers, "app"), [&b"x"[..]]);
    }

    #[test]
    fn trace_state_travels_and_an_invalid_context_writes_nothing() {
        let state = TraceState::from_key_value([("vendor", "abc")]).unwrap();
        let mut headers = Vec::new();
        inject(&context(state), &mut headers);
        assert_eq!(value(&headers, TRACESTATE), [&b"vendor=abc"[..]]);

        let mut headers = Vec::new();
        inject(&SpanContext::empty_context(), &mut headers);
        assert!(headers.is_empty());
    }
}
