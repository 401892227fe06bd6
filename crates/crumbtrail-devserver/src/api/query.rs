//! Query-string parameters of the JSON API: decoding and typed reading, with errors that name
//! the parameter.

use crumbtrail_protocol::timestamp::{from_float, parse_rfc3339};
use time::OffsetDateTime;

use crate::server::response::ApiError;

/// The decoded parameters of one request.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes `a=1&b=x%20y` (`+` is a space), refusing names not in `known`.
    pub(crate) fn parse(query: Option<&str>, known: &[&str]) -> Result<Params, ApiError> {
        let mut out = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (decode(k), decode(v));
            if !known.contains(&k.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{k}`; this route knows: {}",
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                )));
            }
            out.push((k, v));
        }
        Ok(Params(out))
    }

    /// The last value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A non-negative integer parameter.
    pub(crate) fn u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse().map_err(|_| {
                    ApiError::bad_request(format!(
                        "query parameter `{name}` must be a non-negative integer, got {v:?}"
                    ))
                })
            })
            .transpose()
    }

    /// A point in time: RFC 3339 (`2026-03-01T12:00:00Z`) or Unix seconds (`1772366400.5`).
    pub(crate) fn time(&self, name: &str) -> Result<Option<OffsetDateTime>, ApiError> {
        self.get(name)
            .map(|v| {
                parse_rfc3339(v)
                    .or_else(|| v.parse::<f64>().ok().and_then(from_float))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "query parameter `{name}` must be an RFC 3339 time or Unix seconds, \
                             got {v:?}"
                        ))
                    })
            })
            .transpose()
    }
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one component; `+` is a space, broken escapes stay as they are.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let high = bytes.get(i + 1).copied().and_then(hex);
                let low = bytes.get(i + 2).copied().and_then(hex);
                if let (Some(h), Some(l)) = (high, low) {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_reads_typed_values() {
        let p = Params::parse(
            Some("since=2026-03-01T12%3A00%3A00Z&count=3&type=client_report&x=a+b%2"),
            &["since", "count", "type", "x"],
        )
        .unwrap();
        assert_eq!(p.get("type"), Some("client_report"));
        assert_eq!(p.get("x"), Some("a b%2"));
        assert_eq!(p.u64("count").unwrap(), Some(3));
        assert_eq!(p.u64("missing").unwrap(), None);
        let t = p.time("since").unwrap().unwrap();
        assert_eq!(t.unix_timestamp(), 1_772_366_400);
    }

    #[test]
    fn bad_values_and_unknown_names_are_400_with_the_name() {
        let err = Params::parse(Some("lvl=error"), &["level"]).err().unwrap();
        assert!(err.detail.contains("`lvl`") && err.detail.contains("level"));
        let p = Params::parse(Some("count=-1&since=yesterday"), &["count", "since"]).unwrap();
        assert!(p.u64("count").unwrap_err().detail.contains("`count`"));
        assert!(p.time("since").unwrap_err().detail.contains("`since`"));
        let p = Params::parse(Some("since=1772366400.5"), &["since"]).unwrap();
        assert!(p.time("since").unwrap().is_some());
        assert_eq!(decode("%"), "%");
        assert_eq!(decode("%4"), "%4");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%41"), "A");
    }
}
