//! The race's workloads and their runs: each workload variant (brokers, record size, codec,
//! partitions, keys, acknowledgements, settings) is run twice over: flat out (the throughput
//! run) and at half the slowest client's flat-out rate (the latency run).
//!
//! `--workloads` picks from:
//!
//! | name | what | variants |
//! | --- | --- | --- |
//! | `classic` | the first races' matrix | `--brokers` × `--sizes` × `--codecs`, `--partitions` partitions |
//! | `a` | kacrab's published workload | 1 broker, 10 B, none, 16 partitions |
//! | `b` | large values | 1 broker, 10 KiB, none and zstd |
//! | `c` | keyed records | 1 broker, 100 B, none, 64 partitions, keys Zipf(1.1) over 10,000 |
//! | `d` | leader acknowledgement | 1 broker, 100 B, none, acks=1 without idempotence |
//! | `e` | out of the box | 1 broker, 100 B, none, each client's own batching defaults |
//! | `f` | `a` and `c` on 3 brokers | 3 brokers |
//!
//! Every variant has acks=all with idempotence unless it says otherwise, and the shared
//! batching settings unless it is `e`.

use std::fmt;
use std::str::FromStr;

use crate::settings::{Acks, Batching, Codec, Settings};

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

/// A named workload of `--workloads`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkloadName {
    /// The first races' matrix: brokers × record sizes × codecs.
    Classic,
    /// kacrab's published workload: 10 B values, 16 partitions, one broker.
    A,
    /// 10 KiB values, none and zstd.
    B,
    /// 64 partitions, keyed records with Zipf keys.
    C,
    /// acks=1 without idempotence.
    D,
    /// Out of the box: each client's own batching, linger and buffer defaults.
    E,
    /// `a` and `c` on 3 brokers.
    F,
}

impl WorkloadName {
    /// Every workload, in the race's order (the default of `--workloads`).
    pub const ALL: [Self; 7] = [
        Self::Classic,
        Self::A,
        Self::B,
        Self::C,
        Self::D,
        Self::E,
        Self::F,
    ];

    /// The name on the command line, in the CSV and the report.
    pub fn name(self) -> &'static str {
        match self {
            Self::Classic => "classic",
            Self::A => "a",
            Self::B => "b",
            Self::C => "c",
            Self::D => "d",
            Self::E => "e",
            Self::F => "f",
        }
    }

    /// What it is, for the report's headings.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Classic => "the classic matrix (brokers × record sizes × codecs)",
            Self::A => "kacrab's published workload (10 B values, 16 partitions, acks=all + idempotence, no compression, one broker)",
            Self::B => "10 KiB values, none and zstd",
            Self::C => "64 partitions, keyed records (Zipf keys)",
            Self::D => "acks=1 without idempotence",
            Self::E => "out of the box (each client's own batching, linger and buffer defaults; only acks=all + idempotence given)",
            Self::F => "3 brokers for a and c",
        }
    }
}

impl fmt::Display for WorkloadName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for WorkloadName {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        Self::ALL
            .into_iter()
            .find(|w| w.name().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("unknown workload `{text}` (classic, a, b, c, d, e, f, all)"))
    }
}

/// Parses `--workloads`: names separated by commas, `all` for every one; duplicates are
/// dropped and the race's order kept.
pub fn parse_workloads(text: &str) -> Result<Vec<WorkloadName>, String> {
    let mut chosen = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part.eq_ignore_ascii_case("all") {
            chosen.extend(WorkloadName::ALL);
        } else {
            chosen.push(part.parse()?);
        }
    }
    if chosen.is_empty() {
        return Err("--workloads: no workload named".to_owned());
    }
    Ok(WorkloadName::ALL
        .into_iter()
        .filter(|w| chosen.contains(w))
        .collect())
}

/// Keys of workload `c` (and `f`'s keyed variant): Zipf(1.1) over this many.
pub const ZIPF_KEYS: u32 = 10_000;

/// One workload variant: where, how big, which codec, how many partitions, keys,
/// acknowledgements, and whether the clients keep their own batching defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Workload {
    /// Which of `--workloads` it belongs to.
    pub name: WorkloadName,
    /// The brokers.
    pub brokers: Brokers,
    /// Bytes per record value.
    pub record_size: u32,
    /// The codec.
    pub codec: Codec,
    /// Partitions of every run's topic.
    pub partitions: u32,
    /// Keyed records: key = decimal of k, k Zipf(1.1) over 0..N; `None`: no key.
    pub keys: Option<u32>,
    /// Acknowledgements and idempotence.
    pub acks: Acks,
    /// Each client's own batching, linger and buffer defaults instead of the shared ones.
    pub own_defaults: bool,
}

/// The partitions of the classic matrix's topics by default (`--partitions`).
pub const DEFAULT_PARTITIONS: u32 = 6;

/// What shapes the classic matrix, and the partitions of workloads that do not fix theirs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    /// Broker counts (`[External]` with `--bootstrap`).
    pub brokers: Vec<Brokers>,
    /// Record sizes.
    pub sizes: Vec<u32>,
    /// Codecs.
    pub codecs: Vec<Codec>,
    /// Partitions of classic's, b's, d's and e's topics.
    pub partitions: u32,
}

impl Workload {
    /// A variant of the classic matrix.
    pub fn classic(brokers: Brokers, record_size: u32, codec: Codec, partitions: u32) -> Self {
        Self {
            name: WorkloadName::Classic,
            brokers,
            record_size,
            codec,
            partitions,
            keys: None,
            acks: Acks::AllIdempotent,
            own_defaults: false,
        }
    }

    /// A short label: `1 broker, 100 B, none` (classic), `c: 1 broker, 100 B, none, 64
    /// partitions, 10,000 Zipf keys`.
    pub fn label(&self) -> String {
        let core = format!(
            "{}, {}, {}",
            self.brokers,
            format_size(self.record_size),
            self.codec
        );
        if self.name == WorkloadName::Classic && self.extras().is_empty() {
            return core;
        }
        format!("{}: {core}, {}", self.name, self.extras().join(", "))
    }

    /// What sets the variant apart besides brokers, size and codec.
    fn extras(&self) -> Vec<String> {
        let mut extras = Vec::new();
        if self.name != WorkloadName::Classic || self.partitions != DEFAULT_PARTITIONS {
            extras.push(format!("{} partitions", self.partitions));
        }
        if let Some(keys) = self.keys {
            extras.push(format!("{} Zipf keys", group_thousands(u64::from(keys))));
        }
        if self.acks != Acks::AllIdempotent {
            extras.push(self.acks.describe().to_owned());
        }
        if self.own_defaults {
            extras.push("client defaults".to_owned());
        }
        extras
    }

    /// A name usable in topic and file names: `b1-s100-none` (classic),
    /// `c-b1-s100-none-p64-k10000`, `d-b1-s100-none-p6-acks1`, `e-b1-s100-none-p6-defaults`.
    pub fn slug(&self) -> String {
        let brokers = match self.brokers {
            Brokers::Local(n) => format!("b{n}"),
            Brokers::External => "ext".to_owned(),
        };
        let mut slug = format!("{brokers}-s{}-{}", self.record_size, self.codec);
        if self.name == WorkloadName::Classic && self.partitions == DEFAULT_PARTITIONS {
            return slug;
        }
        slug.push_str(&format!("-p{}", self.partitions));
        if let Some(keys) = self.keys {
            slug.push_str(&format!("-k{keys}"));
        }
        if self.acks == Acks::LeaderOnly {
            slug.push_str("-acks1");
        }
        if self.own_defaults {
            slug.push_str("-defaults");
        }
        if self.name == WorkloadName::Classic {
            slug
        } else {
            format!("{}-{slug}", self.name)
        }
    }

    /// The settings every client gets in this workload.
    pub fn settings(&self, shared: Batching) -> Settings {
        Settings {
            acks: self.acks,
            batching: (!self.own_defaults).then_some(shared),
            codec: self.codec,
        }
    }

    /// What a report section has in common: everything but brokers, size and codec (the
    /// table's columns).
    pub fn section(&self) -> (WorkloadName, u32, Option<u32>, Acks, bool) {
        (
            self.name,
            self.partitions,
            self.keys,
            self.acks,
            self.own_defaults,
        )
    }

    /// The heading of this workload's report section, settings included.
    pub fn section_title(&self, shared: Batching) -> String {
        let mut parts = vec![format!("{} partitions", self.partitions)];
        match self.keys {
            Some(keys) => parts.push(format!(
                "keyed records (key = decimal of k, k Zipf(1.1) over 0..{})",
                group_thousands(u64::from(keys))
            )),
            None => parts.push("no keys".to_owned()),
        }
        parts.push(self.settings(shared).describe());
        format!(
            "`{}`: {}. {}",
            self.name,
            self.name.describe(),
            parts.join("; ")
        )
    }

    /// Records in a throughput run of this variant when `--records` is `reference` (the
    /// classic 100 B count): see [`variant_records`].
    pub fn throughput_records(&self, reference: u64) -> u64 {
        variant_records(reference, self.record_size, self.brokers)
    }
}

/// How many times the reference count 10-byte records run (workloads `a` and `f`):
/// 2.5, so `--records 2000000` runs kacrab's published 5,000,000.
pub const TINY_RECORDS_FACTOR: (u64, u64) = (5, 2);

/// Records for a throughput run when `--records` is `reference`: values up to 10 B run
/// `reference` × 2.5, up to 300 B `reference`, larger ones proportionally fewer
/// ([`throughput_records`]); on 3 or more brokers a third of that (those runs go about a
/// third as fast on the 2-core machine). At least 1,000.
pub fn variant_records(reference: u64, record_size: u32, brokers: Brokers) -> u64 {
    let base = if record_size <= 10 {
        reference.saturating_mul(TINY_RECORDS_FACTOR.0) / TINY_RECORDS_FACTOR.1
    } else {
        reference
    };
    let count = throughput_records(base, record_size);
    let count = match brokers {
        Brokers::Local(n) if n >= 3 => count / 3,
        _ => count,
    };
    count.max(1000)
}

/// The variants of `names`, in order, from the classic `matrix` and the fixed definitions
/// of the others; with `--bootstrap` (`matrix.brokers` = `[External]`) every variant runs
/// on those brokers, except `f`'s, which need the race's own 3-broker cluster: those are
/// returned second, with the reason.
pub fn variants(names: &[WorkloadName], matrix: &Matrix) -> (Vec<Workload>, Vec<String>) {
    let external = matrix.brokers.contains(&Brokers::External);
    let one = if external {
        Brokers::External
    } else {
        Brokers::Local(1)
    };
    let base = Workload::classic(one, 100, Codec::None, matrix.partitions);
    let a = Workload {
        name: WorkloadName::A,
        record_size: 10,
        partitions: 16,
        ..base
    };
    let c = Workload {
        name: WorkloadName::C,
        partitions: 64,
        keys: Some(ZIPF_KEYS),
        ..base
    };
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for &name in names {
        match name {
            WorkloadName::Classic => {
                for &brokers in &matrix.brokers {
                    for &size in &matrix.sizes {
                        for &codec in &matrix.codecs {
                            out.push(Workload::classic(brokers, size, codec, matrix.partitions));
                        }
                    }
                }
            }
            WorkloadName::A => out.push(a),
            WorkloadName::B => {
                for codec in [Codec::None, Codec::Zstd] {
                    out.push(Workload {
                        name: WorkloadName::B,
                        record_size: 10 * 1024,
                        codec,
                        ..base
                    });
                }
            }
            WorkloadName::C => out.push(c),
            WorkloadName::D => out.push(Workload {
                name: WorkloadName::D,
                acks: Acks::LeaderOnly,
                ..base
            }),
            WorkloadName::E => out.push(Workload {
                name: WorkloadName::E,
                own_defaults: true,
                ..base
            }),
            WorkloadName::F if external => skipped.push(
                "f: not run: it needs the race's own 3-broker cluster, not --bootstrap".to_owned(),
            ),
            WorkloadName::F => {
                for w in [a, c] {
                    out.push(Workload {
                        name: WorkloadName::F,
                        brokers: Brokers::Local(3),
                        ..w
                    });
                }
            }
        }
    }
    (out, skipped)
}

/// `variants` grouped by brokers, so that each cluster is started once: the broker counts
/// in the order they first appear, each with its variants in order.
pub fn by_brokers(variants: &[Workload]) -> Vec<(Brokers, Vec<Workload>)> {
    let mut groups: Vec<(Brokers, Vec<Workload>)> = Vec::new();
    for w in variants {
        match groups.iter_mut().find(|(b, _)| *b == w.brokers) {
            Some((_, list)) => {
                if !list.contains(w) {
                    list.push(*w);
                }
            }
            None => groups.push((w.brokers, vec![*w])),
        }
    }
    groups
}

/// `1234567` as `1,234,567`.
fn group_thousands(value: u64) -> String {
    crate::table::thousands(value as f64)
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
        let w = Workload::classic(Brokers::Local(3), 1024, Codec::Lz4, DEFAULT_PARTITIONS);
        assert_eq!(w.label(), "3 brokers, 1 KiB, lz4");
        assert_eq!(w.slug(), "b3-s1024-lz4");
        assert_eq!(format_size(100), "100 B");
    }

    fn matrix() -> Matrix {
        Matrix {
            brokers: vec![Brokers::Local(1), Brokers::Local(3)],
            sizes: vec![100, 1024],
            codecs: vec![Codec::None, Codec::Lz4],
            partitions: DEFAULT_PARTITIONS,
        }
    }

    #[test]
    fn workloads_parse_in_the_race_order_without_duplicates() {
        assert_eq!(
            parse_workloads("e, a,c,a").unwrap(),
            [WorkloadName::A, WorkloadName::C, WorkloadName::E]
        );
        assert_eq!(parse_workloads("all").unwrap(), WorkloadName::ALL);
        assert_eq!(
            parse_workloads("F,classic").unwrap(),
            [WorkloadName::Classic, WorkloadName::F]
        );
        assert!(parse_workloads("a,g")
            .unwrap_err()
            .contains("unknown workload `g`"));
        assert!(parse_workloads(" , ").is_err());
        for name in WorkloadName::ALL {
            assert_eq!(name.name().parse::<WorkloadName>(), Ok(name));
        }
    }

    #[test]
    fn every_workload_has_its_own_variants() {
        let (all, skipped) = variants(&WorkloadName::ALL, &matrix());
        assert!(skipped.is_empty());
        // classic 2 × 2 × 2, a 1, b 2, c 1, d 1, e 1, f 2.
        assert_eq!(all.len(), 8 + 1 + 2 + 1 + 1 + 1 + 2);
        let of = |name| all.iter().filter(move |w| w.name == name);
        let a = of(WorkloadName::A).next().unwrap();
        assert_eq!(
            (a.brokers, a.record_size, a.codec, a.partitions, a.keys),
            (Brokers::Local(1), 10, Codec::None, 16, None)
        );
        assert_eq!(a.acks, Acks::AllIdempotent);
        let b: Vec<_> = of(WorkloadName::B)
            .map(|w| (w.record_size, w.codec))
            .collect();
        assert_eq!(b, [(10_240, Codec::None), (10_240, Codec::Zstd)]);
        let c = of(WorkloadName::C).next().unwrap();
        assert_eq!((c.partitions, c.keys), (64, Some(10_000)));
        let d = of(WorkloadName::D).next().unwrap();
        assert_eq!(d.acks, Acks::LeaderOnly);
        assert!(!d.settings(Batching::RACE).acks.idempotence());
        let e = of(WorkloadName::E).next().unwrap();
        assert!(e.own_defaults);
        assert_eq!(e.settings(Batching::RACE).batching, None);
        assert_eq!(c.settings(Batching::RACE).batching, Some(Batching::RACE));
        let f: Vec<_> = of(WorkloadName::F).collect();
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|w| w.brokers == Brokers::Local(3)));
        assert_eq!(
            (f[0].record_size, f[0].partitions, f[0].keys),
            (10, 16, None)
        );
        assert_eq!((f[1].partitions, f[1].keys), (64, Some(10_000)));
        // Every variant has a slug and a label of its own.
        let mut slugs: Vec<String> = all.iter().map(Workload::slug).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), all.len(), "{slugs:?}");
        let mut labels: Vec<String> = all.iter().map(Workload::label).collect();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), all.len(), "{labels:?}");
        assert_eq!(c.slug(), "c-b1-s100-none-p64-k10000");
        assert_eq!(
            c.label(),
            "c: 1 broker, 100 B, none, 64 partitions, 10,000 Zipf keys"
        );
        assert_eq!(d.slug(), "d-b1-s100-none-p6-acks1");
        assert_eq!(e.slug(), "e-b1-s100-none-p6-defaults");
        assert_eq!(f[0].slug(), "f-b3-s10-none-p16");
    }

    #[test]
    fn only_the_classic_matrix_follows_brokers_sizes_and_codecs() {
        let narrow = Matrix {
            brokers: vec![Brokers::Local(3)],
            sizes: vec![512],
            codecs: vec![Codec::Zstd],
            partitions: 4,
        };
        let (all, _) = variants(
            &[WorkloadName::Classic, WorkloadName::C, WorkloadName::D],
            &narrow,
        );
        assert_eq!(
            all[0],
            Workload::classic(Brokers::Local(3), 512, Codec::Zstd, 4)
        );
        assert_eq!((all[1].brokers, all[1].partitions), (Brokers::Local(1), 64));
        // Workloads that fix no partition count take --partitions.
        assert_eq!((all[2].brokers, all[2].partitions), (Brokers::Local(1), 4));
        assert_eq!(
            all[0].label(),
            "classic: 3 brokers, 512 B, zstd, 4 partitions"
        );
    }

    #[test]
    fn on_bootstrap_brokers_f_is_not_run() {
        let external = Matrix {
            brokers: vec![Brokers::External],
            ..matrix()
        };
        let (all, skipped) = variants(&[WorkloadName::A, WorkloadName::F], &external);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].brokers, Brokers::External);
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].starts_with("f: not run"), "{skipped:?}");
    }

    #[test]
    fn each_cluster_is_started_once() {
        let (all, _) = variants(&WorkloadName::ALL, &matrix());
        let groups = by_brokers(&all);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].0, Brokers::Local(1));
        assert_eq!(groups[1].0, Brokers::Local(3));
        assert_eq!(groups[0].1.len() + groups[1].1.len(), all.len());
        assert!(groups[1].1.iter().any(|w| w.name == WorkloadName::F));
    }

    #[test]
    fn record_counts_follow_the_variant() {
        // --records 2000000: kacrab's 5,000,000 10-byte records on one broker.
        assert_eq!(variant_records(2_000_000, 10, Brokers::Local(1)), 5_000_000);
        assert_eq!(
            variant_records(1_000_000, 100, Brokers::Local(1)),
            1_000_000
        );
        assert_eq!(variant_records(1_000_000, 100, Brokers::Local(3)), 333_333);
        assert_eq!(
            variant_records(1_000_000, 10_240, Brokers::Local(1)),
            29_296
        );
        assert_eq!(variant_records(1_000_000, 10, Brokers::External), 2_500_000);
        assert_eq!(variant_records(100, 10_240, Brokers::Local(3)), 1000);
        let a = Workload {
            name: WorkloadName::A,
            record_size: 10,
            partitions: 16,
            ..Workload::classic(Brokers::Local(1), 10, Codec::None, 16)
        };
        assert_eq!(a.throughput_records(2_000_000), 5_000_000);
    }

    #[test]
    fn section_titles_name_partitions_keys_and_settings() {
        let (all, _) = variants(&[WorkloadName::C, WorkloadName::E], &matrix());
        let c = all[0].section_title(Batching::RACE);
        assert!(c.starts_with("`c`: 64 partitions"), "{c}");
        assert!(c.contains("Zipf(1.1) over 0..10,000"), "{c}");
        assert!(c.contains("acks=all, idempotence on, linger.ms=5"), "{c}");
        let e = all[1].section_title(Batching::RACE);
        assert!(e.contains("own defaults"), "{e}");
        assert!(e.contains("no keys"), "{e}");
        assert_ne!(all[0].section(), all[1].section());
    }
}
