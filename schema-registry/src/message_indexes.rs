//! The message-index list of the Protobuf wire format: which message of the `.proto` file a
//! value is, as the path of positions from the file's top-level messages down through
//! nested ones (`[1]` is the file's second message, `[0, 2]` the third message nested in the
//! first).
//!
//! On the wire, after the 5-byte header: the count, then each index, all as zigzag varints;
//! the common `[0]` is written as the single byte 0 (a count of zero).
//!
//! # References
//! - Confluent Schema Registry documentation, "Wire format" (Protobuf message indexes)
//! - Protocol Buffers encoding: varints and zigzag encoding

use bytes::{BufMut, BytesMut};
use prost_types::{DescriptorProto, FileDescriptorProto};

use crate::error::{Error, Result};

/// Writes `indexes` in the wire format's encoding.
pub(crate) fn write(indexes: &[i32], out: &mut BytesMut) {
    if indexes == [0] {
        out.put_u8(0);
        return;
    }
    write_zigzag(i64::try_from(indexes.len()).unwrap_or(i64::MAX), out);
    for &index in indexes {
        write_zigzag(i64::from(index), out);
    }
}

/// Reads a message-index list from the front of `input`, returning it and the rest.
pub(crate) fn read(input: &[u8]) -> Result<(Vec<i32>, &[u8])> {
    let (count, mut rest) = read_zigzag(input)?;
    if count == 0 {
        return Ok((vec![0], rest));
    }
    // Each index takes at least one byte: a longer count cannot be honest.
    let count = usize::try_from(count)
        .ok()
        .filter(|&n| n <= rest.len())
        .ok_or_else(|| {
            Error::WireFormat(format!(
                "a message-index count of {count} with {} bytes left",
                rest.len()
            ))
        })?;
    let mut indexes = Vec::with_capacity(count);
    for _ in 0..count {
        let (index, after) = read_zigzag(rest)?;
        let index = i32::try_from(index)
            .ok()
            .filter(|i| *i >= 0)
            .ok_or_else(|| Error::WireFormat(format!("message index {index}")))?;
        indexes.push(index);
        rest = after;
    }
    Ok((indexes, rest))
}

/// The index path of the message named `full_name` (`package.Outer.Inner`, or without the
/// package) in `file`, or `None` when the file has no such message.
pub(crate) fn find(file: &FileDescriptorProto, full_name: &str) -> Option<Vec<i32>> {
    let package = file.package();
    let relative = full_name.trim_start_matches('.');
    let relative = match relative.strip_prefix(package) {
        Some(rest) if !package.is_empty() => rest.strip_prefix('.')?,
        _ => relative,
    };
    let mut path = Vec::new();
    let mut messages: &[DescriptorProto] = &file.message_type;
    for name in relative.split('.') {
        let position = messages.iter().position(|m| m.name() == name)?;
        path.push(i32::try_from(position).ok()?);
        messages = &messages[position].nested_type;
    }
    Some(path)
}

/// The full name (`package.Outer.Inner`) of the message at `indexes` in `file`.
pub(crate) fn name_at(file: &FileDescriptorProto, indexes: &[i32]) -> Option<String> {
    let mut names: Vec<&str> = Vec::new();
    if !file.package().is_empty() {
        names.push(file.package());
    }
    let mut messages: &[DescriptorProto] = &file.message_type;
    for &index in indexes {
        let message = messages.get(usize::try_from(index).ok()?)?;
        names.push(message.name());
        messages = &message.nested_type;
    }
    (!indexes.is_empty()).then(|| names.join("."))
}

/// Every message's full name in `file`, for error messages.
pub(crate) fn all_names(file: &FileDescriptorProto) -> Vec<String> {
    fn walk(prefix: &str, messages: &[DescriptorProto], out: &mut Vec<String>) {
        for message in messages {
            let name = if prefix.is_empty() {
                message.name().to_owned()
            } else {
                format!("{prefix}.{}", message.name())
            };
            walk(&name, &message.nested_type, out);
            out.push(name);
        }
    }
    let mut out = Vec::new();
    walk(file.package(), &file.message_type, &mut out);
    out.sort();
    out
}

fn write_zigzag(value: i64, out: &mut BytesMut) {
    // Zigzag: 0, -1, 1, -2 ... become 0, 1, 2, 3 ...; the bit pattern is the point.
    #[allow(clippy::cast_sign_loss)]
    let mut bits = ((value << 1) ^ (value >> 63)) as u64;
    while bits >= 0x80 {
        #[allow(clippy::cast_possible_truncation)]
        out.put_u8((bits as u8 & 0x7f) | 0x80);
        bits >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    out.put_u8(bits as u8);
}

fn read_zigzag(input: &[u8]) -> Result<(i64, &[u8])> {
    let mut bits: u64 = 0;
    for (i, &byte) in input.iter().enumerate().take(10) {
        bits |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            #[allow(clippy::cast_possible_wrap)]
            let value = (bits >> 1) as i64 ^ -((bits & 1) as i64);
            return Ok((value, &input[i + 1..]));
        }
    }
    Err(Error::WireFormat(
        "the message-index list is cut short or malformed".to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = r#"
        syntax = "proto3";
        package shop;
        message Order {
          string order_id = 1;
          message Line { string sku = 1; }
          message Note { string text = 1; message Author { string name = 1; } }
        }
        message Refund { string order_id = 1; }
    "#;

    fn shop() -> FileDescriptorProto {
        protox_parse::parse("shop.proto", SHOP).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn messages_are_found_by_their_path_of_positions() {
        let file = shop();
        assert_eq!(find(&file, "shop.Order"), Some(vec![0]));
        assert_eq!(find(&file, "Order"), Some(vec![0]));
        assert_eq!(find(&file, "shop.Refund"), Some(vec![1]));
        assert_eq!(find(&file, "shop.Order.Note.Author"), Some(vec![0, 1, 0]));
        assert_eq!(find(&file, "shop.Missing"), None);
        assert_eq!(find(&file, "other.Order"), None);
        assert_eq!(
            name_at(&file, &[0, 1, 0]).as_deref(),
            Some("shop.Order.Note.Author")
        );
        assert_eq!(name_at(&file, &[2]), None);
        assert!(all_names(&file).contains(&"shop.Order.Line".to_owned()));
    }

    #[test]
    fn the_first_message_is_one_zero_byte_and_others_zigzag_varints() {
        let mut out = BytesMut::new();
        write(&[0], &mut out);
        assert_eq!(&out[..], &[0]);
        let mut out = BytesMut::new();
        write(&[1], &mut out);
        // count 1 -> zigzag 2, index 1 -> zigzag 2.
        assert_eq!(&out[..], &[2, 2]);
        let mut out = BytesMut::new();
        write(&[0, 1, 70], &mut out);
        // count 3 -> 6; 0 -> 0; 1 -> 2; 70 -> 140 = 0x8c 0x01.
        assert_eq!(&out[..], &[6, 0, 2, 0x8c, 0x01]);
        out.extend_from_slice(b"rest");
        let (indexes, rest) = read(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(indexes, vec![0, 1, 70]);
        assert_eq!(rest, b"rest");
        assert_eq!(read(&[0, 9]).ok(), Some((vec![0], &[9u8][..])));
    }

    #[test]
    fn cut_or_lying_lists_are_wire_format_errors() {
        for bad in [
            &[][..],
            &[0x80][..],
            &[6, 0][..],
            &[2, 1][..],
            &[0xff; 11][..],
        ] {
            assert!(
                matches!(read(bad), Err(Error::WireFormat(_))),
                "{bad:?} was accepted"
            );
        }
    }
}
