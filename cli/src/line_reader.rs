//! Reading input lines with a bound on how much one line may hold in memory.
//!
//! Lines end with `\n` (a `\r` before it is dropped too); the last line may lack the `\n`,
//! and an input that ends with `\n` has no empty line after it. Bytes are taken as they are
//! (no UTF-8 check). A line longer than the limit is reported with its length and skipped
//! without being kept in memory, so one runaway line cannot exhaust memory.
//!
//! # References
//! - `std::io::BufRead::fill_buf` / `consume`

use std::io::{self, BufRead};

/// One line of input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Line {
    /// The line's bytes, without the line ending.
    Complete(Vec<u8>),
    /// The line was longer than the limit; this many bytes (without the line ending).
    TooLong(u64),
}

/// Splits a reader into lines of at most `max_line_bytes` bytes.
#[derive(Debug)]
pub(crate) struct LineReader<R> {
    reader: R,
    max_line_bytes: usize,
}

impl<R: BufRead> LineReader<R> {
    /// A line reader over `reader`.
    pub(crate) fn new(reader: R, max_line_bytes: usize) -> Self {
        Self {
            reader,
            max_line_bytes,
        }
    }

    /// The next line, or `None` at the end of the input.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<Line>> {
        let mut line = Vec::new();
        let mut length: u64 = 0;
        let mut too_long = false;
        let mut read_anything = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if !read_anything {
                    return Ok(None);
                }
                break;
            }
            read_anything = true;
            let newline = available.iter().position(|&b| b == b'\n');
            let chunk = &available[..newline.unwrap_or(available.len())];
            length += chunk.len() as u64;
            if !too_long {
                if line.len() + chunk.len() <= self.max_line_bytes {
                    line.extend_from_slice(chunk);
                } else {
                    too_long = true;
                    line = Vec::new();
                }
            }
            let used = newline.map_or(chunk.len(), |at| at + 1);
            self.reader.consume(used);
            if newline.is_some() {
                break;
            }
        }
        if too_long {
            return Ok(Some(Line::TooLong(length)));
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(Some(Line::Complete(line)))
    }
}

impl<T: io::Read> LineReader<io::BufReader<T>> {
    /// Bytes read from the source but not yet returned as lines; 0 means the next line
    /// needs a read from the source, which may wait.
    pub(crate) fn buffered(&self) -> usize {
        self.reader.buffer().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize, buffer: usize) -> Vec<Line> {
        let reader = io::BufReader::with_capacity(buffer, input);
        let mut lines = LineReader::new(reader, max);
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            out.push(line);
        }
        out
    }

    fn complete(text: &str) -> Line {
        Line::Complete(text.as_bytes().to_vec())
    }

    #[test]
    fn lines_split_on_newlines_with_or_without_a_final_one() {
        for buffer in [1, 2, 3, 64] {
            assert_eq!(
                lines(b"a\r\n\nbc\nlast", 100, buffer),
                vec![
                    complete("a"),
                    complete(""),
                    complete("bc"),
                    complete("last")
                ]
            );
            assert_eq!(lines(b"x\n", 100, buffer), vec![complete("x")]);
            assert_eq!(lines(b"", 100, buffer), vec![]);
            assert_eq!(lines(b"\n", 100, buffer), vec![complete("")]);
        }
    }

    #[test]
    fn buffered_bytes_tell_whether_the_next_line_needs_a_read() {
        let mut lines = LineReader::new(io::BufReader::with_capacity(64, &b"ab\ncd\n"[..]), 10);
        assert_eq!(lines.buffered(), 0);
        assert_eq!(lines.next_line().unwrap(), Some(complete("ab")));
        assert_eq!(lines.buffered(), 3);
        assert_eq!(lines.next_line().unwrap(), Some(complete("cd")));
        assert_eq!(lines.buffered(), 0);
        assert_eq!(lines.next_line().unwrap(), None);
    }

    #[test]
    fn long_lines_are_measured_not_kept() {
        for buffer in [1, 4, 1024] {
            assert_eq!(
                lines(b"12345\n123456\n1234567\nok\n12345678", 6, buffer),
                vec![
                    complete("12345"),
                    complete("123456"),
                    Line::TooLong(7),
                    complete("ok"),
                    Line::TooLong(8),
                ]
            );
        }
    }
}
