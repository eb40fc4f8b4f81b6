//! RecordBatch v2 build and decode speed, per codec: 1,000 records with 100 B and 1 KiB
//! values. Throughput is the uncompressed record payload (keys and values) per second.
//!
//! - `build/<codec>/<size>`: append 1,000 records to a fresh builder and finish the batch
//!   (compression and CRC-32C included).
//! - `decode/<codec>/<size>`: `RecordBatch::decode` of that batch (CRC check,
//!   decompression, every record parsed).
//!
//! # References
//! - `protocol/benches/README.md`: how to run, and the numbers of the last run

mod common;

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiel_protocol::record::RecordBatch;
use kiel_protocol::Compression;

use common::{build_batch, payload_bytes, records, RECORDS_PER_BATCH, VALUE_SIZES};

fn build(c: &mut Criterion) {
    let mut group = c.benchmark_group("build");
    for size in VALUE_SIZES {
        let records = records(RECORDS_PER_BATCH, size);
        group.throughput(Throughput::BytesDecimal(payload_bytes(&records)));
        for codec in Compression::ALL {
            group.bench_with_input(
                BenchmarkId::new(codec.name(), format!("1000x{size}B")),
                &records,
                |b, records| b.iter(|| build_batch(black_box(records), codec)),
            );
        }
    }
    group.finish();
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for size in VALUE_SIZES {
        let records = records(RECORDS_PER_BATCH, size);
        group.throughput(Throughput::BytesDecimal(payload_bytes(&records)));
        for codec in Compression::ALL {
            let batch = build_batch(&records, codec);
            println!(
                "{codec} 1000x{size}B: batch of {} bytes ({} payload bytes)",
                batch.len(),
                payload_bytes(&records)
            );
            group.bench_with_input(
                BenchmarkId::new(codec.name(), format!("1000x{size}B")),
                &batch,
                |b, batch| {
                    b.iter(|| {
                        let mut buf: Bytes = black_box(batch.clone());
                        match RecordBatch::decode(&mut buf) {
                            Ok(decoded) => decoded,
                            Err(e) => panic!("decode failed: {e}"),
                        }
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = build, decode
}
criterion_main!(benches);
