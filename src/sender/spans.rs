//! `tracing` spans for Produce requests and their batches, with the OpenTelemetry messaging
//! semantic conventions' attributes, so a `tracing-opentelemetry` layer (or any subscriber)
//! sees each send as a producer span: `kiel.produce` (info level) from the request's send to
//! its answer, with one `kiel.batch` child (debug level) per batch. Disabled levels cost a
//! callsite check: no field is computed, nothing is allocated.
//!
//! Attributes: `messaging.system` = `kafka`, `messaging.operation.type` = `send`,
//! `messaging.operation.name` = `produce`, `messaging.batch.message_count`,
//! `messaging.destination.name` and `messaging.destination.partition.id` (per batch, and on
//! the request when it holds one topic / one partition), `server.address` and `kiel.broker.id`
//! (the broker), `messaging.client.id`, and `error.type` (the Kafka error code's name) on an
//! answer that refused a batch.
//!
//! # References
//! - OpenTelemetry semantic conventions for messaging spans (and their Kafka page)

use tracing::field::Empty;
use tracing::Span;

use crate::batch::ProducerBatch;

/// The spans of one Produce request in flight: none (a null pointer) when no subscriber
/// wants them.
#[derive(Debug, Default)]
pub(crate) struct ProduceSpans(Option<Box<Spans>>);

#[derive(Debug)]
struct Spans {
    request: Span,
    batches: Vec<Span>,
}

impl ProduceSpans {
    /// The spans of a Produce request to `broker` at `address` carrying `batches`; empty
    /// when no subscriber wants them.
    pub(crate) fn new(
        broker: i32,
        address: impl FnOnce() -> String,
        client_id: &str,
        batches: &[ProducerBatch],
    ) -> Self {
        let one_topic = || {
            let first = batches.first()?;
            batches
                .iter()
                .all(|b| b.topic == first.topic)
                .then(|| first.topic.to_string())
        };
        let one_partition = || {
            let first = batches.first()?;
            (batches.len() == 1).then_some(first.partition)
        };
        let request = tracing::info_span!(
            target: "kiel::produce",
            "kiel.produce",
            "otel.kind" = "producer",
            "messaging.system" = "kafka",
            "messaging.operation.type" = "send",
            "messaging.operation.name" = "produce",
            "messaging.client.id" = client_id,
            "messaging.batch.message_count" =
                batches.iter().map(|b| u64::from(b.record_count())).sum::<u64>(),
            "messaging.destination.name" = one_topic().as_deref(),
            "messaging.destination.partition.id" = one_partition(),
            "server.address" = tracing::field::display(address()),
            "kiel.broker.id" = broker,
            "error.type" = Empty,
        );
        if request.is_disabled() {
            return Self::default();
        }
        let batch_spans = batches
            .iter()
            .map(|b| {
                tracing::debug_span!(
                    target: "kiel::produce",
                    parent: &request,
                    "kiel.batch",
                    "messaging.system" = "kafka",
                    "messaging.destination.name" = &*b.topic,
                    "messaging.destination.partition.id" = b.partition,
                    "messaging.batch.message_count" = b.record_count(),
                    "kiel.attempt" = b.send.attempts + 1,
                    "error.type" = Empty,
                )
            })
            .collect();
        Self(Some(Box::new(Spans {
            request,
            batches: batch_spans,
        })))
    }

    /// The answer refused batch `index` with the error named `error`.
    pub(crate) fn refused(&self, index: usize, error: &str) {
        if let Some(spans) = &self.0 {
            spans.request.record("error.type", error);
            if let Some(batch) = spans.batches.get(index) {
                batch.record("error.type", error);
            }
        }
    }

    /// No answer came (the connection was lost, the request timed out).
    pub(crate) fn lost(&self, error: &str) {
        if let Some(spans) = &self.0 {
            spans.request.record("error.type", error);
        }
    }
}
