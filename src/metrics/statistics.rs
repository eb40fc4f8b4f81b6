//! librdkafka-style statistics: a task that hands the callback a snapshot every
//! `statistics.interval.ms`, and [`ProducerMetrics::to_json`], the snapshot under the names
//! of librdkafka's STATISTICS.md for the fields kiel has (the mapping is in METRICS.md).
//!
//! # References
//! - librdkafka `STATISTICS.md` (field names, units: microseconds for latencies)

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{LatencySummary, ProducerMetrics};
use crate::shared::Shared;

/// Starts the periodic tasks the configuration asks for: the statistics callback every
/// `statistics.interval.ms`, and (feature `metrics`) the export through the `metrics`
/// facade every [`export_metrics`](crate::ProducerBuilder::export_metrics) interval.
pub(crate) fn spawn_statistics(shared: &Arc<Shared>) {
    if let Some(callback) = shared.config.statistics_callback.clone() {
        spawn_every(shared, shared.config.statistics_interval, move |m| {
            callback(m)
        });
    }
    #[cfg(feature = "metrics")]
    spawn_every(shared, shared.config.metrics_export_interval, |m| {
        m.export()
    });
}

/// Every `interval`, a snapshot to `f`, until the producer has closed (or is dropped).
fn spawn_every(
    shared: &Arc<Shared>,
    interval: Duration,
    f: impl Fn(&ProducerMetrics) + Send + 'static,
) {
    // Zero is off; so is anything over a century (`Duration::MAX` means never).
    if interval.is_zero() || interval > Duration::from_secs(100 * 365 * 24 * 3600) {
        return;
    }
    let shared = Arc::downgrade(shared);
    tokio::spawn(async move {
        let first = tokio::time::Instant::now() + interval;
        let mut ticks = tokio::time::interval_at(first, interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(shared) = shared.upgrade() else {
                return;
            };
            if shared.closed.load(std::sync::atomic::Ordering::Acquire) {
                return;
            }
            let snapshot = shared.metrics();
            drop(shared);
            f(&snapshot);
        }
    });
}

/// Writes `text` as a JSON string.
fn json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// A librdkafka window object (`rtt`, `int_latency`, `throttle`): microseconds, or
/// milliseconds for `throttle`.
fn window(out: &mut String, s: &LatencySummary, unit: fn(Duration) -> u64) {
    let _ = write!(
        out,
        "{{\"max\":{},\"avg\":{},\"p50\":{},\"p99\":{},\"cnt\":{}}}",
        unit(s.max),
        unit(s.mean),
        unit(s.p50),
        unit(s.p99),
        s.count
    );
}

impl ProducerMetrics {
    /// The snapshot as JSON with librdkafka's statistics names where kiel has the figure
    /// (`msg_cnt`, `msg_size`, `msg_size_max`, `tx`, `txmsgs`, `txmsg_bytes`, `txretries`,
    /// `brokers.*.rtt` / `throttle` / `connects` / `disconnects`, `eos.epoch_cnt`, ...),
    /// and the rest under `kiel`; the mapping is in METRICS.md. Latencies are in
    /// microseconds, as librdkafka's; `throttle` in milliseconds.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(1024);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        out.push('{');
        out.push_str("\"name\":");
        json_string(&mut out, &self.client_id);
        out.push_str(",\"client_id\":");
        json_string(&mut out, &self.client_id);
        let _ = write!(
            out,
            ",\"type\":\"producer\",\"time\":{},\"msg_cnt\":{},\"msg_size\":{},\"msg_size_max\":{},\"tx\":{},\"txmsgs\":{},\"txmsg_bytes\":{},\"txretries\":{}",
            now.as_secs(),
            self.records_outstanding,
            self.buffer_used_bytes,
            self.buffer_total_bytes,
            self.brokers.values().map(|b| b.requests_sent).sum::<u64>(),
            self.records_acknowledged,
            self.bytes_after_compression,
            self.batches_retried,
        );
        out.push_str(",\"int_latency\":");
        window(&mut out, &self.queue_time, micros);
        out.push_str(",\"brokers\":{");
        for (i, (id, b)) in self.brokers.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_string(&mut out, &id.to_string());
            let _ = write!(
                out,
                ":{{\"nodeid\":{id},\"tx\":{},\"produce_tx\":{},\"waitresp_cnt\":{},\"connects\":{},\"disconnects\":{},\"connect_failures\":{},\"rtt\":",
                b.requests_sent,
                b.produce_requests,
                b.in_flight_requests,
                b.connections_opened,
                b.connections_closed,
                b.connection_failures,
            );
            window(&mut out, &b.produce_latency, micros);
            out.push_str(",\"throttle\":");
            window(&mut out, &b.throttle_time, |d| {
                u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
            });
            out.push('}');
        }
        out.push('}');
        let _ = write!(out, ",\"eos\":{{\"epoch_cnt\":{}}}", self.epoch_bumps);
        let _ = write!(
            out,
            ",\"kiel\":{{\"records_sent\":{},\"records_acknowledged\":{},\"records_failed\":{},\"records_retried\":{},\"batches_sent\":{},\"batches_retried\":{},\"requests_sent\":{},\"bytes_before_compression\":{},\"bytes_after_compression\":{},\"compression_ratio\":{:.4},\"buffer_waits\":{},\"buffer_wait_time_us\":{},\"metadata_requests\":{},\"topics\":{{",
            self.records_sent,
            self.records_acknowledged,
            self.records_failed,
            self.records_retried,
            self.batches_sent,
            self.batches_retried,
            self.requests_sent,
            self.bytes_before_compression,
            self.bytes_after_compression,
            self.compression_ratio(),
            self.buffer_waits,
            micros(self.buffer_wait_time),
            self.metadata_requests,
        );
        for (i, (name, t)) in self.topics.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_string(&mut out, name);
            let _ = write!(
                out,
                ":{{\"records_sent\":{},\"records_acknowledged\":{},\"records_failed\":{},\"records_retried\":{},\"bytes_before_compression\":{},\"bytes_after_compression\":{},\"compression_ratio\":{:.4}}}",
                t.records_sent,
                t.records_acknowledged,
                t.records_failed,
                t.records_retried,
                t.bytes_before_compression,
                t.bytes_after_compression,
                t.compression_ratio(),
            );
        }
        out.push_str("},\"records_failed_by_error\":{");
        for (i, (name, n)) in self.records_failed_by_error.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json_string(&mut out, name);
            let _ = write!(out, ":{n}");
        }
        out.push_str("}}}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        let mut out = String::new();
        json_string(&mut out, "a\"b\\c\nd\u{1}");
        assert_eq!(out, r#""a\"b\\c\nd\u0001""#);
    }

    #[test]
    fn the_json_of_an_empty_snapshot_has_the_librdkafka_names() {
        let m = ProducerMetrics {
            client_id: "my \"client\"".into(),
            ..ProducerMetrics::default()
        };
        let json = m.to_json();
        for name in [
            "\"name\":\"my \\\"client\\\"\"",
            "\"type\":\"producer\"",
            "\"msg_cnt\":0",
            "\"txmsgs\":0",
            "\"brokers\":{}",
            "\"eos\":{\"epoch_cnt\":0}",
        ] {
            assert!(json.contains(name), "{name} in {json}");
        }
        assert!(json.ends_with("\"records_failed_by_error\":{}}}"), "{json}");
    }
}
