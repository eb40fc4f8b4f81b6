//! kiel's `tracing` spans for Produce requests and batches, with the OpenTelemetry
//! messaging attributes, as a subscriber sees them after a run against a real broker
//! (kiel-testcontainers' shared cluster, or `KAFKA_BOOTSTRAP`).

mod common;

use common::unique;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiel::{Producer, Record};
use kiel_testcontainers::shared_cluster;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record as Values};
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as the subscriber saw it: its name, fields and parent's name.
#[derive(Debug, Clone, Default)]
struct Seen {
    name: String,
    parent: Option<String>,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Spans(Arc<Mutex<BTreeMap<u64, Seen>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Spans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !attrs.metadata().target().starts_with("kiel::produce") {
            return;
        }
        let mut seen = Seen {
            name: attrs.metadata().name().to_owned(),
            parent: ctx
                .span(id)
                .and_then(|s| s.parent().map(|p| p.name().to_owned())),
            ..Seen::default()
        };
        attrs.record(&mut Fields(&mut seen.fields));
        self.0.lock().unwrap().insert(id.into_u64(), seen);
    }

    fn on_record(&self, id: &Id, values: &Values<'_>, _ctx: Context<'_, S>) {
        if let Some(seen) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(&mut seen.fields));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_requests_and_batches_are_spans_with_messaging_attributes() {
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(
        spans.clone().with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_target("kiel::produce", tracing::Level::DEBUG),
        ),
    );
    tracing::subscriber::set_global_default(subscriber)
        .unwrap_or_else(|e| panic!("another subscriber is installed: {e}"));
    let cluster = shared_cluster()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Kafka broker: {e}"));
    let topic = unique("traces");
    cluster
        .create_topic(&topic, 1, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .client_id("traces-test")
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let futures: Vec<_> = (0..20)
        .map(|i| {
            producer
                .produce(&topic, Record::value(format!("{i}")))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    for f in futures {
        f.await.unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(producer.flush(Duration::from_secs(30)).await, 0);
    producer.close().await;

    let seen: Vec<Seen> = spans.0.lock().unwrap().values().cloned().collect();
    let ours = |s: &&Seen| s.fields.get("messaging.destination.name") == Some(&topic);
    let requests: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.name == "kiel.produce")
        .filter(ours)
        .collect();
    let batches: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.name == "kiel.batch")
        .filter(ours)
        .collect();
    assert!(
        !requests.is_empty(),
        "no request span for {topic}: {seen:#?}"
    );
    for r in &requests {
        assert_eq!(r.fields["messaging.system"], "kafka", "{r:#?}");
        assert_eq!(r.fields["messaging.operation.type"], "send");
        assert_eq!(r.fields["messaging.client.id"], "traces-test");
        assert!(r.fields["server.address"].contains(':'), "{r:#?}");
        assert!(r.fields.contains_key("kiel.broker.id"));
        assert!(!r.fields.contains_key("error.type"), "no error: {r:#?}");
    }
    let count = |spans: &[&Seen]| -> u64 {
        spans
            .iter()
            .map(|s| {
                s.fields["messaging.batch.message_count"]
                    .parse::<u64>()
                    .unwrap()
            })
            .sum()
    };
    // Every record in exactly one request and one batch.
    assert_eq!(count(&requests), 20, "{requests:#?}");
    assert_eq!(count(&batches), 20, "{batches:#?}");
    for b in &batches {
        assert_eq!(b.parent.as_deref(), Some("kiel.produce"), "{b:#?}");
        assert_eq!(b.fields["messaging.destination.partition.id"], "0");
    }
}
