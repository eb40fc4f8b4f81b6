//! `--throughput` for `rdkafka-perf`: keeps the send rate at a target by sleeping whenever
//! the sender is ahead of schedule by at least 2 ms (ProducerPerformance's throttler also
//! sleeps in chunks of at least 2 ms). A target of -1 (any non-positive or non-finite
//! value) means no limit.
//!
//! # References
//! - Kafka `server-common/src/main/java/org/apache/kafka/server/util/ThroughputThrottler.java`

use std::time::{Duration, Instant};

/// The shortest sleep worth taking.
pub const MIN_SLEEP: Duration = Duration::from_millis(2);

/// Holds a sender to a schedule of `target` records per second from `start`.
#[derive(Debug, Clone, Copy)]
pub struct Throttle {
    start: Instant,
    target: Option<f64>,
}

impl Throttle {
    /// A schedule of `target` records/s from `start`; no limit unless `target` is positive
    /// and finite.
    pub fn new(target: f64, start: Instant) -> Self {
        Self {
            start,
            target: (target.is_finite() && target > 0.0).then_some(target),
        }
    }

    /// After `sent` records by `now`: how long to sleep to be back on schedule, if at least
    /// [`MIN_SLEEP`].
    pub fn pause(&self, sent: u64, now: Instant) -> Option<Duration> {
        let target = self.target?;
        let due = Duration::try_from_secs_f64(sent as f64 / target).ok()?;
        let ahead = due.checked_sub(now.saturating_duration_since(self.start))?;
        (ahead >= MIN_SLEEP).then_some(ahead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sender_ahead_of_schedule_sleeps_the_difference() {
        let start = Instant::now();
        let t = Throttle::new(1000.0, start);
        // 100 records are due at 100 ms; at 40 ms the sender is 60 ms early.
        assert_eq!(
            t.pause(100, start + Duration::from_millis(40)),
            Some(Duration::from_millis(60))
        );
        // 1 ms early is not worth a sleep; late never sleeps.
        assert_eq!(t.pause(100, start + Duration::from_millis(99)), None);
        assert_eq!(t.pause(100, start + Duration::from_millis(150)), None);
    }

    #[test]
    fn no_target_never_sleeps() {
        let start = Instant::now();
        for target in [-1.0, 0.0, f64::NAN, f64::INFINITY] {
            assert_eq!(Throttle::new(target, start).pause(1_000_000, start), None);
        }
    }
}
