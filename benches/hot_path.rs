//! Criterion benchmarks of kiel's hot path, per record, on the real producer core driven
//! against the simulated cluster (no sockets): `produce()` into the accumulator, batch
//! finishing (drain, sequence numbers, compression, CRC, Produce request encoding) and
//! response handling (decoding answers, completing every record's delivery).
//!
//! Run: `cargo bench -p kiel --features bench-internals --bench hot_path`.
//! Each phase is timed on its own inside one round of 10,000 records; the simulated
//! broker's work is excluded. Numbers and machine conditions: `benches/README.md`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiel::bench_support::{CoreBench, PhaseTimes};
use kiel::Compression;

const RECORDS_PER_ROUND: usize = 10_000;

/// The workloads: every compression and value size with futures, and the uncompressed
/// ones with callbacks (as `kiel perf` produces).
const WORKLOADS: [(Compression, usize, bool); 6] = [
    (Compression::None, 100, false),
    (Compression::None, 1024, false),
    (Compression::Lz4, 100, false),
    (Compression::Lz4, 1024, false),
    (Compression::None, 100, true),
    (Compression::None, 1024, true),
];

fn phase(c: &mut Criterion, name: &str, pick: fn(&PhaseTimes) -> Duration) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(RECORDS_PER_ROUND as u64));
    group.sample_size(20);
    for (compression, value_size, callbacks) in WORKLOADS {
        let outcome = if callbacks { "callback" } else { "future" };
        let id = BenchmarkId::from_parameter(format!("{compression}/{value_size}B/{outcome}"));
        let mut core = CoreBench::new(compression, value_size);
        if callbacks {
            core = core.with_callbacks();
        }
        group.bench_function(id, |b| {
            b.iter_custom(|rounds| {
                (0..rounds)
                    .map(|_| pick(&core.round(RECORDS_PER_ROUND)))
                    .sum()
            })
        });
        if callbacks {
            assert!(core.callback_outcomes() > 0, "the callbacks never ran");
        }
    }
    group.finish();
}

fn produce(c: &mut Criterion) {
    phase(c, "produce", |t| t.produce);
}

fn finish_batches(c: &mut Criterion) {
    phase(c, "finish_batches", |t| t.finish);
}

fn handle_responses(c: &mut Criterion) {
    phase(c, "handle_responses", |t| t.responses);
}

criterion_group!(hot_path, produce, finish_batches, handle_responses);
criterion_main!(hot_path);
