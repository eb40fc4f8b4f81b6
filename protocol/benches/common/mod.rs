//! What the benches share: the Criterion settings and the record payloads.
//!
//! Payloads are JSON-like events (field names repeat, numbers vary), so that compression
//! ratios are those of ordinary application data rather than of zeros or random bytes.
//!
//! # References
//! - Criterion.rs user guide: <https://bheisler.github.io/criterion.rs/book/>

// Each bench binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::time::Duration;

use bytes::Bytes;
use criterion::Criterion;
use kiel_protocol::record::{BatchOptions, RecordBatchBuilder, NO_HEADERS};
use kiel_protocol::Compression;

/// Records per benchmarked batch.
pub(crate) const RECORDS_PER_BATCH: usize = 1_000;

/// The record value sizes benchmarked: 100 B and 1 KiB.
pub(crate) const VALUE_SIZES: [usize; 2] = [100, 1024];

/// Short runs: the machine has two cores and other builds running, so these numbers are
/// for comparing codecs and spotting regressions, not for absolute claims.
pub(crate) fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

/// The key of record `i`: `key-000042` (10 bytes).
pub(crate) fn key(i: usize) -> Vec<u8> {
    format!("key-{i:06}").into_bytes()
}

/// The value of record `i`, exactly `size` bytes: a JSON-like event, padded or cut.
pub(crate) fn value(i: usize, size: usize) -> Vec<u8> {
    let mut state = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut text = String::with_capacity(size + 128);
    while text.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        text.push_str(&format!(
            "{{\"user\":\"user-{:05}\",\"event\":\"{}\",\"ts\":{},\"amount\":{}.{:02}}},",
            state % 50_000,
            ["click", "view", "purchase", "scroll"][(state >> 20) as usize % 4],
            1_700_000_000_000u64 + (state >> 40),
            (state >> 8) % 10_000,
            (state >> 3) % 100,
        ));
    }
    text.truncate(size);
    text.into_bytes()
}

/// `count` records of `size`-byte values (keys included), ready to append.
pub(crate) fn records(count: usize, size: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..count).map(|i| (key(i), value(i, size))).collect()
}

/// Key plus value bytes of `records`: the uncompressed payload a batch carries.
pub(crate) fn payload_bytes(records: &[(Vec<u8>, Vec<u8>)]) -> u64 {
    records
        .iter()
        .map(|(k, v)| (k.len() + v.len()) as u64)
        .sum()
}

/// The options of an idempotent producer's batch with `codec` at its default level.
pub(crate) fn options(codec: Compression) -> BatchOptions {
    BatchOptions {
        compression: codec,
        producer_id: 4_242,
        producer_epoch: 0,
        base_sequence: 0,
        ..BatchOptions::default()
    }
}

/// Builds and finishes one batch of `records` (timestamps 1 ms apart) with `codec`.
pub(crate) fn build_batch(records: &[(Vec<u8>, Vec<u8>)], codec: Compression) -> Bytes {
    let size: usize = records.iter().map(|(k, v)| k.len() + v.len() + 16).sum();
    let mut builder = RecordBatchBuilder::with_capacity(size + 64);
    for (i, (key, value)) in records.iter().enumerate() {
        let appended = builder.append(
            1_700_000_000_000 + i as i64,
            Some(key),
            Some(value),
            NO_HEADERS,
        );
        if let Err(e) = appended {
            panic!("append failed: {e}");
        }
    }
    match builder.finish(&options(codec)) {
        Ok(batch) => batch,
        Err(e) => panic!("finish failed: {e}"),
    }
}
