//! [`EventKey`]: what a field becomes as a record key, for `#[derive(Event)]`'s
//! `#[event(key = "field")]`.
//!
//! # References
//! - the production guide's `key=str(event['order_id'])` (`shared/seeds/002_39192eadab028c20.txt`):
//!   numeric ids as decimal text

use std::borrow::Cow;

use bytes::Bytes;

/// A value that can be a record key.
pub trait EventKey {
    /// The key's bytes (`None`: the record has no key).
    fn event_key(&self) -> Option<Bytes>;
}

impl EventKey for str {
    fn event_key(&self) -> Option<Bytes> {
        Some(Bytes::copy_from_slice(self.as_bytes()))
    }
}

impl EventKey for String {
    fn event_key(&self) -> Option<Bytes> {
        self.as_str().event_key()
    }
}

impl EventKey for Box<str> {
    fn event_key(&self) -> Option<Bytes> {
        (**self).event_key()
    }
}

impl EventKey for Cow<'_, str> {
    fn event_key(&self) -> Option<Bytes> {
        (**self).event_key()
    }
}

impl EventKey for Bytes {
    fn event_key(&self) -> Option<Bytes> {
        Some(self.clone())
    }
}

impl EventKey for Vec<u8> {
    fn event_key(&self) -> Option<Bytes> {
        Some(Bytes::copy_from_slice(self))
    }
}

impl<T: EventKey + ?Sized> EventKey for &T {
    fn event_key(&self) -> Option<Bytes> {
        (**self).event_key()
    }
}

impl<T: EventKey> EventKey for Option<T> {
    fn event_key(&self) -> Option<Bytes> {
        self.as_ref().and_then(EventKey::event_key)
    }
}

macro_rules! decimal_keys {
    ($($t:ty),*) => {$(
        impl EventKey for $t {
            fn event_key(&self) -> Option<Bytes> {
                Some(Bytes::from(self.to_string()))
            }
        }
    )*};
}

decimal_keys!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_utf8_numbers_are_decimal_and_none_is_no_key() {
        assert_eq!("o-1".event_key(), Some(Bytes::from("o-1")));
        assert_eq!(String::from("ü").event_key(), Some(Bytes::from("ü")));
        assert_eq!(1000_i64.event_key(), Some(Bytes::from("1000")));
        assert_eq!((-7_i32).event_key(), Some(Bytes::from("-7")));
        assert_eq!(vec![0_u8, 255].event_key(), Some(Bytes::from(vec![0, 255])));
        assert_eq!(Some(5_u64).event_key(), Some(Bytes::from("5")));
        assert_eq!(None::<String>.event_key(), None);
    }
}
