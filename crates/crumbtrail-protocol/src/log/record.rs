//! One structured log record (PROTOCOL.md §10.2).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::ids::{SpanId, TraceId};
use crate::log::{LogAttribute, LogLevel};

/// A structured log record.
///
/// ```
/// use crumbtrail_protocol::{LogLevel, LogRecord, TraceId};
///
/// let mut record = LogRecord::new(TraceId::random(), LogLevel::Warn, "cart 981 exceeded 50 items");
/// record.set_attribute("cart.total", 412.5);
/// let json = serde_json::to_value(&record).unwrap();
/// assert_eq!(json["level"], "warn");
/// assert_eq!(json["severity_number"], 13);
/// assert_eq!(json["attributes"]["cart.total"]["type"], "double");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// When the record was made (written as float seconds; the protocol accepts only numbers
    /// here, crumbtrail also reads RFC 3339).
    #[serde(with = "crate::timestamp::float")]
    pub timestamp: OffsetDateTime,
    /// The trace the record belongs to (from the propagation context).
    pub trace_id: TraceId,
    /// The active span, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<SpanId>,
    /// The level.
    pub level: LogLevel,
    /// The OpenTelemetry severity number (1–24). An unreadable value is dropped on read.
    #[serde(
        default,
        deserialize_with = "lenient_severity",
        skip_serializing_if = "Option::is_none"
    )]
    pub severity_number: Option<u8>,
    /// The formatted message.
    pub body: String,
    /// Typed attributes, keyed by name (see the `LOG_ATTR_*` constants).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, LogAttribute>,
}

impl LogRecord {
    /// A record made now, with the level's lowest severity number and no attributes.
    pub fn new(trace_id: TraceId, level: LogLevel, body: impl Into<String>) -> Self {
        LogRecord {
            timestamp: crate::timestamp::now(),
            trace_id,
            span_id: None,
            level,
            severity_number: Some(level.severity_number()),
            body: body.into(),
            attributes: BTreeMap::new(),
        }
    }

    /// Sets an attribute, replacing any previous value under that name.
    pub fn set_attribute(&mut self, name: impl Into<String>, value: impl Into<LogAttribute>) {
        self.attributes.insert(name.into(), value.into());
    }

    /// The level the severity number implies, if it is present and in 1–24 (whether it
    /// agrees with [`LogRecord::level`] is not checked).
    pub fn level_from_severity(&self) -> Option<LogLevel> {
        self.severity_number
            .and_then(LogLevel::from_severity_number)
    }

    /// Approximate serialized size in bytes (for `log_byte` accounting and batching).
    pub fn approximate_size(&self) -> usize {
        serde_json::to_vec(self).map(|v| v.len()).unwrap_or(0)
    }
}

/// Reads a severity number, turning anything that is not an integer in `0..=255` into `None`.
fn lenient_severity<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u8>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(v.and_then(|v| v.as_u64())
        .and_then(|n| u8::try_from(n).ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn minimal() -> Value {
        json!({
            "timestamp": 1772366400.5,
            "trace_id": "4c79f60c11214eb38604f4ae0781bfb2",
            "level": "info",
            "body": "hello"
        })
    }

    #[test]
    fn minimal_record_round_trips_without_optional_keys() {
        let record: LogRecord = serde_json::from_value(minimal()).unwrap();
        assert_eq!(record.timestamp, datetime!(2026-03-01 12:00:00.5 UTC));
        assert_eq!(record.span_id, None);
        assert_eq!(record.severity_number, None);
        assert!(record.attributes.is_empty());
        assert_eq!(serde_json::to_value(&record).unwrap(), minimal());
    }

    #[test]
    fn unreadable_severity_numbers_are_dropped_not_fatal() {
        for bad in [json!(300), json!(-1), json!("13"), json!(1.5), json!(null)] {
            let mut v = minimal();
            v["severity_number"] = bad.clone();
            let record: LogRecord = serde_json::from_value(v).unwrap();
            assert_eq!(record.severity_number, None, "{bad}");
        }
        let mut v = minimal();
        v["severity_number"] = json!(18);
        let record: LogRecord = serde_json::from_value(v).unwrap();
        assert_eq!(record.level_from_severity(), Some(LogLevel::Error));
    }

    #[test]
    fn required_fields_are_required() {
        for key in ["trace_id", "body", "level", "timestamp"] {
            let mut v = minimal();
            v.as_object_mut().unwrap().remove(key);
            assert!(serde_json::from_value::<LogRecord>(v).is_err(), "{key}");
        }
    }

    #[test]
    fn new_record_uses_the_lowest_severity_and_round_trips() {
        let mut record = LogRecord::new(TraceId::random(), LogLevel::Fatal, "boom");
        record.span_id = Some(SpanId::random());
        record.set_attribute("n", 3i64);
        record.set_attribute("n", "three");
        assert_eq!(record.severity_number, Some(21));
        assert_eq!(record.attributes["n"], LogAttribute::from("three"));
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(record.approximate_size(), json.len());
        assert_eq!(serde_json::from_str::<LogRecord>(&json).unwrap(), record);
    }
}
