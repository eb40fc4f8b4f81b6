//! `SCRAM-SHA-256` and `SCRAM-SHA-512` (RFC 5802, RFC 7677), client side, without channel
//! binding: the password never leaves the client, and the server proves it knows the
//! password too (its final signature is checked; a server that cannot prove it is refused).
//!
//! The crypto is RustCrypto's (`sha2`, `hmac`, `pbkdf2`); nothing here hand-rolls a primitive.
//!
//! # References
//! - RFC 5802 §3 (the algorithm), §5 (messages), §7 (grammar); RFC 7677 §3 (SHA-256 vector)
//! - Kafka KIP-84 (SCRAM in Kafka: at least 4096 iterations, no channel binding)

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use rand::distr::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256, Sha512};

use super::mechanism::{AuthFailure, Exchange, Next};
use crate::config::Secret;

/// Kafka's lowest iteration count for SCRAM credentials (KIP-84).
const MIN_ITERATIONS: u32 = 4096;

/// The gs2 header: no channel binding, no authorization identity; `c=` carries its base64.
const GS2_HEADER: &str = "n,,";

/// Which hash a SCRAM login uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScramHash {
    Sha256,
    Sha512,
}

impl ScramHash {
    fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        fn run<D: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
            // Any key length is valid for HMAC.
            let mut mac = <D as KeyInit>::new_from_slice(key)
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
            for part in parts {
                mac.update(part);
            }
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Self::Sha256 => run::<Hmac<Sha256>>(key, parts),
            Self::Sha512 => run::<Hmac<Sha512>>(key, parts),
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(data).to_vec(),
            Self::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            Self::Sha256 => {
                let mut out = vec![0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
                out
            }
            Self::Sha512 => {
                let mut out = vec![0u8; 64];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out);
                out
            }
        }
    }
}

/// `saslname`: a user name with `=` and `,` escaped (RFC 5802 §5.1).
fn escape_username(username: &str) -> String {
    username.replace('=', "=3D").replace(',', "=2C")
}

/// Where the exchange is.
enum State {
    Start,
    /// The client-first message went: its bare part is part of the AuthMessage.
    SentFirst {
        client_first_bare: String,
    },
    /// The client-final message went: the server's signature to expect.
    SentFinal {
        server_signature: Vec<u8>,
    },
    Finished,
}

/// A SCRAM login.
pub(crate) struct Scram {
    hash: ScramHash,
    username: String,
    password: Secret,
    nonce: String,
    state: State,
}

impl Scram {
    pub(crate) fn new(hash: ScramHash, username: &str, password: &Secret) -> Self {
        let nonce = rand::rng()
            .sample_iter(Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        Self::with_nonce(hash, username, password, nonce)
    }

    /// With a given client nonce (for the RFC's test vectors).
    fn with_nonce(hash: ScramHash, username: &str, password: &Secret, nonce: String) -> Self {
        Self {
            hash,
            username: username.to_owned(),
            password: password.clone(),
            nonce,
            state: State::Start,
        }
    }

    fn client_final(
        &mut self,
        client_first_bare: &str,
        server_first: &[u8],
    ) -> Result<Vec<u8>, AuthFailure> {
        let server_first = std::str::from_utf8(server_first)
            .map_err(|_| AuthFailure("the server-first message is not UTF-8".into()))?;
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for attribute in server_first.split(',') {
            match attribute.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(v),
                Some(("i", v)) => iterations = Some(v),
                Some(("e", v)) => return Err(AuthFailure(format!("the server refused: {v}"))),
                Some(("m", _)) => {
                    return Err(AuthFailure(
                        "the server asks for a SCRAM extension this client does not know".into(),
                    ))
                }
                _ => {}
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(AuthFailure(format!(
                "the server-first message lacks r, s or i: {server_first}"
            )));
        };
        if !nonce.starts_with(&self.nonce) || nonce.len() <= self.nonce.len() {
            return Err(AuthFailure(
                "the server's nonce does not extend the client's".into(),
            ));
        }
        let salt = BASE64
            .decode(salt)
            .map_err(|_| AuthFailure("the salt is not base64".into()))?;
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| AuthFailure(format!("iteration count `{iterations}` is not a number")))?;
        if iterations < MIN_ITERATIONS {
            return Err(AuthFailure(format!(
                "the server asks for {iterations} iterations, fewer than {MIN_ITERATIONS}"
            )));
        }
        let hash = self.hash;
        let salted = hash.salted_password(self.password.expose().as_bytes(), &salt, iterations);
        let client_key = hash.hmac(&salted, &[b"Client Key"]);
        let stored_key = hash.hash(&client_key);
        let without_proof = format!("c={},r={nonce}", BASE64.encode(GS2_HEADER));
        let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
        let client_signature = hash.hmac(&stored_key, &[auth_message.as_bytes()]);
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = hash.hmac(&salted, &[b"Server Key"]);
        let server_signature = hash.hmac(&server_key, &[auth_message.as_bytes()]);
        self.state = State::SentFinal { server_signature };
        Ok(format!("{without_proof},p={}", BASE64.encode(proof)).into_bytes())
    }
}

impl Exchange for Scram {
    fn first(&mut self) -> Vec<u8> {
        let bare = format!("n={},r={}", escape_username(&self.username), self.nonce);
        let message = format!("{GS2_HEADER}{bare}");
        self.state = State::SentFirst {
            client_first_bare: bare,
        };
        message.into_bytes()
    }

    fn next(&mut self, server: &[u8]) -> Result<Next, AuthFailure> {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::SentFirst { client_first_bare } => {
                Ok(Next::Send(self.client_final(&client_first_bare, server)?))
            }
            State::SentFinal { server_signature } => {
                let text = String::from_utf8_lossy(server);
                if let Some(error) = text.strip_prefix("e=") {
                    return Err(AuthFailure(format!("the server refused: {error}")));
                }
                let verifier = text
                    .split(',')
                    .find_map(|a| a.strip_prefix("v="))
                    .ok_or_else(|| {
                        AuthFailure(format!("unexpected server-final message: {text}"))
                    })?;
                let signature = BASE64
                    .decode(verifier)
                    .map_err(|_| AuthFailure("the server signature is not base64".into()))?;
                if signature != server_signature {
                    return Err(AuthFailure(
                        "the server's signature is wrong: it does not know the password (or \
                         someone is in between)"
                            .into(),
                    ));
                }
                Ok(Next::Done)
            }
            State::Start | State::Finished => Err(AuthFailure(
                "a server message came when none was expected".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 §3: SCRAM-SHA-256 with user "user", password "pencil".
    #[test]
    fn the_rfc_7677_exchange() {
        let mut scram = Scram::with_nonce(
            ScramHash::Sha256,
            "user",
            &Secret::new("pencil"),
            "rOprNGfwEbeRWgbNEkqO".into(),
        );
        assert_eq!(scram.first(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let client_final = scram.next(
            b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        );
        assert_eq!(
            client_final,
            Ok(Next::Send(
                b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=".to_vec()
            ))
        );
        assert_eq!(
            scram.next(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Ok(Next::Done)
        );
    }

    fn started(hash: ScramHash) -> Scram {
        let mut scram = Scram::with_nonce(hash, "a,b=c", &Secret::new("pw"), "abc".into());
        assert_eq!(scram.first(), b"n,,n=a=2Cb=3Dc,r=abc");
        scram
    }

    #[test]
    fn a_wrong_server_signature_is_refused() {
        let mut scram = started(ScramHash::Sha512);
        let next = scram.next(b"r=abcdef,s=c2FsdA==,i=4096");
        assert!(matches!(next, Ok(Next::Send(_))), "{next:?}");
        let forged = format!("v={}", BASE64.encode([7u8; 64]));
        assert!(scram.next(forged.as_bytes()).is_err());
    }

    #[test]
    fn bad_server_first_messages_are_refused() {
        for bad in [
            &b"r=xyz,s=c2FsdA==,i=4096"[..],   // does not extend our nonce
            b"r=abc,s=c2FsdA==,i=4096",        // adds nothing to it
            b"r=abcd,s=c2FsdA==,i=100",        // too few iterations
            b"r=abcd,s=!!,i=4096",             // salt not base64
            b"r=abcd,i=4096",                  // no salt
            b"e=unknown-user",                 // an error
            b"m=ext,r=abcd,s=c2FsdA==,i=4096", // a mandatory extension
        ] {
            let mut scram = started(ScramHash::Sha256);
            assert!(scram.next(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_server_final_error_is_reported() {
        let mut scram = started(ScramHash::Sha256);
        let _ = scram.next(b"r=abcd,s=c2FsdA==,i=4096");
        let refused = scram.next(b"e=invalid-proof");
        assert!(matches!(&refused, Err(AuthFailure(m)) if m.contains("invalid-proof")));
    }
}
