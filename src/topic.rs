//! Topic names: what Kafka accepts, checked before anything is sent.
//!
//! # References
//! - Kafka `Topic.java` (`validate`: at most 249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`)

use crate::error::{Error, Result};

/// The longest topic name Kafka accepts.
pub const MAX_TOPIC_NAME_LEN: usize = 249;

/// Checks that `topic` is a name Kafka accepts: 1 to 249 characters of ASCII letters,
/// digits, `.`, `_` and `-`, and not `.` or `..`. The error is [`Error::InvalidTopic`].
pub fn validate_topic_name(topic: &str) -> Result<()> {
    if is_valid(topic) {
        Ok(())
    } else {
        Err(Error::InvalidTopic(topic.to_owned()))
    }
}

pub(crate) fn is_valid(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= MAX_TOPIC_NAME_LEN
        && topic != "."
        && topic != ".."
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafkas_rules() {
        for ok in ["a", "orders.v1", "A_b-9", &"x".repeat(249)] {
            assert!(validate_topic_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "a b", "ä", "a/b", &"x".repeat(250)] {
            assert!(
                matches!(validate_topic_name(bad), Err(Error::InvalidTopic(t)) if t == bad),
                "{bad}"
            );
        }
    }
}
