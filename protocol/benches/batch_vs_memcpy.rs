//! How close batch building comes to copying memory: a 16 KiB batch of 10-byte values (no
//! key, no compression, idempotent producer fields, CRC-32C included; the shape of the
//! race's workload (a)) built record by record, against a plain `memcpy` of the same batch
//! bytes into a buffer of the same size. Both are counted in bytes of the finished batch, so
//! the two GB/s figures compare directly.
//!
//! - `batch_vs_memcpy/build/<records>x10B`: a fresh builder, the appends (timestamps 1 ms
//!   apart, as a producer's are), `finish`.
//! - `batch_vs_memcpy/memcpy/<records>x10B`: `copy_from_slice` of the finished batch.
//!
//! # References
//! - `protocol/benches/README.md`: how to run, and the numbers of the last run

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiel_protocol::record::{RecordBatchBuilder, NO_HEADERS};
use kiel_protocol::Compression;

use common::options;

/// Bytes of each record's value.
const VALUE_SIZE: usize = 10;
/// The batch size the producers use (Java's default `batch.size`).
const BATCH_SIZE: usize = 16_384;

fn build(values: &[Vec<u8>]) -> bytes::Bytes {
    let mut builder = RecordBatchBuilder::with_capacity(BATCH_SIZE);
    for (i, value) in values.iter().enumerate() {
        if let Err(e) = builder.append(1_700_000_000_000 + i as i64, None, Some(value), NO_HEADERS)
        {
            panic!("append failed: {e}");
        }
    }
    match builder.finish(&options(Compression::None)) {
        Ok(batch) => batch,
        Err(e) => panic!("finish failed: {e}"),
    }
}

fn batch_vs_memcpy(c: &mut Criterion) {
    // As many records as fill a 16 KiB batch: 10 B values take 18 B each in a batch at
    // these offset and timestamp deltas.
    let mut count = 0;
    while build(&vec![vec![b'A'; VALUE_SIZE]; count + 1]).len() <= BATCH_SIZE {
        count += 1;
    }
    let values: Vec<Vec<u8>> = (0..count).map(|i| common::value(i, VALUE_SIZE)).collect();
    let batch = build(&values);
    println!(
        "{count} records of {VALUE_SIZE} B: a batch of {} bytes ({:.1} ns of memcpy budget per record at 10 GB/s)",
        batch.len(),
        batch.len() as f64 / count as f64 / 10.0
    );
    let mut group = c.benchmark_group("batch_vs_memcpy");
    group.throughput(Throughput::BytesDecimal(batch.len() as u64));
    let id = format!("{count}x{VALUE_SIZE}B");
    group.bench_with_input(BenchmarkId::new("build", &id), &values, |b, values| {
        b.iter(|| build(black_box(values)))
    });
    let mut target = vec![0u8; batch.len()];
    group.bench_with_input(BenchmarkId::new("memcpy", &id), &batch, |b, batch| {
        b.iter(|| {
            target.copy_from_slice(black_box(batch));
            black_box(&target);
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = batch_vs_memcpy
}
criterion_main!(benches);
