//! Helpers the integration tests share.

#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

/// A topic name no other test (or earlier run) uses.
pub(crate) fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{name}-{nanos:x}-{:x}", rand::random::<u32>())
}

/// A fixed recent timestamp for this test run (old ones would be deleted by the broker's
/// retention while the test runs).
pub(crate) fn base_timestamp() -> i64 {
    static BASE: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
            - 3_600_000
    })
}

pub(crate) mod events;
