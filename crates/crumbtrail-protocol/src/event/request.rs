//! The HTTP request interface (PROTOCOL.md §4.7).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The HTTP request being handled when the event happened.
///
/// Reading accepts every shape the protocol allows; writing uses one canonical form:
///
/// * `headers`: an object `{"Name": "value"}`. Pairs `[["Name","value"], ...]` are folded into
///   it, a repeated name having its values joined with `", "`.
/// * `query_string`: the raw string without a leading `?` (`a=1&b=x+y`). An object or pairs
///   are form-encoded into it.
/// * `cookies`: the raw `Cookie` header string (`a=1; b=2`). An object or pairs are joined
///   into it.
///
/// Non-string header, query and cookie values are stringified; `null` values are dropped.
///
/// ```
/// use crumbtrail_protocol::Request;
/// let r: Request = serde_json::from_str(
///     r#"{"method":"GET","headers":[["Accept","a"],["Accept","b"]],"query_string":[["q","x y"]]}"#,
/// ).unwrap();
/// assert_eq!(r.headers["Accept"], "a, b");
/// assert_eq!(r.query_string.as_deref(), Some("q=x+y"));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Request {
    /// The URL, without the query string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The method, upper case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The query string, raw, without a leading `?`.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::query_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub query_string: Option<String>,
    /// The body: an object for JSON and forms, else a string. Subject to size policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// The raw `Cookie` header. PII: only with `send_default_pii`.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::cookies",
        skip_serializing_if = "Option::is_none"
    )]
    pub cookies: Option<String>,
    /// Request headers, sensitive ones filtered (§12).
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::header_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub headers: BTreeMap<String, String>,
    /// CGI-style environment, e.g. `REMOTE_ADDR` (PII).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub env: Map<String, Value>,
    /// The URL fragment, without `#`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fragment: Option<String>,
    /// The API the request targeted, e.g. `graphql`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_target: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn full_request_round_trips_in_canonical_form() {
        let json = json!({
            "url": "https://shop/cart", "method": "POST", "query_string": "id=3&x=%26",
            "data": {"qty": 2}, "cookies": "sid=abc; theme=dark",
            "headers": {"Content-Type": "application/json", "Host": "shop"},
            "env": {"REMOTE_ADDR": "10.0.0.1"}, "fragment": "top", "api_target": "graphql"
        });
        let r: Request = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(r.headers.len(), 2);
        assert_eq!(r.data, Some(json!({"qty": 2})));
        assert_eq!(serde_json::to_value(&r).unwrap(), json);
    }

    #[test]
    fn alternative_forms_are_normalised() {
        let r: Request = serde_json::from_value(json!({
            "query_string": {"page": 2, "q": "a&b"},
            "cookies": [["sid", "abc"], ["n", 1]],
            "headers": [["X-Id", 7], ["Accept", "text/html"], ["Accept", "*/*"]]
        }))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({
                "query_string": "page=2&q=a%26b",
                "cookies": "sid=abc; n=1",
                "headers": {"X-Id": "7", "Accept": "text/html, */*"}
            })
        );
    }

    #[test]
    fn empty_request_writes_an_empty_object() {
        assert_eq!(serde_json::to_string(&Request::default()).unwrap(), "{}");
        let r: Request = serde_json::from_str(r#"{"headers":null,"cookies":null}"#).unwrap();
        assert_eq!(r, Request::default());
    }
}
