//! The short metrics summary `kiel perf` (and `kiel produce --stats`) print on stderr at
//! the end of a run, from the producer's [`ProducerMetrics`] snapshot: records, requests
//! and records per request, retries and errors by name, compression ratio, queue time, and
//! Produce latency per broker.

use std::time::Duration;

use kiel::ProducerMetrics;

/// Milliseconds, with a fraction below 10 ms.
fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1}")
    } else {
        format!("{ms:.0}")
    }
}

/// The summary lines, each starting with `prefix` (e.g. `kiel perf: `).
pub(crate) fn summary(prefix: &str, m: &ProducerMetrics) -> Vec<String> {
    let mut lines = Vec::new();
    let errors = if m.records_failed_by_error.is_empty() {
        String::new()
    } else {
        let by_name: Vec<String> = m
            .records_failed_by_error
            .iter()
            .map(|(name, n)| format!("{name} {n}"))
            .collect();
        format!(" ({})", by_name.join(", "))
    };
    lines.push(format!(
        "{prefix}{} records acknowledged, {} failed{errors}, {} retried; {} Produce requests ({:.1} records each), {} batches; compression ratio {:.2}",
        m.records_acknowledged,
        m.records_failed,
        m.records_retried,
        m.requests_sent,
        m.records_per_request(),
        m.batches_sent,
        m.compression_ratio(),
    ));
    lines.push(format!(
        "{prefix}queue time mean {} ms, p99 {} ms; buffer waits {} ({} ms); epoch bumps {}; metadata requests {}",
        ms(m.queue_time.mean),
        ms(m.queue_time.p99),
        m.buffer_waits,
        ms(m.buffer_wait_time),
        m.epoch_bumps,
        m.metadata_requests,
    ));
    for (id, b) in &m.brokers {
        if b.produce_requests == 0 && b.connection_failures == 0 {
            continue;
        }
        let throttle = if b.throttle_time.count > 0 {
            format!(
                ", throttled {} times (max {} ms)",
                b.throttle_time.count,
                ms(b.throttle_time.max)
            )
        } else {
            String::new()
        };
        lines.push(format!(
            "{prefix}broker {id}: {} Produce requests, latency p50 {} ms, p99 {} ms, max {} ms; connections {} opened, {} closed, {} failed{throttle}",
            b.produce_requests,
            ms(b.produce_latency.p50),
            ms(b.produce_latency.p99),
            ms(b.produce_latency.max),
            b.connections_opened,
            b.connections_closed,
            b.connection_failures,
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_snapshot_reads_as_nothing_done() {
        let lines = summary("kiel perf: ", &ProducerMetrics::default());
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("kiel perf: 0 records acknowledged, 0 failed, 0 retried; 0 Produce requests (0.0 records each)"), "{}", lines[0]);
        assert!(lines[0].ends_with("compression ratio 1.00"), "{}", lines[0]);
    }

    #[test]
    fn milliseconds_keep_a_fraction_below_ten() {
        assert_eq!(ms(Duration::from_micros(2_340)), "2.3");
        assert_eq!(ms(Duration::from_millis(125)), "125");
    }
}
