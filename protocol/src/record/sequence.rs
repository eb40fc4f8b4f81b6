//! Producer sequence numbers, which wrap from `i32::MAX` to 0.
//!
//! # References
//! - `DefaultRecordBatch.incrementSequence` in apache/kafka
//! - `ProducerAppendInfo.inSequence` in apache/kafka (the broker accepts `0` after
//!   `i32::MAX`)

/// Number of distinct sequence values: 0..=i32::MAX.
const SEQUENCE_SPACE: i64 = 1 << 31;

/// `seq + n` in the sequence space 0..=i32::MAX, wrapping past `i32::MAX` to 0 as Kafka
/// does: `increment_sequence(i32::MAX, 1) == 0`.
///
/// Both arguments are meant to be non-negative (a sequence and a record count or offset
/// delta); for those the result equals Kafka's. Any other input still gives
/// `(seq + n) mod 2^31` and never panics.
pub fn increment_sequence(seq: i32, n: i32) -> i32 {
    let sum = (i64::from(seq) + i64::from(n)).rem_euclid(SEQUENCE_SPACE);
    // `sum` lies in 0..2^31, so it always fits.
    i32::try_from(sum).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::increment_sequence;

    #[test]
    fn adds_below_the_wrap() {
        assert_eq!(increment_sequence(0, 0), 0);
        assert_eq!(increment_sequence(0, 5), 5);
        assert_eq!(increment_sequence(100, 27), 127);
        assert_eq!(increment_sequence(i32::MAX - 5, 5), i32::MAX);
    }

    #[test]
    fn wraps_past_i32_max_to_zero() {
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX, 2), 1);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
        assert_eq!(increment_sequence(i32::MAX, i32::MAX), i32::MAX - 1);
    }

    /// Kafka's formula, `n - (MAX - seq) - 1` once `seq > MAX - n`, written out for
    /// non-negative inputs, agrees with ours on a spread of values around the wrap.
    #[test]
    fn matches_kafkas_formula() {
        let max = i64::from(i32::MAX);
        for seq in [0, 1, 1000, i32::MAX - 1000, i32::MAX - 1, i32::MAX] {
            for n in [0, 1, 2, 999, 1000, 1001, i32::MAX - 1, i32::MAX] {
                let (s, k) = (i64::from(seq), i64::from(n));
                let kafka = if s > max - k {
                    k - (max - s) - 1
                } else {
                    s + k
                };
                assert_eq!(i64::from(increment_sequence(seq, n)), kafka, "{seq} + {n}");
            }
        }
    }

    #[test]
    fn never_panics_on_negative_input() {
        assert_eq!(increment_sequence(-1, 0), i32::MAX);
        assert_eq!(increment_sequence(0, -1), i32::MAX);
        assert_eq!(increment_sequence(i32::MIN, i32::MIN), 0);
    }
}
