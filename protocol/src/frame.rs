//! Size-prefixed frames: every request and response is an `INT32` size followed by exactly
//! that many bytes (the size does not count itself).
//!
//! [`encode_request`] writes a whole request frame (size, header, body) into one buffer and
//! patches the size at the end. [`FrameReader`] cuts complete frames out of a receive buffer
//! and refuses any frame above its limit before buffering it. [`decode_response`] checks
//! the correlation id and that the body is consumed exactly.
//!
//! # References
//! - Kafka protocol guide, "Common Request and Response Structure":
//!   <https://kafka.apache.org/protocol#protocol_common>

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::api::{check_encode_version, decode_exact, Request};
use crate::error::{DecodeError, EncodeError};
use crate::header::{RequestHeader, ResponseHeader};

/// The default largest frame a [`FrameReader`] accepts: 100 MiB, the broker's own default
/// `socket.request.max.bytes`.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 100 * 1024 * 1024;

/// Appends a complete request frame (size prefix, header, body) for `request` to `buf`.
pub fn encode_request<R: Request>(
    request: &R,
    version: i16,
    correlation_id: i32,
    client_id: Option<&str>,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    check_encode_version::<R>(version)?;
    let start = buf.len();
    buf.put_i32(0); // patched below
    let header = RequestHeader {
        api_key: R::API_KEY.code(),
        api_version: version,
        correlation_id,
        client_id: client_id.map(str::to_owned),
        tagged_fields: Vec::new(),
    };
    let result = header
        .encode(buf, R::request_header_version(version))
        .and_then(|()| request.encode(buf, version));
    if let Err(e) = result {
        buf.truncate(start);
        return Err(e);
    }
    let size = buf.len() - start - 4;
    let size = i32::try_from(size).map_err(|_| EncodeError::TooLong {
        what: "frame",
        length: size,
        max: i32::MAX as usize,
    })?;
    buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
    Ok(())
}

/// Decodes a response frame's contents (everything after the size prefix): checks the
/// correlation id and decodes the body, which must use up the frame.
pub fn decode_response<R: Request>(
    mut frame: Bytes,
    version: i16,
    expected_correlation_id: i32,
) -> Result<R::Response, DecodeError> {
    let header = ResponseHeader::decode(&mut frame, R::response_header_version(version))?;
    if header.correlation_id != expected_correlation_id {
        return Err(DecodeError::CorrelationMismatch {
            expected: expected_correlation_id,
            actual: header.correlation_id,
        });
    }
    decode_exact::<R::Response>(frame, version)
}

/// Reads the correlation id at the front of a response frame without consuming it.
pub fn peek_correlation_id(frame: &[u8]) -> Result<i32, DecodeError> {
    match frame.get(..4) {
        Some(b) => Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
        None => Err(DecodeError::UnexpectedEnd {
            needed: 4,
            remaining: frame.len(),
        }),
    }
}

/// Cuts complete frames out of a growing receive buffer.
#[derive(Debug, Clone, Copy)]
pub struct FrameReader {
    max_frame_size: usize,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_SIZE)
    }
}

impl FrameReader {
    /// A reader that refuses frames larger than `max_frame_size` bytes.
    pub const fn new(max_frame_size: usize) -> Self {
        Self { max_frame_size }
    }

    /// The largest frame this reader accepts.
    pub const fn max_frame_size(&self) -> usize {
        self.max_frame_size
    }

    /// How many more bytes `buf` needs before [`Self::next_frame`] can return a frame: `0` when
    /// one is ready. A size prefix above the limit (or negative) is an error.
    pub fn bytes_needed(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        if buf.len() < 4 {
            return Ok(4 - buf.len());
        }
        let size = self.frame_size(buf)?;
        Ok((4 + size).saturating_sub(buf.len()))
    }

    fn frame_size(&self, buf: &[u8]) -> Result<usize, DecodeError> {
        let size = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        if size < 0 {
            return Err(DecodeError::InvalidLength {
                what: "frame",
                length: i64::from(size),
            });
        }
        let size = size as usize;
        if size > self.max_frame_size {
            return Err(DecodeError::FrameTooLarge {
                limit: self.max_frame_size,
                actual: size,
            });
        }
        Ok(size)
    }

    /// Takes the next complete frame's contents (without the size prefix) off the front of
    /// `buf`, or returns `None` when more bytes are needed.
    pub fn next_frame(&self, buf: &mut BytesMut) -> Result<Option<Bytes>, DecodeError> {
        if buf.len() < 4 {
            return Ok(None);
        }
        let size = self.frame_size(buf)?;
        if buf.len() < 4 + size {
            buf.reserve(4 + size - buf.len());
            return Ok(None);
        }
        buf.advance(4);
        Ok(Some(buf.split_to(size).freeze()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_cut_whole_and_oversize_is_refused() {
        let reader = FrameReader::new(8);
        let mut buf = BytesMut::from(&[0, 0, 0, 3, 1, 2][..]);
        assert_eq!(reader.bytes_needed(&buf).unwrap(), 1);
        assert_eq!(reader.next_frame(&mut buf).unwrap(), None);
        buf.extend_from_slice(&[3, 0, 0, 0, 0]);
        assert_eq!(
            reader.next_frame(&mut buf).unwrap(),
            Some(Bytes::from_static(&[1, 2, 3]))
        );
        assert_eq!(reader.next_frame(&mut buf).unwrap(), Some(Bytes::new()));
        assert!(buf.is_empty());

        let mut big = BytesMut::from(&[0, 0, 0, 9][..]);
        assert_eq!(
            reader.next_frame(&mut big),
            Err(DecodeError::FrameTooLarge {
                limit: 8,
                actual: 9
            })
        );
        let mut negative = BytesMut::from(&[0xff, 0xff, 0xff, 0xff][..]);
        assert!(reader.next_frame(&mut negative).is_err());
    }
}
