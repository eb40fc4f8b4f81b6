//! Check for [`FrameReader`]: arbitrary bytes arriving in arbitrary chunks.
//!
//! A simple model walks the same bytes (size prefix, then that many bytes) and says which
//! frames must come out and whether the stream must end in an error (a negative size or one
//! above the limit). The reader, fed chunk by chunk, must agree with it exactly, and
//! [`FrameReader::bytes_needed`] must agree with [`FrameReader::next_frame`].
//!
//! # References
//! - `protocol/src/frame.rs`

use bytes::BytesMut;
use kiel_protocol::frame::{FrameReader, DEFAULT_MAX_FRAME_SIZE};

/// What the model expects from a byte stream.
struct Expected<'a> {
    /// Whole frames, in order.
    frames: Vec<&'a [u8]>,
    /// Whether the frame after them has a bad size prefix.
    error: bool,
    /// Bytes consumed by the whole frames.
    consumed: usize,
}

/// Cuts `stream` into frames the plain way.
fn model(stream: &[u8], max_frame_size: usize) -> Expected<'_> {
    let mut expected = Expected {
        frames: Vec::new(),
        error: false,
        consumed: 0,
    };
    while let Some(prefix) = stream.get(expected.consumed..expected.consumed + 4) {
        let size = i32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        let Ok(size) = usize::try_from(size) else {
            expected.error = true;
            break;
        };
        if size > max_frame_size {
            expected.error = true;
            break;
        }
        let start = expected.consumed + 4;
        let Some(frame) = stream.get(start..start + size) else {
            break;
        };
        expected.frames.push(frame);
        expected.consumed = start + size;
    }
    expected
}

/// Input: a byte choosing the frame limit (255: the default 100 MiB, otherwise 4 bytes per
/// step), a byte seeding the chunk sizes (1 to 64 bytes), then the stream.
pub fn frame_reader(data: &[u8]) -> bool {
    let (Some(&limit), Some(&seed)) = (data.first(), data.get(1)) else {
        return false;
    };
    let stream = &data[2..];
    let max_frame_size = match limit {
        255 => DEFAULT_MAX_FRAME_SIZE,
        n => usize::from(n) * 4,
    };
    let reader = FrameReader::new(max_frame_size);
    let expected = model(stream, max_frame_size);

    let mut buf = BytesMut::new();
    let mut frames = 0;
    let mut failed = false;
    let mut state = u32::from(seed);
    let mut rest = stream;
    'feed: while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let chunk = (1 + (state >> 16) as usize % 64).min(rest.len());
        buf.extend_from_slice(&rest[..chunk]);
        rest = &rest[chunk..];
        loop {
            let needed = reader.bytes_needed(&buf);
            match reader.next_frame(&mut buf) {
                Ok(Some(frame)) => {
                    assert_eq!(needed, Ok(0), "a frame came out while bytes were needed");
                    assert!(frames < expected.frames.len(), "a frame too many");
                    assert_eq!(&frame[..], expected.frames[frames], "frame {frames}");
                    frames += 1;
                }
                Ok(None) => {
                    assert!(matches!(needed, Ok(n) if n > 0), "None with {needed:?}");
                    break;
                }
                Err(e) => {
                    assert_eq!(needed, Err(e), "bytes_needed and next_frame disagree");
                    failed = true;
                    break 'feed;
                }
            }
        }
    }
    assert_eq!(frames, expected.frames.len(), "frames cut");
    assert_eq!(failed, expected.error, "error at the end of the stream");
    if !failed {
        assert_eq!(&buf[..], &stream[expected.consumed..], "bytes left over");
    }
    frames > 0
}
