//! ProduceRequest v12 encode and decode: one topic, 12 partitions, each with an uncompressed
//! 16 KiB batch (the batches are opaque bytes here; decoding does not parse them).
//! Throughput is the encoded body size.
//!
//! - `produce_request/encode`: the body into one buffer (the batches copied).
//! - `produce_request/encode_frame_chunks`: the whole frame as chunks for a vectored write
//!   (the batches shared, not copied).
//! - `produce_request/decode`: the body back (the batches sliced, not copied).
//!
//! # References
//! - `protocol/benches/README.md`: how to run, and the numbers of the last run

mod common;

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kiel_protocol::api::decode_exact;
use kiel_protocol::messages::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use kiel_protocol::{Compression, Encode};

const PARTITIONS: i32 = 12;
const BATCH_BYTES: usize = 16 * 1024;
const VERSION: i16 = 12;

/// An uncompressed batch of about [`BATCH_BYTES`]: 100-byte records until it is full.
fn batch_of_16_kib(partition: i32) -> Bytes {
    let offset = partition as usize * 1_000;
    // 61 header bytes, then about 123 bytes per record (10 B key, 100 B value, framing).
    let count = (BATCH_BYTES - 61) / 123;
    let records: Vec<_> = (0..count)
        .map(|i| (common::key(offset + i), common::value(offset + i, 100)))
        .collect();
    common::build_batch(&records, Compression::None)
}

fn request() -> ProduceRequest {
    ProduceRequest {
        transactional_id: None,
        acks: -1,
        timeout_ms: 30_000,
        topics: vec![TopicProduceData {
            name: "bench-topic".to_owned(),
            partitions: (0..PARTITIONS)
                .map(|index| PartitionProduceData {
                    index,
                    records: Some(batch_of_16_kib(index)),
                })
                .collect(),
        }],
    }
}

fn produce_request(c: &mut Criterion) {
    let request = request();
    let len = request.encoded_len(VERSION);
    let mut encoded = BytesMut::with_capacity(len);
    if let Err(e) = request.encode(&mut encoded, VERSION) {
        panic!("encode failed: {e}");
    }
    let encoded = encoded.freeze();
    println!(
        "ProduceRequest v{VERSION}: {PARTITIONS} batches of {} bytes, body {} bytes",
        request.topics[0].partitions[0]
            .records
            .as_ref()
            .map_or(0, Bytes::len),
        encoded.len()
    );

    let mut group = c.benchmark_group("produce_request");
    group.throughput(Throughput::BytesDecimal(encoded.len() as u64));
    group.bench_function("encode", |b| {
        b.iter(|| {
            let request = black_box(&request);
            let mut buf = BytesMut::with_capacity(request.encoded_len(VERSION));
            match request.encode(&mut buf, VERSION) {
                Ok(()) => buf,
                Err(e) => panic!("encode failed: {e}"),
            }
        })
    });
    group.bench_function("encode_frame_chunks", |b| {
        b.iter(
            || match black_box(&request).encode_frame_chunks(VERSION, 1, Some("bench"), 4096) {
                Ok(chunks) => chunks,
                Err(e) => panic!("encode_frame_chunks failed: {e}"),
            },
        )
    });
    group.bench_function("decode", |b| {
        b.iter(
            || match decode_exact::<ProduceRequest>(black_box(encoded.clone()), VERSION) {
                Ok(request) => request,
                Err(e) => panic!("decode failed: {e}"),
            },
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = produce_request
}
criterion_main!(benches);
