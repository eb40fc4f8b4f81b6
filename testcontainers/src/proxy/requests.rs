//! Follows the client-to-broker byte stream frame by frame without buffering it: the proxy
//! forwards bytes as they arrive (so a cut can land in the middle of a request) and only
//! needs each request's api key, version and correlation id.
//!
//! # References
//! - Kafka protocol guide, request header (size, api key, api version, correlation id):
//!   <https://kafka.apache.org/protocol#protocol_messages>

/// The first bytes of every request frame: size (4), api key (2), api version (2),
/// correlation id (4).
const PREFIX_LEN: usize = 12;

/// One request seen on the way to the broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestSeen {
    pub(crate) api_key: i16,
    pub(crate) api_version: i16,
    pub(crate) correlation_id: i32,
}

/// Where the tracker is in the stream.
#[derive(Debug, Default)]
pub(crate) struct RequestTracker {
    prefix: [u8; PREFIX_LEN],
    prefix_len: usize,
    /// Bytes of the current frame still to pass after its prefix.
    left_in_frame: usize,
    max_frame: usize,
}

impl RequestTracker {
    /// A tracker that refuses frames above `max_frame` bytes (the size prefix excluded).
    pub(crate) fn new(max_frame: usize) -> Self {
        Self {
            max_frame,
            ..Self::default()
        }
    }

    /// Passes `bytes` (the next bytes of the stream) and calls `seen` for every request
    /// whose header completes in them. A size prefix below the header size or above the
    /// limit is an error: the stream is not Kafka requests.
    pub(crate) fn feed(
        &mut self,
        mut bytes: &[u8],
        mut seen: impl FnMut(RequestSeen),
    ) -> Result<(), String> {
        while !bytes.is_empty() {
            if self.left_in_frame > 0 {
                let skip = self.left_in_frame.min(bytes.len());
                self.left_in_frame -= skip;
                bytes = &bytes[skip..];
                continue;
            }
            let take = (PREFIX_LEN - self.prefix_len).min(bytes.len());
            self.prefix[self.prefix_len..self.prefix_len + take].copy_from_slice(&bytes[..take]);
            self.prefix_len += take;
            bytes = &bytes[take..];
            if self.prefix_len < PREFIX_LEN {
                continue;
            }
            self.prefix_len = 0;
            let p = &self.prefix;
            let size = i32::from_be_bytes([p[0], p[1], p[2], p[3]]);
            let header_len = (PREFIX_LEN - 4) as i32;
            if size < header_len || size as usize > self.max_frame {
                return Err(format!("request frame size {size} is not a Kafka request"));
            }
            self.left_in_frame = (size - header_len) as usize;
            seen(RequestSeen {
                api_key: i16::from_be_bytes([p[4], p[5]]),
                api_version: i16::from_be_bytes([p[6], p[7]]),
                correlation_id: i32::from_be_bytes([p[8], p[9], p[10], p[11]]),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(api_key: i16, version: i16, correlation_id: i32, body_len: usize) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&((8 + body_len) as i32).to_be_bytes());
        out.extend_from_slice(&api_key.to_be_bytes());
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&correlation_id.to_be_bytes());
        out.extend((0..body_len).map(|i| i as u8));
        out
    }

    #[test]
    fn every_request_is_seen_whatever_the_chunking() {
        let mut stream = frame(3, 12, 7, 0);
        stream.extend(frame(0, 11, 8, 3000));
        stream.extend(frame(22, 5, 9, 5));
        for chunk in [1, 2, 5, 11, 12, 13, 100, 4096] {
            let mut tracker = RequestTracker::new(1 << 20);
            let mut seen = Vec::new();
            for piece in stream.chunks(chunk) {
                tracker
                    .feed(piece, |r| seen.push(r))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            let ids: Vec<(i16, i16, i32)> = seen
                .iter()
                .map(|r| (r.api_key, r.api_version, r.correlation_id))
                .collect();
            assert_eq!(
                ids,
                vec![(3, 12, 7), (0, 11, 8), (22, 5, 9)],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn sizes_that_cannot_be_requests_are_refused() {
        let mut tracker = RequestTracker::new(1000);
        assert!(tracker.feed(&frame(0, 0, 1, 2000), |_| {}).is_err());
        let mut tracker = RequestTracker::new(1000);
        let mut short = frame(0, 0, 1, 0);
        short[3] = 4;
        assert!(tracker.feed(&short, |_| {}).is_err());
    }
}
