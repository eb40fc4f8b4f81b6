//! `--throughput`: holds the send rate near a target, as Kafka's `ThroughputThrottler` does.
//!
//! After each send, if more records were sent than `target * elapsed` allows, a sleep debt of
//! `1 / target` seconds is added; once the debt reaches 2 ms the sender sleeps it off and the
//! debt starts again at zero. A negative target disables throttling.
//!
//! # References
//! - Kafka `server-common/.../server/util/ThroughputThrottler.java`

use std::time::{Duration, Instant};

/// The smallest sleep worth taking.
const MIN_SLEEP: Duration = Duration::from_millis(2);

/// Decides when a sender running at a target rate should sleep, and for how long.
#[derive(Debug, Clone)]
pub(crate) struct Throttler {
    start: Instant,
    /// Records per second; `None`: unthrottled.
    target: Option<f64>,
    per_record: Duration,
    debt: Duration,
}

impl Throttler {
    /// A throttler for `target` records per second (negative: no limit), from `start`.
    /// A zero or non-finite target is the caller's to refuse; it is treated as no limit.
    pub(crate) fn new(target: f64, start: Instant) -> Self {
        let target = (target.is_finite() && target > 0.0).then_some(target);
        let per_record = target
            .and_then(|t| Duration::try_from_secs_f64(1.0 / t).ok())
            .unwrap_or(Duration::ZERO);
        Self {
            start,
            target,
            per_record,
            debt: Duration::ZERO,
        }
    }

    /// Called after the record numbered `sent_so_far` (from 0) was sent at `now`: how long
    /// to sleep before sending the next one, if at all.
    pub(crate) fn after_send(&mut self, sent_so_far: u64, now: Instant) -> Option<Duration> {
        let target = self.target?;
        let elapsed = now.saturating_duration_since(self.start).as_secs_f64();
        if elapsed <= 0.0 || sent_so_far as f64 / elapsed <= target {
            return None;
        }
        self.debt += self.per_record;
        if self.debt < MIN_SLEEP {
            return None;
        }
        Some(std::mem::take(&mut self.debt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unthrottled_never_sleeps() {
        let start = Instant::now();
        let mut t = Throttler::new(-1.0, start);
        for i in 0..10_000 {
            assert_eq!(t.after_send(i, start + Duration::from_micros(1)), None);
        }
        assert_eq!(
            Throttler::new(f64::NAN, start).after_send(5, start + Duration::from_secs(1)),
            None
        );
    }

    #[test]
    fn ahead_of_the_target_the_debt_is_slept_in_chunks_of_at_least_2ms() {
        let start = Instant::now();
        // 1000 records/s: 1 ms of debt per record sent too early.
        let mut t = Throttler::new(1000.0, start);
        let now = start + Duration::from_millis(10);
        // 100 records in 10 ms is 10x the target: every second call sleeps 2 ms.
        let sleeps: Vec<Option<Duration>> = (100..104).map(|i| t.after_send(i, now)).collect();
        assert_eq!(
            sleeps,
            vec![
                None,
                Some(Duration::from_millis(2)),
                None,
                Some(Duration::from_millis(2))
            ]
        );
    }

    #[test]
    fn on_or_behind_the_target_nothing_is_slept() {
        let start = Instant::now();
        let mut t = Throttler::new(100.0, start);
        // 100 records after 1 s is exactly on target; 50 after 1 s is behind.
        assert_eq!(t.after_send(100, start + Duration::from_secs(1)), None);
        assert_eq!(t.after_send(50, start + Duration::from_secs(1)), None);
        // No time has passed: no rate can be computed, so no sleep (as in Kafka).
        assert_eq!(t.after_send(1000, start), None);
        // Slow targets owe a large debt at once.
        let mut slow = Throttler::new(0.5, start);
        assert_eq!(
            slow.after_send(10, start + Duration::from_secs(1)),
            Some(Duration::from_secs(2))
        );
    }
}
