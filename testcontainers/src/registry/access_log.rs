//! The registry's own record of the requests it served: Quarkus's HTTP access log, written by
//! the registry into `access.log` in its folder, one line per request in the form
//! `<status> <method> <uri>` (the pattern [`PATTERN`]).
//!
//! Quarkus writes an access-log line when a response has ended, and writes the file from a
//! background task, in the order the lines were made. So a count read straight after a
//! response can miss it. The harness therefore closes every count with a marker request of
//! its own (`?kiel-harness=mark-<random>`): once the marker's line is in the file, so are
//! the lines of every request answered before the marker was sent. The harness's own
//! requests (readiness probes, markers) carry `kiel-harness=` in their query and are left
//! out of what tests see.
//!
//! # References
//! - Quarkus HTTP reference, "Configuring HTTP Access Logs":
//!   <https://quarkus.io/guides/http-reference#configuring-http-access-logs>
//!   (`%s` status, `%m` method, `%U` the request URI with its query string)

use crate::error::{HarnessError, Result};

/// The access-log pattern the registry is started with.
pub(crate) const PATTERN: &str = "%s %m %U";

/// The query parameter that marks the harness's own requests.
pub(crate) const HARNESS_PARAM: &str = "kiel-harness";

/// One request the registry answered, from its access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request target as sent: path and, if there was one, `?` and the query string.
    pub uri: String,
    /// The HTTP status of the answer.
    pub status: u16,
}

impl RegistryRequest {
    /// The path, without the query string.
    pub fn path(&self) -> &str {
        self.uri.split_once('?').map_or(&self.uri, |(path, _)| path)
    }

    /// The value of the harness's marker parameter, for the harness's own requests.
    pub(crate) fn harness_tag(&self) -> Option<&str> {
        let (_, query) = self.uri.split_once('?')?;
        query.split('&').find_map(|pair| {
            pair.strip_prefix(HARNESS_PARAM)
                .and_then(|rest| rest.strip_prefix('='))
        })
    }
}

/// Parses the access log's text: every complete line (a last line without its newline may
/// still be being written and is ignored).
pub(crate) fn parse(text: &str) -> Result<Vec<RegistryRequest>> {
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(parse_line)
        .collect()
}

fn parse_line(line: &str) -> Result<RegistryRequest> {
    let bad = || HarnessError::Parse {
        what: "a Schema Registry access-log line",
        detail: format!("expected `<status> <method> <uri>`, got {line:?}"),
    };
    let mut parts = line.trim_end().splitn(3, ' ');
    let status = parts.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
    let method = parts.next().filter(|m| !m.is_empty()).ok_or_else(bad)?;
    let uri = parts.next().filter(|u| !u.is_empty()).ok_or_else(bad)?;
    Ok(RegistryRequest {
        method: method.to_owned(),
        uri: uri.to_owned(),
        status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_requests() {
        let text = "200 GET /apis/ccompat/v7/subjects?kiel-harness=ready\n\
                    200 POST /apis/ccompat/v7/subjects/orders-value/versions\n\
                    404 GET /apis/ccompat/v7/schemas/ids/999999\n\
                    409 POST /apis/ccompat/v7/subjects/orders-value/versions?normalize=true\n\
                    200 GET /apis/ccompat/v7/subjects?deleted=true&kiel-harness=mark-00ff\n\
                    201 POST /apis/ccompat/v7/sub";
        let requests = parse(text).unwrap();
        assert_eq!(requests.len(), 5, "the unfinished last line is left out");
        assert_eq!(
            requests[1],
            RegistryRequest {
                method: "POST".to_owned(),
                uri: "/apis/ccompat/v7/subjects/orders-value/versions".to_owned(),
                status: 200,
            }
        );
        assert_eq!(requests[0].harness_tag(), Some("ready"));
        assert_eq!(requests[1].harness_tag(), None);
        assert_eq!(requests[2].status, 404);
        assert_eq!(
            requests[3].path(),
            "/apis/ccompat/v7/subjects/orders-value/versions"
        );
        assert_eq!(requests[3].harness_tag(), None);
        assert_eq!(requests[4].harness_tag(), Some("mark-00ff"));
        assert_eq!(requests[4].path(), "/apis/ccompat/v7/subjects");
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert!(parse("").unwrap().is_empty());
        assert!(parse("\n\n").unwrap().is_empty());
        for bad in ["GET /x 200\n", "200\n", "200 GET\n", "abc GET /\n"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
