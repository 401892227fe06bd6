//! The log entry interface: a message template with its parameters (PROTOCOL.md §4.6).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A parameterized message: the template, its arguments and the final text.
///
/// Reading also accepts a plain string, taken as `formatted`.
///
/// ```
/// use crumbtrail_protocol::LogEntry;
/// let e = LogEntry::formatted("disk full");
/// assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"formatted":"disk full"}"#);
/// let e: LogEntry = serde_json::from_str(r#""disk full""#).unwrap();
/// assert_eq!(e.formatted.as_deref(), Some("disk full"));
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LogEntry {
    /// The template, e.g. `user %s failed login`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The template's arguments: an array, or an object for named parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<Value>,
    /// The final text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
}

impl LogEntry {
    /// An entry with just the final text.
    pub fn formatted(text: impl Into<String>) -> Self {
        LogEntry {
            formatted: Some(text.into()),
            ..LogEntry::default()
        }
    }
}

#[derive(Deserialize)]
struct Full {
    #[serde(default, deserialize_with = "crate::event::lenient::opt_string")]
    message: Option<String>,
    #[serde(default)]
    params: Option<Value>,
    #[serde(default, deserialize_with = "crate::event::lenient::opt_string")]
    formatted: Option<String>,
}

impl<'de> Deserialize<'de> for LogEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(LogEntry::formatted(s)),
            obj @ Value::Object(_) => {
                let full = Full::deserialize(obj).map_err(serde::de::Error::custom)?;
                Ok(LogEntry {
                    message: full.message,
                    params: full.params.filter(|p| !p.is_null()),
                    formatted: full.formatted,
                })
            }
            _ => Err(serde::de::Error::custom(
                "logentry must be an object {message, params, formatted} or a string",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::Event;
    use crate::event::testutil::assert_golden;

    #[test]
    fn golden_logentry_in_an_event() {
        let logentry = r#""logentry": {"message": "user %s failed login", "params": ["alice"], "formatted": "user alice failed login"}"#;
        let json = format!(
            r#"{{"event_id":"5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b","timestamp":1772366400.5,"platform":"native","level":"error",{logentry}}}"#
        );
        let event: Event = assert_golden(&json);
        let e = event.logentry.unwrap();
        assert_eq!(e.message.as_deref(), Some("user %s failed login"));
        assert_eq!(e.params, Some(json!(["alice"])));
        assert_eq!(e.formatted.as_deref(), Some("user alice failed login"));
    }

    #[test]
    fn params_may_be_an_object() {
        let json = json!({"message": "%(user)s", "params": {"user": "bob"}});
        let e: LogEntry = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(e.params.as_ref().unwrap()["user"], "bob");
        assert_eq!(serde_json::to_value(&e).unwrap(), json);
    }

    #[test]
    fn null_params_are_dropped_and_bad_shapes_rejected() {
        let e: LogEntry = serde_json::from_str(r#"{"formatted":"x","params":null}"#).unwrap();
        assert_eq!(e, LogEntry::formatted("x"));
        assert!(serde_json::from_str::<LogEntry>("[1]").is_err());
    }
}
