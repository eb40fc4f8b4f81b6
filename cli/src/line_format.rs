//! How `kiel produce` turns one input line into a record.
//!
//! A line is `[HEADERS<headers-delimiter>][KEY<key-separator>]VALUE`:
//! - `HEADERS` only with `--parse-headers`: `k1:v1,k2:v2` (pairs split by
//!   `--header-separator`, key and value by `--header-key-separator`); an empty section
//!   means no headers.
//! - `KEY` only with `--key-separator`: the part before the first separator.
//! - `VALUE`: the rest of the line, bytes as they are (no UTF-8 requirement).
//!
//! With `--null-marker M`, a key, value or header value equal to `M` becomes null.
//! Headers from `-H k=v` come first in every record, then the line's own. The defaults and
//! the layout are those of Kafka's console producer (`parse.headers`, `key.separator`,
//! `headers.delimiter`, `headers.separator`, `headers.key.separator`, `null.marker`).
//!
//! # References
//! - Kafka `tools/.../LineMessageReader.java` (the console producer's line format)

use bytes::Bytes;
use kiel::{Header, Record};

/// Parses separator arguments: `\t`, `\\` and `\xHH` are unescaped so a tab or any byte
/// can be typed; anything else is taken literally. Empty separators are refused.
pub(crate) fn parse_separator(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b't') => {
                out.push(b'\t');
                i += 2;
            }
            Some(b'\\') => {
                out.push(b'\\');
                i += 2;
            }
            Some(b'x') => {
                let hex = bytes
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("`{text}`: \\x needs two hex digits"))?;
                out.push(hex);
                i += 4;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    if out.is_empty() {
        return Err("a separator must not be empty".to_owned());
    }
    if out.contains(&b'\n') {
        return Err("a separator cannot contain a newline (records are lines)".to_owned());
    }
    Ok(out)
}

/// Parses `-H key=value` (split at the first `=`; the value may be empty).
pub(crate) fn parse_fixed_header(text: &str) -> Result<Header, String> {
    match text.split_once('=') {
        Some(("", _)) => Err(format!("`{text}` has an empty header key")),
        Some((key, value)) => Ok(Header::new(key.to_owned(), value.as_bytes().to_vec())),
        None => Err(format!("`{text}` is not of the form KEY=VALUE")),
    }
}

/// The separators of a line's header section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderSyntax {
    /// Ends the header section (default tab).
    pub(crate) delimiter: Vec<u8>,
    /// Separates header pairs (default `,`).
    pub(crate) separator: Vec<u8>,
    /// Separates a header's key from its value (default `:`).
    pub(crate) key_separator: Vec<u8>,
}

/// Everything that shapes how a line becomes a record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LineFormat {
    /// Splits the key from the value; `None`: the whole line (after headers) is the value.
    pub(crate) key_separator: Option<Vec<u8>>,
    /// Parse a header section at the start of each line.
    pub(crate) headers: Option<HeaderSyntax>,
    /// Headers added to every record, before the line's own.
    pub(crate) fixed_headers: Vec<Header>,
    /// A key, value or header value equal to this is null.
    pub(crate) null_marker: Option<Vec<u8>>,
}

/// Where `needle` first occurs in `haystack` at or after `from`.
fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = from;
    while let Some(offset) = haystack.get(at..)?.iter().position(|&b| b == first) {
        let start = at + offset;
        if haystack.get(start..)?.starts_with(needle) {
            return Some(start);
        }
        at = start + 1;
    }
    None
}

/// Splits `text` at every `separator`.
fn split<'a>(text: &'a [u8], separator: &'a [u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut start = 0;
    while let Some(at) = find(text, separator, start) {
        parts.push(&text[start..at]);
        start = at + separator.len();
    }
    parts.push(&text[start..]);
    parts
}

fn shorten(bytes: &[u8]) -> String {
    const SHOWN: usize = 60;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SHOWN)]);
    if bytes.len() > SHOWN {
        format!("{text}...")
    } else {
        text.into_owned()
    }
}

impl LineFormat {
    fn nullable(&self, bytes: &[u8]) -> Option<Bytes> {
        match &self.null_marker {
            Some(marker) if marker.as_slice() == bytes => None,
            _ => Some(Bytes::copy_from_slice(bytes)),
        }
    }

    /// Turns one line (without its line ending) into a record, or says what is wrong.
    pub(crate) fn parse(&self, line: &[u8]) -> Result<Record, String> {
        let mut record = Record {
            headers: self.fixed_headers.clone(),
            ..Record::default()
        };
        let mut rest_start = 0;
        if let Some(syntax) = &self.headers {
            let end = find(line, &syntax.delimiter, 0).ok_or_else(|| {
                format!(
                    "no headers delimiter `{}` in `{}`",
                    shorten(&syntax.delimiter),
                    shorten(line)
                )
            })?;
            let section = &line[..end];
            if !section.is_empty() {
                for pair in split(section, &syntax.separator) {
                    record.headers.push(self.header(pair, syntax)?);
                }
            }
            rest_start = end + syntax.delimiter.len();
        }
        let rest = &line[rest_start..];
        let value = match &self.key_separator {
            Some(separator) => {
                let at = find(rest, separator, 0).ok_or_else(|| {
                    format!(
                        "no key separator `{}` in `{}`",
                        shorten(separator),
                        shorten(rest)
                    )
                })?;
                record.key = self.nullable(&rest[..at]);
                &rest[at + separator.len()..]
            }
            None => rest,
        };
        record.value = self.nullable(value);
        Ok(record)
    }

    fn header(&self, pair: &[u8], syntax: &HeaderSyntax) -> Result<Header, String> {
        let at = find(pair, &syntax.key_separator, 0).ok_or_else(|| {
            format!(
                "header `{}` has no key separator `{}`",
                shorten(pair),
                shorten(&syntax.key_separator)
            )
        })?;
        let key = std::str::from_utf8(&pair[..at])
            .map_err(|_| format!("header key `{}` is not UTF-8", shorten(&pair[..at])))?;
        if key.is_empty() {
            return Err(format!("header `{}` has an empty key", shorten(pair)));
        }
        let value = &pair[at + syntax.key_separator.len()..];
        Ok(Header {
            key: key.to_owned(),
            value: self.nullable(value),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka_style() -> HeaderSyntax {
        HeaderSyntax {
            delimiter: b"\t".to_vec(),
            separator: b",".to_vec(),
            key_separator: b":".to_vec(),
        }
    }

    #[test]
    fn separators_unescape_tab_backslash_and_hex() {
        assert_eq!(parse_separator("\\t").unwrap(), b"\t");
        assert_eq!(parse_separator("::").unwrap(), b"::");
        assert_eq!(parse_separator("\\\\").unwrap(), b"\\");
        assert_eq!(parse_separator("\\x1f").unwrap(), [0x1f]);
        assert_eq!(parse_separator("a\\qb").unwrap(), b"a\\qb");
        assert!(parse_separator("").is_err());
        assert!(parse_separator("\\x1").is_err());
        assert!(parse_separator("\\x0a").is_err());
    }

    #[test]
    fn fixed_headers_split_at_the_first_equals_sign() {
        let h = parse_fixed_header("trace=a=b").unwrap();
        assert_eq!(h.key, "trace");
        assert_eq!(h.value.as_deref(), Some(&b"a=b"[..]));
        assert_eq!(
            parse_fixed_header("empty=").unwrap().value.as_deref(),
            Some(&b""[..])
        );
        assert!(parse_fixed_header("=v").is_err());
        assert!(parse_fixed_header("novalue").is_err());
    }

    #[test]
    fn a_plain_line_is_the_value() {
        let r = LineFormat::default().parse(b"hello\tworld").unwrap();
        assert_eq!(r.key, None);
        assert_eq!(r.value.as_deref(), Some(&b"hello\tworld"[..]));
        assert!(r.headers.is_empty());
        let empty = LineFormat::default().parse(b"").unwrap();
        assert_eq!(empty.value.as_deref(), Some(&b""[..]));
    }

    #[test]
    fn the_key_ends_at_the_first_separator() {
        let format = LineFormat {
            key_separator: Some(b"::".to_vec()),
            ..LineFormat::default()
        };
        let r = format.parse(b"user-1::a::b").unwrap();
        assert_eq!(r.key.as_deref(), Some(&b"user-1"[..]));
        assert_eq!(r.value.as_deref(), Some(&b"a::b"[..]));
        let empty_key = format.parse(b"::v").unwrap();
        assert_eq!(empty_key.key.as_deref(), Some(&b""[..]));
        let err = format.parse(b"no separator here").unwrap_err();
        assert!(err.contains("no key separator `::`"), "{err}");
    }

    #[test]
    fn headers_key_and_value_like_the_console_producer() {
        let format = LineFormat {
            key_separator: Some(b"\t".to_vec()),
            headers: Some(kafka_style()),
            fixed_headers: vec![Header::new("source", "cli")],
            null_marker: None,
        };
        let r = format.parse(b"h1:v1,h2:,h1:x:y\tk\tthe value").unwrap();
        let headers: Vec<(&str, Option<&[u8]>)> = r
            .headers
            .iter()
            .map(|h| (h.key.as_str(), h.value.as_deref()))
            .collect();
        assert_eq!(
            headers,
            vec![
                ("source", Some(&b"cli"[..])),
                ("h1", Some(&b"v1"[..])),
                ("h2", Some(&b""[..])),
                ("h1", Some(&b"x:y"[..])),
            ]
        );
        assert_eq!(r.key.as_deref(), Some(&b"k"[..]));
        assert_eq!(r.value.as_deref(), Some(&b"the value"[..]));

        let no_headers = format.parse(b"\tk\tv").unwrap();
        assert_eq!(no_headers.headers.len(), 1);
        assert!(format
            .parse(b"nodelimiter")
            .unwrap_err()
            .contains("headers delimiter"));
        assert!(format
            .parse(b"h1\tk\tv")
            .unwrap_err()
            .contains("no key separator `:`"));
        assert!(format.parse(b":v\tk\tv").unwrap_err().contains("empty key"));
        assert!(format
            .parse(b"\xff:v\tk\tv")
            .unwrap_err()
            .contains("not UTF-8"));
    }

    #[test]
    fn the_null_marker_makes_keys_values_and_header_values_null() {
        let format = LineFormat {
            key_separator: Some(b"=".to_vec()),
            headers: Some(kafka_style()),
            fixed_headers: Vec::new(),
            null_marker: Some(b"NULL".to_vec()),
        };
        let r = format.parse(b"a:NULL\tNULL=NULL").unwrap();
        assert_eq!(r.key, None);
        assert_eq!(r.value, None);
        assert_eq!(r.headers, vec![Header::null("a")]);
        let kept = format.parse(b"a:NULLx\tk=NULL2").unwrap();
        assert_eq!(kept.value.as_deref(), Some(&b"NULL2"[..]));
        assert_eq!(kept.headers[0].value.as_deref(), Some(&b"NULLx"[..]));
    }

    #[test]
    fn long_lines_are_shortened_in_messages() {
        let format = LineFormat {
            key_separator: Some(b"|".to_vec()),
            ..LineFormat::default()
        };
        let err = format.parse(&[b'a'; 1000]).unwrap_err();
        assert!(err.len() < 150 && err.ends_with("...`"), "{err}");
    }
}
