//! Request headers (v0-v2) and response headers (v0-v1).
//!
//! Header v2 is v1 plus a tag buffer; `client_id` keeps its INT16 length even there, so that
//! old brokers can read the header of any ApiVersions request.
//!
//! # References
//! - `RequestHeader.json` / `ResponseHeader.json` in apache/kafka
//!   (`clients/src/main/resources/common/message/`)
//! - KIP-482, KIP-511 (the ApiVersions response header is always v0)

use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, EncodeError};
use crate::primitives::{
    get_i16, get_i32, get_nullable_string, get_unknown_tagged_fields, put_nullable_string,
    put_tagged_fields, RawTaggedField,
};

/// The header in front of every request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader {
    /// The API key of the body.
    pub api_key: i16,
    /// The API version of the body.
    pub api_version: i16,
    /// Echoed back by the broker in the response header.
    pub correlation_id: i32,
    /// The client's name (v1+; `None` is null).
    pub client_id: Option<String>,
    /// Tagged fields (v2+).
    pub tagged_fields: Vec<RawTaggedField>,
}

impl RequestHeader {
    /// Writes the header in `header_version` (0, 1 or 2).
    pub fn encode<B: BufMut>(&self, buf: &mut B, header_version: i16) -> Result<(), EncodeError> {
        if !(0..=2).contains(&header_version) {
            return Err(EncodeError::UnsupportedVersion {
                api_key: -1,
                version: header_version,
            });
        }
        buf.put_i16(self.api_key);
        buf.put_i16(self.api_version);
        buf.put_i32(self.correlation_id);
        if header_version >= 1 {
            // Never compact, even in v2.
            put_nullable_string(buf, self.client_id.as_deref(), false)?;
        } else if self.client_id.is_some() {
            return Err(EncodeError::FieldNotAvailable {
                field: "client_id",
                version: header_version,
            });
        }
        if header_version >= 2 {
            put_tagged_fields(buf, &self.tagged_fields);
        } else if !self.tagged_fields.is_empty() {
            return Err(EncodeError::FieldNotAvailable {
                field: "tagged_fields",
                version: header_version,
            });
        }
        Ok(())
    }

    /// Reads a header in `header_version` (0, 1 or 2).
    pub fn decode(buf: &mut Bytes, header_version: i16) -> Result<Self, DecodeError> {
        if !(0..=2).contains(&header_version) {
            return Err(DecodeError::UnsupportedVersion {
                api_key: -1,
                version: header_version,
            });
        }
        let api_key = get_i16(buf)?;
        let api_version = get_i16(buf)?;
        let correlation_id = get_i32(buf)?;
        let client_id = if header_version >= 1 {
            get_nullable_string(buf, false)?
        } else {
            None
        };
        let tagged_fields = if header_version >= 2 {
            get_unknown_tagged_fields(buf)?
        } else {
            Vec::new()
        };
        Ok(Self {
            api_key,
            api_version,
            correlation_id,
            client_id,
            tagged_fields,
        })
    }
}

/// The header in front of every response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHeader {
    /// The correlation id of the request this answers.
    pub correlation_id: i32,
    /// Tagged fields (v1+).
    pub tagged_fields: Vec<RawTaggedField>,
}

impl ResponseHeader {
    /// Writes the header in `header_version` (0 or 1).
    pub fn encode<B: BufMut>(&self, buf: &mut B, header_version: i16) -> Result<(), EncodeError> {
        match header_version {
            0 if self.tagged_fields.is_empty() => buf.put_i32(self.correlation_id),
            0 => {
                return Err(EncodeError::FieldNotAvailable {
                    field: "tagged_fields",
                    version: 0,
                })
            }
            1 => {
                buf.put_i32(self.correlation_id);
                put_tagged_fields(buf, &self.tagged_fields);
            }
            v => {
                return Err(EncodeError::UnsupportedVersion {
                    api_key: -1,
                    version: v,
                })
            }
        }
        Ok(())
    }

    /// Reads a header in `header_version` (0 or 1).
    pub fn decode(buf: &mut Bytes, header_version: i16) -> Result<Self, DecodeError> {
        let correlation_id = get_i32(buf)?;
        let tagged_fields = match header_version {
            0 => Vec::new(),
            1 => get_unknown_tagged_fields(buf)?,
            v => {
                return Err(DecodeError::UnsupportedVersion {
                    api_key: -1,
                    version: v,
                })
            }
        };
        Ok(Self {
            correlation_id,
            tagged_fields,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    #[test]
    fn request_header_v2_keeps_int16_client_id() {
        let header = RequestHeader {
            api_key: 18,
            api_version: 3,
            correlation_id: 7,
            client_id: Some("kiel".into()),
            tagged_fields: Vec::new(),
        };
        let mut b = BytesMut::new();
        header.encode(&mut b, 2).unwrap();
        assert_eq!(
            &b[..],
            &[0, 18, 0, 3, 0, 0, 0, 7, 0, 4, b'k', b'i', b'e', b'l', 0][..]
        );
        let mut r = b.freeze();
        assert_eq!(RequestHeader::decode(&mut r, 2).unwrap(), header);
        assert!(r.is_empty());
    }

    #[test]
    fn every_prefix_of_a_header_fails() {
        let header = RequestHeader {
            api_key: 0,
            api_version: 9,
            correlation_id: -3,
            client_id: None,
            tagged_fields: Vec::new(),
        };
        for version in 0..=2 {
            let mut b = BytesMut::new();
            header.encode(&mut b, version).unwrap();
            let full = b.freeze();
            for n in 0..full.len() {
                assert!(RequestHeader::decode(&mut full.slice(..n), version).is_err());
            }
        }
    }
}
