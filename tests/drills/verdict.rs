//! Reads a drill's topic back with the independent reader (Kafka's console consumer) and
//! counts what the issue asks: acknowledged, lost, duplicated, out of order, unresolved.

use std::collections::BTreeMap;
use std::time::Duration;

use kiel_testcontainers::KafkaCluster;

use crate::workload::{index_of, Outcome, Outcomes};

/// The counts of one drill.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    pub(crate) records: u64,
    pub(crate) acknowledged: u64,
    pub(crate) failed: u64,
    /// Acknowledged but absent from the log.
    pub(crate) lost: u64,
    /// Extra copies in the log (a record written 3 times counts 2).
    pub(crate) duplicated: u64,
    /// First copies that come after a later record of the same partition.
    pub(crate) out_of_order: u64,
    pub(crate) unresolved: u64,
    /// Acknowledged records not found at the offset their future reported.
    pub(crate) misplaced: u64,
    /// Failed records that are in the log all the same.
    pub(crate) failed_but_written: u64,
    /// Records in the log that the drill did not produce, or on the wrong partition.
    pub(crate) foreign: u64,
    pub(crate) log_records: u64,
}

/// Reads every record of `topic` and judges them against `outcomes`.
pub(crate) async fn judge(
    cluster: &KafkaCluster,
    topic: &str,
    partitions: u32,
    outcomes: &Outcomes,
) -> Verdict {
    let end_offsets = cluster
        .end_offsets(topic)
        .await
        .unwrap_or_else(|e| panic!("end offsets of {topic}: {e}"));
    let in_log: i64 = end_offsets.iter().map(|(_, end)| end).sum();
    let read = cluster
        .consume_all(topic, in_log as usize, Duration::from_secs(600))
        .await
        .unwrap_or_else(|e| panic!("reading back {topic}: {e}"));
    assert_eq!(
        read.len() as i64,
        in_log,
        "the reader returned fewer records than the log holds"
    );

    let n = outcomes.by_record.len();
    let mut verdict = Verdict {
        records: n as u64,
        log_records: read.len() as u64,
        ..Verdict::default()
    };
    let mut copies = vec![0u32; n];
    let mut by_partition: BTreeMap<i32, Vec<(i64, u64)>> = BTreeMap::new();
    let mut at_offset: BTreeMap<(i32, i64), u64> = BTreeMap::new();
    for r in &read {
        let Some(i) = r
            .value
            .as_deref()
            .and_then(index_of)
            .filter(|&i| (i as usize) < n)
        else {
            verdict.foreign += 1;
            continue;
        };
        if i64::from(r.partition) != (i % u64::from(partitions)) as i64 {
            verdict.foreign += 1;
            continue;
        }
        copies[i as usize] += 1;
        by_partition
            .entry(r.partition)
            .or_default()
            .push((r.offset, i));
        at_offset.insert((r.partition, r.offset), i);
    }
    for (i, outcome) in outcomes.by_record.iter().enumerate() {
        match *outcome {
            Outcome::Unresolved => verdict.unresolved += 1,
            Outcome::Failed => {
                verdict.failed += 1;
                if copies[i] > 0 {
                    verdict.failed_but_written += 1;
                }
            }
            Outcome::Acked { partition, offset } => {
                verdict.acknowledged += 1;
                if copies[i] == 0 {
                    verdict.lost += 1;
                } else if offset >= 0 && at_offset.get(&(partition, offset)) != Some(&(i as u64)) {
                    verdict.misplaced += 1;
                }
            }
        }
        verdict.duplicated += u64::from(copies[i].saturating_sub(1));
    }
    for records in by_partition.values_mut() {
        records.sort_unstable();
        let mut seen = std::collections::HashSet::new();
        let mut highest: Option<u64> = None;
        for &(_, i) in records.iter() {
            if !seen.insert(i) {
                continue;
            }
            if highest.is_some_and(|h| i < h) {
                verdict.out_of_order += 1;
            }
            highest = highest.max(Some(i));
        }
    }
    verdict
}
