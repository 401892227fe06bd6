//! Lenient readers for fields that other SDKs send in several shapes.
//!
//! Each reader accepts every form the server accepts and yields crumbtrail's one canonical
//! form, so writing is always the same whatever was read.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The platform events and transactions default to: `native`.
pub(crate) fn default_platform() -> String {
    "native".to_owned()
}

/// A scalar as a string: strings as they are, numbers and booleans in their JSON spelling,
/// `null` as `None`, arrays and objects as compact JSON.
pub(crate) fn value_to_string(v: Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Key/value pairs from an object `{"k": v}` or an array of pairs `[["k", v], ...]`.
/// Entries that are not pairs, and `null` values, are skipped.
fn pairs(v: Value) -> Vec<(String, String)> {
    match v {
        Value::Object(map) => map
            .into_iter()
            .filter_map(|(k, v)| value_to_string(v).map(|v| (k, v)))
            .collect(),
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::Array(mut pair) if pair.len() == 2 => {
                    let v = pair.pop().and_then(value_to_string)?;
                    let k = pair.pop().and_then(value_to_string)?;
                    Some((k, v))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A string map (tags, modules) from an object or an array of pairs; non-string values are
/// stringified, `null` values dropped. A repeated key keeps its last value.
pub(crate) fn string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    Ok(pairs(Value::deserialize(d)?).into_iter().collect())
}

/// HTTP headers from an object or an array of pairs. A repeated header name has its values
/// joined with `", "`, as HTTP combines them.
pub(crate) fn header_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let mut out = BTreeMap::<String, String>::new();
    for (k, v) in pairs(Value::deserialize(d)?) {
        match out.get_mut(&k) {
            Some(existing) => {
                existing.push_str(", ");
                existing.push_str(&v);
            }
            None => {
                out.insert(k, v);
            }
        }
    }
    Ok(out)
}

/// An optional string that may arrive as a number or boolean (e.g. `user.id: 42`).
pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(value_to_string(Value::deserialize(d)?))
}

/// A string that may arrive as a number or boolean; `null` reads as empty.
pub(crate) fn opt_string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(value_to_string(Value::deserialize(d)?).unwrap_or_default())
}

/// A list of strings whose entries may be numbers or booleans; `null` entries are dropped.
pub(crate) fn string_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items.into_iter().filter_map(value_to_string).collect(),
        Value::Null => Vec::new(),
        other => value_to_string(other).into_iter().collect(),
    })
}

/// `message`: a plain string, or a logentry-like object (its `formatted`, else its `message`).
pub(crate) fn message<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(mut map) => map
            .remove("formatted")
            .and_then(value_to_string)
            .or_else(|| map.remove("message").and_then(value_to_string)),
        other => value_to_string(other),
    })
}

/// A query string from a raw string (a leading `?` is dropped), an object, or pairs. Objects
/// and pairs are form-encoded and joined with `&`.
pub(crate) fn query_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s.strip_prefix('?').map(str::to_owned).unwrap_or(s)),
        Value::Null => None,
        v @ (Value::Object(_) | Value::Array(_)) => {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in pairs(v) {
                ser.append_pair(&k, &v);
            }
            Some(ser.finish())
        }
        other => value_to_string(other),
    })
}

/// Cookies from a raw `Cookie` header string, an object, or pairs. Objects and pairs are
/// joined as `k=v; k2=v2`.
pub(crate) fn cookies<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        v @ (Value::Object(_) | Value::Array(_)) => Some(
            pairs(v)
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => value_to_string(other),
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "string_map")]
        tags: BTreeMap<String, String>,
        #[serde(default, deserialize_with = "header_map")]
        headers: BTreeMap<String, String>,
        #[serde(default, deserialize_with = "query_string")]
        query: Option<String>,
        #[serde(default, deserialize_with = "cookies")]
        cookies: Option<String>,
        #[serde(default, deserialize_with = "opt_string")]
        id: Option<String>,
        #[serde(default, deserialize_with = "string_vec")]
        list: Vec<String>,
        #[serde(default, deserialize_with = "message")]
        message: Option<String>,
    }

    fn probe(v: Value) -> Probe {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn maps_accept_objects_and_pairs_and_stringify_scalars() {
        let p = probe(json!({"tags": [["a", 1], ["b", true], ["c", null], ["bad"], 7]}));
        assert_eq!(p.tags.len(), 2);
        assert_eq!(p.tags["a"], "1");
        assert_eq!(p.tags["b"], "true");
        let p = probe(json!({"tags": {"x": "y", "n": 2.5}}));
        assert_eq!(p.tags["x"], "y");
        assert_eq!(p.tags["n"], "2.5");
    }

    #[test]
    fn repeated_headers_are_joined() {
        let p = probe(json!({"headers": [["Accept", "a"], ["Accept", "b"], ["Host", "h"]]}));
        assert_eq!(p.headers["Accept"], "a, b");
        assert_eq!(p.headers["Host"], "h");
    }

    #[test]
    fn query_strings_are_normalised_to_a_raw_string() {
        assert_eq!(
            probe(json!({"query": "?a=1"})).query.as_deref(),
            Some("a=1")
        );
        let p = probe(json!({"query": [["q", "a b"], ["page", 2]]}));
        assert_eq!(p.query.as_deref(), Some("q=a+b&page=2"));
        let p = probe(json!({"query": {"x": "&"}}));
        assert_eq!(p.query.as_deref(), Some("x=%26"));
        assert_eq!(probe(json!({"query": null})).query, None);
    }

    #[test]
    fn cookies_are_normalised_to_a_header_string() {
        let p = probe(json!({"cookies": {"a": "1", "b": "2"}}));
        assert_eq!(p.cookies.as_deref(), Some("a=1; b=2"));
        let p = probe(json!({"cookies": [["sid", "x"]]}));
        assert_eq!(p.cookies.as_deref(), Some("sid=x"));
        let p = probe(json!({"cookies": "sid=x; theme=dark"}));
        assert_eq!(p.cookies.as_deref(), Some("sid=x; theme=dark"));
    }

    #[test]
    fn scalars_become_strings() {
        assert_eq!(probe(json!({"id": 42})).id.as_deref(), Some("42"));
        assert_eq!(probe(json!({"id": null})).id, None);
        assert_eq!(probe(json!({"list": ["a", 1, null]})).list, ["a", "1"]);
        assert_eq!(
            probe(json!({"message": {"message": "t %s", "formatted": "t x"}}))
                .message
                .as_deref(),
            Some("t x")
        );
        assert_eq!(
            probe(json!({"message": {"message": "t"}}))
                .message
                .as_deref(),
            Some("t")
        );
    }
}
