//! `PLAIN` (RFC 4616): the user name and password in one message, no authorization id.
//!
//! # References
//! - RFC 4616 §2

use super::mechanism::{AuthFailure, Exchange, Next};
use crate::config::Secret;

/// A PLAIN login.
pub(crate) struct Plain {
    username: String,
    password: Secret,
}

impl Plain {
    pub(crate) fn new(username: &str, password: &Secret) -> Self {
        Self {
            username: username.to_owned(),
            password: password.clone(),
        }
    }
}

impl Exchange for Plain {
    fn first(&mut self) -> Vec<u8> {
        let mut message =
            Vec::with_capacity(2 + self.username.len() + self.password.expose().len());
        message.push(0);
        message.extend_from_slice(self.username.as_bytes());
        message.push(0);
        message.extend_from_slice(self.password.expose().as_bytes());
        message
    }

    fn next(&mut self, server: &[u8]) -> Result<Next, AuthFailure> {
        if server.is_empty() {
            Ok(Next::Done)
        } else {
            Err(AuthFailure(format!(
                "unexpected PLAIN server message: {}",
                String::from_utf8_lossy(server)
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_is_nul_user_nul_password() {
        let mut plain = Plain::new("alice", &Secret::new("pw"));
        assert_eq!(plain.first(), b"\0alice\0pw");
        assert_eq!(plain.next(b""), Ok(Next::Done));
        assert!(plain.next(b"x").is_err());
    }
}
