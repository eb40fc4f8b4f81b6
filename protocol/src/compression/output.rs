//! Bounded growth of a decompressor's output vector.
//!
//! Every decompressor appends to a caller's `Vec<u8>` and must stop once it would append more
//! than `max_output` bytes. [`OutputLimit`] remembers where the appended part starts, answers
//! how much room is left, and grows the vector with `reserve_exact`, so the capacity it adds is
//! never more than the limit plus the few bytes a caller asks for beyond it to detect an
//! overflow.
//!
//! # References
//! - `Vec::reserve_exact`: <https://doc.rust-lang.org/std/vec/struct.Vec.html#method.reserve_exact>

use super::{Compression, CompressionError};

/// The smallest step by which the output grows when a decompressor cannot tell its final size.
pub(super) const MIN_GROWTH: usize = 32 * 1024;

/// How much a decompressor may still append to its output.
#[derive(Debug, Clone, Copy)]
pub(super) struct OutputLimit {
    codec: Compression,
    start: usize,
    max_output: usize,
}

impl OutputLimit {
    /// Starts counting from the current end of `out`.
    pub(super) fn new(codec: Compression, out: &[u8], max_output: usize) -> Self {
        Self {
            codec,
            start: out.len(),
            max_output,
        }
    }

    /// The length `out` had when decompression started.
    pub(super) fn start(&self) -> usize {
        self.start
    }

    /// Bytes appended so far, given the current logical end of the output.
    pub(super) fn produced(&self, end: usize) -> usize {
        end.saturating_sub(self.start)
    }

    /// Bytes that may still be appended after `end` (the current logical end of the output).
    pub(super) fn remaining(&self, end: usize) -> usize {
        self.max_output.saturating_sub(self.produced(end))
    }

    /// Fails with [`CompressionError::OutputTooLarge`] when `end` is past the limit.
    pub(super) fn check(&self, end: usize) -> Result<(), CompressionError> {
        if self.produced(end) > self.max_output {
            Err(self.too_large())
        } else {
            Ok(())
        }
    }

    /// The error for output beyond the limit.
    pub(super) fn too_large(&self) -> CompressionError {
        CompressionError::OutputTooLarge {
            codec: self.codec,
            limit: self.max_output,
        }
    }

    /// Appends `n` zero bytes to `out`, to be overwritten by a decoder.
    ///
    /// Callers keep `n` within [`remaining`](Self::remaining) plus a few bytes. Capacity grows
    /// geometrically in the appended part (so repeated calls stay linear) but never beyond the
    /// limit plus `n`.
    pub(super) fn extend_zeroed(&self, out: &mut Vec<u8>, n: usize) {
        let spare = out.capacity() - out.len();
        if spare < n {
            let produced = self.produced(out.len());
            let ceiling = self.remaining(out.len()).max(n);
            let additional = produced.max(n).min(ceiling);
            out.reserve_exact(additional);
        }
        out.resize(out.len() + n, 0);
    }
}
