//! The few HTTP requests the harness itself sends to a Schema Registry (readiness probes, the
//! marker requests that close an access-log count, and the requests that warm up the
//! class-data archive): HTTP/1.1 on a new connection to 127.0.0.1, `Connection: close`,
//! reading the status line only. Tests talk to the registry with a real HTTP client; this
//! is not one.
//!
//! # References
//! - RFC 9112 (HTTP/1.1 message syntax), section 4 (status line)
//! - RFC 7617 (the Basic authentication scheme), RFC 4648 section 4 (base64)

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The `User-Agent` of the harness's own requests.
pub(crate) const USER_AGENT: &str = "kiel-testcontainers";

/// Sends `GET <path>` to `127.0.0.1:<port>` and returns the response's status code. Fails
/// on connection errors, a malformed status line, or when `timeout` passes first.
pub(crate) async fn get_status(
    port: u16,
    path: &str,
    basic_auth: Option<(&str, &str)>,
    timeout: Duration,
) -> std::io::Result<u16> {
    tokio::time::timeout(timeout, exchange(port, path, basic_auth))
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in time"))?
}

async fn exchange(port: u16, path: &str, basic_auth: Option<(&str, &str)>) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream
        .write_all(request_text("GET", port, path, basic_auth, None).as_bytes())
        .await?;
    // The status line comes first; read until it is complete, then drain what is left so
    // the server is not cut off mid-response (it closes after answering).
    let mut received = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        received.extend_from_slice(&chunk[..n]);
        if received.windows(2).any(|w| w == b"\r\n") {
            break;
        }
    }
    let status = parse_status(&received).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not an HTTP response: {:?}",
                String::from_utf8_lossy(&received[..received.len().min(80)])
            ),
        )
    })?;
    // The status is known: drain for a moment only. A server that answers but keeps the
    // connection open despite `Connection: close` (seen once from the registry's HTTP
    // server on a busy machine: the answer logged, the socket left open for 30 s) must not
    // turn a known status into a timeout.
    let drain = async { while matches!(stream.read(&mut chunk).await, Ok(n) if n > 0) {} };
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, drain).await;
    Ok(status)
}

/// How long [`get_status`] keeps reading after the status line, for the server to close.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// Sends `method path` with an optional JSON `body` and waits for the status line, from a
/// blocking thread (`timeout` applies to each read and write).
pub(crate) fn send_blocking(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    timeout: Duration,
) -> std::io::Result<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(request_text(method, port, path, None, body).as_bytes())?;
    let mut received = Vec::new();
    stream.read_to_end(&mut received)?;
    parse_status(&received)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "not an HTTP response"))
}

fn request_text(
    method: &str,
    port: u16,
    path: &str,
    basic_auth: Option<(&str, &str)>,
    body: Option<&str>,
) -> String {
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: {USER_AGENT}\r\n\
         Accept: application/json\r\nConnection: close\r\n"
    );
    if let Some(body) = body {
        text.push_str(&format!(
            "Content-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    if let Some((user, password)) = basic_auth {
        text.push_str(&format!(
            "Authorization: Basic {}\r\n",
            base64(format!("{user}:{password}").as_bytes())
        ));
    }
    text.push_str("\r\n");
    if let Some(body) = body {
        text.push_str(body);
    }
    text
}

/// The status code of an `HTTP/1.x NNN reason` status line at the start of `bytes`.
fn parse_status(bytes: &[u8]) -> Option<u16> {
    let line_end = bytes.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&bytes[..line_end]).ok()?;
    let mut parts = line.splitn(3, ' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    code.parse().ok()
}

/// Standard base64 with padding (RFC 4648 section 4).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            // RFC 7617's example credentials.
            ("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
    }

    #[test]
    fn status_lines_are_parsed() {
        assert_eq!(parse_status(b"HTTP/1.1 200 OK\r\nx: y\r\n"), Some(200));
        assert_eq!(parse_status(b"HTTP/1.0 404 Not Found\r\n"), Some(404));
        assert_eq!(parse_status(b"HTTP/1.1 401\r\n"), Some(401));
        assert_eq!(parse_status(b"HTTP/1.1 200 OK"), None, "incomplete line");
        assert_eq!(parse_status(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(parse_status(b"HTTP/1.1 2000 OK\r\n"), None);
    }

    #[test]
    fn requests_carry_host_agent_and_credentials() {
        let text = request_text(
            "GET",
            8081,
            "/apis/ccompat/v7/subjects",
            Some(("alice", "s3cret")),
            None,
        );
        assert!(text.starts_with("GET /apis/ccompat/v7/subjects HTTP/1.1\r\n"));
        assert!(text.contains("Host: 127.0.0.1:8081\r\n"));
        assert!(text.contains("User-Agent: kiel-testcontainers\r\n"));
        assert!(text.contains("Authorization: Basic YWxpY2U6czNjcmV0\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
        assert!(!request_text("GET", 1, "/", None, None).contains("Authorization"));
        let post = request_text("POST", 1, "/s", None, Some("{\"a\":1}"));
        assert!(post.starts_with("POST /s HTTP/1.1\r\n"));
        assert!(post.contains("Content-Length: 7\r\n"));
        assert!(post.ends_with("\r\n\r\n{\"a\":1}"));
    }

    #[tokio::test]
    async fn a_status_comes_back_from_a_real_socket() {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0_u8; 1024];
            let n = socket.read(&mut buf).await.unwrap();
            let request = String::from_utf8_lossy(&buf[..n]).into_owned();
            socket
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 2\r\n\r\nno")
                .await
                .unwrap();
            request
        });
        let status = get_status(port, "/x?y=1", None, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(status, 503);
        assert!(server.await.unwrap().starts_with("GET /x?y=1 HTTP/1.1\r\n"));
    }

    #[tokio::test]
    async fn a_server_that_answers_but_keeps_the_connection_open_still_gives_its_status() {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0_u8; 1024];
            let _ = socket.read(&mut buf).await.unwrap();
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n[]")
                .await
                .unwrap();
            // Holds the socket open until the test is done.
            let _ = released.await;
        });
        let status = get_status(port, "/", None, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(status, 200);
        let _ = release.send(());
        server.await.unwrap();
    }
}
