//! SASL users of a secured cluster and the mechanisms they log in with.
//!
//! Every user works with every mechanism the SASL listeners enable:
//! - PLAIN: the user is listed in the listener's JAAS line (`user_<name>="<password>"`);
//! - SCRAM-SHA-256 and SCRAM-SHA-512: credentials are written into the bootstrap metadata
//!   when the storage is formatted (`StorageTool format --add-scram`), as KRaft wants;
//! - OAUTHBEARER: Kafka's unsecured validator takes any `alg: none` JWT whose `sub` claim
//!   names the principal and whose `exp` lies ahead; no password is involved.
//!
//! Names and passwords are restricted to `[A-Za-z0-9._@+-]`, so they need no quoting in
//! a JAAS line, an `--add-scram` argument (split on `,`, values in `"`) or a SCRAM message
//! (where `=` and `,` would need escaping).
//!
//! # References
//! - Kafka `metadata/.../storage/ScramParser.java` (the `--add-scram` syntax)
//! - Kafka `clients/.../oauthbearer/internals/unsecured/OAuthBearerUnsecuredJws.java`
//!   (an unsecured token needs `alg: none`, an empty signature, `exp` and the principal
//!   claim)
//! - RFC 7519 (JWT), RFC 7515 (JWS compact serialization), RFC 5802 (SCRAM)

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{HarnessError, Result};
use crate::storage::base64url_no_pad;

/// A SASL mechanism the secured listeners enable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SaslMechanism {
    /// `PLAIN`: name and password in clear (use it over TLS).
    Plain,
    /// `SCRAM-SHA-256`.
    ScramSha256,
    /// `SCRAM-SHA-512`.
    ScramSha512,
    /// `OAUTHBEARER`, validated by Kafka's built-in unsecured validator (development
    /// tokens: `alg: none`, the principal in `sub`).
    OAuthBearer,
}

impl SaslMechanism {
    /// Every mechanism, in the order `sasl.enabled.mechanisms` lists them.
    pub const ALL: [Self; 4] = [
        Self::Plain,
        Self::ScramSha256,
        Self::ScramSha512,
        Self::OAuthBearer,
    ];

    /// The mechanism's name as Kafka and clients spell it (`SCRAM-SHA-256`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
            Self::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// Whether this is one of the SCRAM mechanisms.
    pub fn is_scram(self) -> bool {
        matches!(self, Self::ScramSha256 | Self::ScramSha512)
    }

    /// The JAAS login module class of the mechanism.
    pub(crate) fn login_module(self) -> &'static str {
        match self {
            Self::Plain => "org.apache.kafka.common.security.plain.PlainLoginModule",
            Self::ScramSha256 | Self::ScramSha512 => {
                "org.apache.kafka.common.security.scram.ScramLoginModule"
            }
            Self::OAuthBearer => {
                "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule"
            }
        }
    }
}

impl fmt::Display for SaslMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A SASL user: a name and a password. Its `Debug` output never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslUser {
    name: String,
    password: String,
}

impl SaslUser {
    /// A user with this name and password. Both must be 1 to 128 characters of
    /// `[A-Za-z0-9._@+-]`.
    pub fn new(name: impl Into<String>, password: impl Into<String>) -> Result<Self> {
        let user = Self {
            name: name.into(),
            password: password.into(),
        };
        check_token("SASL user name", &user.name)?;
        check_token("SASL password", &user.password)?;
        Ok(user)
    }

    /// A user with this name and a random 24-character password.
    pub fn with_random_password(name: impl Into<String>) -> Result<Self> {
        Self::new(name, random_password())
    }

    /// The user name (also the principal: `User:<name>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The same name with another password, e.g. to show that a wrong one is refused.
    /// The password is not checked, so it may hold anything a client would send.
    pub fn with_password(&self, password: impl Into<String>) -> Self {
        Self {
            name: self.name.clone(),
            password: password.into(),
        }
    }
}

impl fmt::Debug for SaslUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslUser")
            .field("name", &self.name)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// The `--add-scram` arguments of `StorageTool format` for `users`: one per user and SCRAM
/// mechanism, e.g. `SCRAM-SHA-512=[name="alice",password="..."]`.
pub(crate) fn add_scram_arguments(users: &[SaslUser]) -> Vec<String> {
    let mut args = Vec::new();
    for user in users {
        for mechanism in SaslMechanism::ALL.iter().filter(|m| m.is_scram()) {
            args.push("--add-scram".to_owned());
            args.push(format!(
                "{}=[name=\"{}\",password=\"{}\"]",
                mechanism.name(),
                user.name,
                user.password
            ));
        }
    }
    args
}

/// The broker's JAAS line for `mechanism` on a SASL listener: PLAIN lists `users`; SCRAM
/// finds credentials in the metadata; OAUTHBEARER needs no token of its own (the
/// listeners between brokers are PLAINTEXT).
pub(crate) fn broker_jaas_line(mechanism: SaslMechanism, users: &[SaslUser]) -> String {
    let mut line = format!("{} required", mechanism.login_module());
    if mechanism == SaslMechanism::Plain {
        for user in users {
            line.push_str(&format!(" user_{}=\"{}\"", user.name, user.password));
        }
    }
    line.push(';');
    line
}

/// A client's JAAS line for `mechanism` as `user` (OAUTHBEARER: the unsecured login
/// handler makes a token whose `sub` is the user's name).
pub(crate) fn client_jaas_line(mechanism: SaslMechanism, user: &SaslUser) -> String {
    match mechanism {
        SaslMechanism::OAuthBearer => format!(
            "{} required unsecuredLoginStringClaim_sub=\"{}\";",
            mechanism.login_module(),
            user.name
        ),
        _ => format!(
            "{} required username=\"{}\" password=\"{}\";",
            mechanism.login_module(),
            user.name,
            user.password
        ),
    }
}

/// An unsecured JWT (`alg: none`, empty signature) for OAUTHBEARER on a secured cluster:
/// `sub` is `subject`, `iat` now and `exp` `lifetime` from now (whole seconds, at least
/// one). Kafka's unsecured validator accepts it until it expires.
///
/// For development and tests only: anyone can make such a token.
pub fn unsecured_jwt(subject: &str, lifetime: Duration) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let exp = now.saturating_add(lifetime.as_secs().max(1));
    let header = r#"{"alg":"none"}"#;
    let claims = format!(
        r#"{{"sub":"{}","iat":{now},"exp":{exp}}}"#,
        json_escape(subject)
    );
    format!(
        "{}.{}.",
        base64url_no_pad(header.as_bytes()),
        base64url_no_pad(claims.as_bytes())
    )
}

fn json_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

fn random_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..24)
        .map(|_| char::from(ALPHABET[rand::random_range(0..ALPHABET.len())]))
        .collect()
}

fn check_token(what: &str, text: &str) -> Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._@+-".contains(c);
    if text.is_empty() || text.len() > 128 || !text.chars().all(allowed) {
        // The text itself stays out of the message: it may be a password.
        return Err(HarnessError::InvalidArgument(format!(
            "a {what} must be 1 to 128 characters of [A-Za-z0-9._@+-]"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let user = SaslUser::new("alice", "s3cret-pw").unwrap();
        let text = format!("{user:?} {:?}", std::slice::from_ref(&user));
        assert!(text.contains("alice"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(SaslUser::new("alice", "pw").is_ok());
        assert!(SaslUser::new("a.b@c+d-e_f", "x").is_ok());
        for (name, password) in [
            ("", "pw"),
            ("al ice", "pw"),
            ("alice", ""),
            ("alice", "p\"w"),
            ("alice", "p,w"),
            ("a=b", "pw"),
        ] {
            assert!(SaslUser::new(name, password).is_err(), "{name:?}");
        }
        let err = SaslUser::new("alice", "secret password").unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        let random = SaslUser::with_random_password("bob").unwrap();
        assert_eq!(random.password().len(), 24);
        assert_ne!(
            random.password(),
            SaslUser::with_random_password("bob").unwrap().password()
        );
    }

    #[test]
    fn scram_arguments_and_jaas_lines() {
        let users = [SaslUser::new("alice", "pw1").unwrap()];
        assert_eq!(
            add_scram_arguments(&users),
            [
                "--add-scram",
                "SCRAM-SHA-256=[name=\"alice\",password=\"pw1\"]",
                "--add-scram",
                "SCRAM-SHA-512=[name=\"alice\",password=\"pw1\"]",
            ]
        );
        assert_eq!(
            broker_jaas_line(SaslMechanism::Plain, &users),
            "org.apache.kafka.common.security.plain.PlainLoginModule required user_alice=\"pw1\";"
        );
        assert_eq!(
            broker_jaas_line(SaslMechanism::ScramSha512, &users),
            "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        );
        assert_eq!(
            client_jaas_line(SaslMechanism::OAuthBearer, &users[0]),
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required \
             unsecuredLoginStringClaim_sub=\"alice\";"
        );
        assert!(client_jaas_line(SaslMechanism::ScramSha256, &users[0])
            .ends_with("ScramLoginModule required username=\"alice\" password=\"pw1\";"));
    }

    #[test]
    fn unsecured_jwt_has_three_parts_and_the_claims() {
        let token = unsecured_jwt("alice", Duration::from_secs(60));
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts[0], "eyJhbGciOiJub25lIn0",
            "base64url of {{\"alg\":\"none\"}}"
        );
        assert_eq!(parts[2], "", "no signature");
        assert!(!token.contains('='), "no padding");
        assert_eq!(json_escape("a\"b\\c\n"), "a\\\"b\\\\c\\u000a");
    }
}
