//! CRC-32C (Castagnoli, the `crc32c` crate) alone, over 16 KiB and 1 MiB: the checksum every
//! RecordBatch v2 carries over everything after its CRC field.
//!
//! # References
//! - `protocol/benches/README.md`: how to run, and the numbers of the last run
//! - crc32c crate: <https://docs.rs/crc32c>

mod common;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn crc(c: &mut Criterion) {
    let mut group = c.benchmark_group("crc32c");
    for (label, len) in [("16KiB", 16 * 1024), ("1MiB", 1024 * 1024)] {
        let mut data = Vec::with_capacity(len);
        let mut i = 0;
        while data.len() < len {
            data.extend_from_slice(&common::value(i, 1024));
            i += 1;
        }
        data.truncate(len);
        group.throughput(Throughput::BytesDecimal(len as u64));
        group.bench_with_input(BenchmarkId::from_parameter(label), &data, |b, data| {
            b.iter(|| crc32c::crc32c(black_box(data)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = crc
}
criterion_main!(benches);
