//! The race's workloads: broker count × record size × codec, each run twice over: flat out
//! (the throughput run) and at half the slowest client's flat-out rate (the latency run).

use std::fmt;

use crate::settings::Codec;

/// The brokers a workload runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Brokers {
    /// A cluster of this many nodes started by kiel-testcontainers.
    Local(usize),
    /// Brokers given with `--bootstrap`.
    External,
}

impl fmt::Display for Brokers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local(1) => f.write_str("1 broker"),
            Self::Local(n) => write!(f, "{n} brokers"),
            Self::External => f.write_str("--bootstrap"),
        }
    }
}

/// One workload: where, how big, which codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Workload {
    /// The brokers.
    pub brokers: Brokers,
    /// Bytes per record value.
    pub record_size: u32,
    /// The codec.
    pub codec: Codec,
}

impl Workload {
    /// A short label: `1 broker, 100 B, none`.
    pub fn label(&self) -> String {
        format!(
            "{}, {}, {}",
            self.brokers,
            format_size(self.record_size),
            self.codec
        )
    }

    /// A name usable in topic and file names: `b1-s100-none`.
    pub fn slug(&self) -> String {
        let brokers = match self.brokers {
            Brokers::Local(n) => format!("b{n}"),
            Brokers::External => "ext".to_owned(),
        };
        format!("{brokers}-s{}-{}", self.record_size, self.codec)
    }
}

/// `100 B`, `1 KiB`, `1536 B`.
pub fn format_size(bytes: u32) -> String {
    if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}

/// Which of a workload's two runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// As fast as possible (`--throughput -1`).
    Throughput,
    /// At half the slowest client's median rate in the throughput run.
    Latency,
}

impl Phase {
    /// `throughput` or `latency`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Throughput => "throughput",
            Self::Latency => "latency",
        }
    }
}

/// Record values of at most this size run the full `--records`; larger ones run
/// proportionally fewer, so a run takes about as long.
pub const FULL_COUNT_MAX_SIZE: u32 = 300;

/// Records for a throughput run of `record_size`-byte records when `--records` is `base`:
/// `base` up to [`FULL_COUNT_MAX_SIZE`] bytes, `base × 300 / size` above (1 KiB: 29%), at
/// least 1,000.
pub fn throughput_records(base: u64, record_size: u32) -> u64 {
    let scaled = if record_size <= FULL_COUNT_MAX_SIZE {
        base
    } else {
        base.saturating_mul(u64::from(FULL_COUNT_MAX_SIZE)) / u64::from(record_size)
    };
    scaled.max(1000)
}

/// The latency run's target rate: half the slowest client's rate, whole records/s, at
/// least 1; `None` when no client finished the throughput run.
pub fn latency_rate(medians_per_client: &[f64]) -> Option<f64> {
    let slowest = medians_per_client
        .iter()
        .copied()
        .filter(|r| r.is_finite() && *r > 0.0)
        .min_by(f64::total_cmp)?;
    Some((slowest / 2.0).floor().max(1.0))
}

/// Records for a latency run at `rate` lasting about `seconds`, never more than the
/// throughput run sent, at least 1,000.
pub fn latency_records(rate: f64, seconds: f64, throughput_records: u64) -> u64 {
    let wanted = (rate * seconds).max(0.0) as u64;
    wanted.min(throughput_records).max(1000)
}

/// The order of the clients in round `round`: the list rotated by `round` places, so every
/// client takes every position in turn.
pub fn rotated<T: Clone>(items: &[T], round: usize) -> Vec<T> {
    if items.is_empty() {
        return Vec::new();
    }
    let mut order = items.to_vec();
    order.rotate_left(round % items.len());
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn larger_records_run_fewer_records() {
        assert_eq!(throughput_records(1_000_000, 100), 1_000_000);
        assert_eq!(throughput_records(1_000_000, 300), 1_000_000);
        assert_eq!(throughput_records(1_000_000, 1024), 292_968);
        assert_eq!(throughput_records(10, 100), 1000);
    }

    #[test]
    fn the_latency_run_goes_at_half_the_slowest_rate_for_its_duration() {
        assert_eq!(
            latency_rate(&[250_000.0, 101_000.5, 180_000.0]),
            Some(50_500.0)
        );
        assert_eq!(latency_rate(&[f64::NAN, 0.0]), None);
        assert_eq!(latency_rate(&[]), None);
        assert_eq!(latency_records(50_000.0, 10.0, 1_000_000), 500_000);
        assert_eq!(latency_records(50_000.0, 10.0, 200_000), 200_000);
        assert_eq!(latency_records(10.0, 1.0, 200_000), 1000);
    }

    #[test]
    fn rounds_rotate_the_client_order() {
        let clients = ["a", "b", "c"];
        assert_eq!(rotated(&clients, 0), ["a", "b", "c"]);
        assert_eq!(rotated(&clients, 1), ["b", "c", "a"]);
        assert_eq!(rotated(&clients, 2), ["c", "a", "b"]);
        assert_eq!(rotated(&clients, 3), ["a", "b", "c"]);
        assert!(rotated::<u8>(&[], 1).is_empty());
    }

    #[test]
    fn labels_name_the_workload() {
        let w = Workload {
            brokers: Brokers::Local(3),
            record_size: 1024,
            codec: Codec::Lz4,
        };
        assert_eq!(w.label(), "3 brokers, 1 KiB, lz4");
        assert_eq!(w.slug(), "b3-s1024-lz4");
        assert_eq!(format_size(100), "100 B");
    }
}
