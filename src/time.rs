//! Deadlines from durations that may be "forever".
//!
//! Every timeout in kiel is a `Duration`, and `Duration::MAX` means forever. `Instant +
//! Duration` panics when the sum does not fit, so deadlines are computed here, saturating
//! at a far future that every timer accepts.
//!
//! # References
//! - tokio's `Instant::far_future` (the same idea: about 30 years ahead)

use std::time::{Duration, Instant};

/// How far "forever" lies: about 30 years, far enough that no deadline beyond it matters.
pub(crate) const FOREVER: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// `now + after`, or a far future (about 30 years from `now`) when that does not fit or is
/// further away.
pub(crate) fn later(now: Instant, after: Duration) -> Instant {
    now.checked_add(after.min(FOREVER))
        .or_else(|| now.checked_add(Duration::from_secs(24 * 3600)))
        .unwrap_or(now)
}

/// `duration` in whole milliseconds, saturating at `u64::MAX` (for error messages).
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forever_saturates_instead_of_panicking() {
        let now = Instant::now();
        assert_eq!(
            later(now, Duration::from_secs(5)),
            now + Duration::from_secs(5)
        );
        let forever = later(now, Duration::MAX);
        assert!(forever > now + Duration::from_secs(20 * 365 * 24 * 3600));
        assert_eq!(
            later(now, Duration::MAX),
            later(now, FOREVER + Duration::from_secs(1))
        );
    }
}
