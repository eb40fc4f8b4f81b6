//! W3C trace context in record headers (feature `opentelemetry`): records produced inside a
//! span traced by OpenTelemetry (through `tracing-opentelemetry`) carry that span's
//! `traceparent`, read back with Kafka's console consumer; records produced outside any span,
//! or by a producer without the setting, carry none. Against kiel-testcontainers' shared
//! cluster, or `KAFKA_BOOTSTRAP`.

mod common;

use common::unique;

use std::time::Duration;

use kiel::{Producer, Record};
use kiel_testcontainers::shared_cluster;
use opentelemetry::trace::{TraceContextExt, TracerProvider as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

fn header<'a>(headers: &'a [(String, Option<Vec<u8>>)], key: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| std::str::from_utf8(v.as_deref().unwrap_or_default()).unwrap())
        .collect()
}

#[tokio::test]
async fn records_produced_in_a_traced_span_carry_its_traceparent() {
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("trace-context-test")));
    // This runtime has one thread: produce() runs on it, inside the span below.
    let _default = tracing::subscriber::set_default(subscriber);

    let cluster = shared_cluster()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Kafka broker: {e}"));
    let topic = unique("trace-context");
    cluster
        .create_topic(&topic, 1, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let traced = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .propagate_trace_context(true)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let untraced = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let checkout = tracing::info_span!("checkout");
    let span_context = checkout.context().span().span_context().clone();
    assert!(span_context.is_valid(), "the SDK traced the span");
    let expected = format!(
        "00-{}-{}-01",
        span_context.trace_id(),
        span_context.span_id()
    );
    let mut futures = Vec::new();
    {
        let _entered = checkout.enter();
        // 0: in the span; 1: in the span, with a stale traceparent of its own (replaced);
        // 2: in the span, by the producer without the setting.
        futures.push(traced.produce(&topic, Record::value("0")).unwrap());
        futures.push(
            traced
                .produce(
                    &topic,
                    Record::value("1").with_header("traceparent", "00-stale"),
                )
                .unwrap(),
        );
        futures.push(untraced.produce(&topic, Record::value("2")).unwrap());
    }
    // 3: outside any span.
    futures.push(traced.produce(&topic, Record::value("3")).unwrap());
    for f in futures {
        f.await.unwrap_or_else(|e| panic!("{e}"));
    }
    traced.close().await;
    untraced.close().await;

    let records = cluster
        .consume_all(&topic, 4, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let by_value = |v: &str| {
        records
            .iter()
            .find(|r| r.value.as_deref() == Some(v.as_bytes()))
            .unwrap_or_else(|| panic!("record {v} missing: {records:#?}"))
    };
    assert_eq!(header(&by_value("0").headers, "traceparent"), [&*expected]);
    assert_eq!(header(&by_value("1").headers, "traceparent"), [&*expected]);
    assert!(header(&by_value("2").headers, "traceparent").is_empty());
    assert!(header(&by_value("3").headers, "traceparent").is_empty());
    for r in &records {
        assert!(header(&r.headers, "tracestate").is_empty(), "{r:#?}");
    }
}
