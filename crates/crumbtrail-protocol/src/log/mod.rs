//! Structured logs (PROTOCOL.md §10): the `log` item's container, its records, their levels
//! and typed attributes.

mod attribute;
mod level;
mod record;

pub use attribute::*;
pub use level::*;
pub use record::*;

use serde::{Deserialize, Serialize};

use crate::envelope::{Item, ItemType};

/// The `content_type` of a `log` item.
pub const LOG_CONTENT_TYPE: &str = "application/vnd.sentry.items.log+json";

/// The most records one `log` item may carry.
pub const MAX_LOG_RECORDS_PER_ITEM: usize = crate::limits::MAX_LOGS_PER_ITEM;

/// Attribute: the environment (`sentry.environment`).
pub const LOG_ATTR_ENVIRONMENT: &str = "sentry.environment";
/// Attribute: the release (`sentry.release`).
pub const LOG_ATTR_RELEASE: &str = "sentry.release";
/// Attribute: the SDK name (`sentry.sdk.name`).
pub const LOG_ATTR_SDK_NAME: &str = "sentry.sdk.name";
/// Attribute: the SDK version (`sentry.sdk.version`).
pub const LOG_ATTR_SDK_VERSION: &str = "sentry.sdk.version";
/// Attribute: the backend host name (`server.address`).
pub const LOG_ATTR_SERVER_ADDRESS: &str = "server.address";
/// Attribute: the message template, only when parameters exist (`sentry.message.template`).
pub const LOG_ATTR_MESSAGE_TEMPLATE: &str = "sentry.message.template";
/// Attribute prefix: one message parameter, followed by its index or name
/// (`sentry.message.parameter.`); see [`log_message_parameter_attr`].
pub const LOG_ATTR_MESSAGE_PARAMETER_PREFIX: &str = "sentry.message.parameter.";
/// Attribute: `auto.log.<integration>` for records an integration made (`sentry.origin`).
pub const LOG_ATTR_ORIGIN: &str = "sentry.origin";
/// Attribute: the user id, only with `send_default_pii` (`user.id`).
pub const LOG_ATTR_USER_ID: &str = "user.id";
/// Attribute: the user name, only with `send_default_pii` (`user.name`).
pub const LOG_ATTR_USER_NAME: &str = "user.name";
/// Attribute: the user email, only with `send_default_pii` (`user.email`).
pub const LOG_ATTR_USER_EMAIL: &str = "user.email";

/// The attribute name of one message parameter: `sentry.message.parameter.<index or name>`.
///
/// ```
/// assert_eq!(
///     crumbtrail_protocol::log_message_parameter_attr(0),
///     "sentry.message.parameter.0"
/// );
/// ```
pub fn log_message_parameter_attr(index_or_name: impl std::fmt::Display) -> String {
    format!("{LOG_ATTR_MESSAGE_PARAMETER_PREFIX}{index_or_name}")
}

/// The payload of a `log` item: `{"items": [...]}` with at most
/// [`MAX_LOG_RECORDS_PER_ITEM`] records.
///
/// ```
/// use crumbtrail_protocol::{LogContainer, LogLevel, LogRecord, TraceId};
///
/// let record = LogRecord::new(TraceId::random(), LogLevel::Info, "ready");
/// let item = LogContainer::new(vec![record]).to_item().unwrap();
/// assert_eq!(item.headers.item_count, Some(1));
/// assert_eq!(
///     item.headers.content_type.as_deref(),
///     Some("application/vnd.sentry.items.log+json")
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LogContainer {
    /// The container format version: the Python SDK writes `2`, crumbtrail omits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The records.
    #[serde(default)]
    pub items: Vec<LogRecord>,
}

impl LogContainer {
    /// A container holding `items` (no version).
    pub fn new(items: Vec<LogRecord>) -> Self {
        LogContainer {
            version: None,
            items,
        }
    }

    /// Splits records into containers of at most [`MAX_LOG_RECORDS_PER_ITEM`] each, in order.
    pub fn batches(records: Vec<LogRecord>) -> Vec<LogContainer> {
        let mut out = Vec::new();
        let mut records = records.into_iter().peekable();
        while records.peek().is_some() {
            let chunk = records.by_ref().take(MAX_LOG_RECORDS_PER_ITEM).collect();
            out.push(LogContainer::new(chunk));
        }
        out
    }

    /// The container as a `log` item, with `item_count` and the log `content_type` set.
    pub fn to_item(&self) -> Result<Item, serde_json::Error> {
        let mut item = Item::new(ItemType::Log, serde_json::to_vec(self)?);
        item.headers.content_type = Some(LOG_CONTENT_TYPE.to_owned());
        item.headers.item_count = Some(self.items.len() as u64);
        Ok(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TraceId;
    use serde_json::Value;
    use time::macros::datetime;

    const RECORD: &str = r#"{"timestamp":1772366401.2345,"trace_id":"4c79f60c11214eb38604f4ae0781bfb2","span_id":"b2c3d4e5f6071829",
 "level":"warn","severity_number":13,"body":"cart 981 exceeded 50 items",
 "attributes":{
   "sentry.message.template":{"value":"cart {} exceeded {} items","type":"string"},
   "sentry.message.parameter.0":{"value":981,"type":"integer"},
   "sentry.message.parameter.1":{"value":50,"type":"integer"},
   "sentry.environment":{"value":"production","type":"string"},
   "sentry.release":{"value":"shop@1.4.2","type":"string"},
   "sentry.sdk.name":{"value":"crumbtrail","type":"string"},
   "cart.total":{"value":412.5,"type":"double"},
   "cart.guest":{"value":false,"type":"boolean"}}}"#;

    #[test]
    fn golden_section_10_2_record_in_a_container() {
        let payload = format!(r#"{{"items":[{RECORD}]}}"#);
        let container: LogContainer = serde_json::from_str(&payload).unwrap();
        assert_eq!(container.version, None);
        let record = &container.items[0];
        assert_eq!(record.timestamp, datetime!(2026-03-01 12:00:01.2345 UTC));
        assert_eq!(record.level, LogLevel::Warn);
        assert_eq!(record.severity_number, Some(13));
        assert_eq!(record.attributes.len(), 8);
        assert_eq!(
            record.attributes[&log_message_parameter_attr(0)],
            LogAttribute::Integer(981)
        );
        assert_eq!(
            record.attributes[LOG_ATTR_MESSAGE_TEMPLATE],
            LogAttribute::from("cart {} exceeded {} items")
        );
        assert_eq!(record.attributes["cart.total"], LogAttribute::Double(412.5));
        assert_eq!(
            record.attributes["cart.guest"],
            LogAttribute::Boolean(false)
        );
        let written = serde_json::to_value(&container).unwrap();
        let want: Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(written, want);
    }

    #[test]
    fn version_is_kept_when_present() {
        let payload = format!(r#"{{"version":2,"items":[{RECORD}]}}"#);
        let container: LogContainer = serde_json::from_str(&payload).unwrap();
        assert_eq!(container.version, Some(2));
        let written = serde_json::to_value(&container).unwrap();
        assert_eq!(written, serde_json::from_str::<Value>(&payload).unwrap());
        assert_eq!(
            serde_json::to_string(&LogContainer::default()).unwrap(),
            r#"{"items":[]}"#
        );
    }

    #[test]
    fn to_item_sets_the_container_headers() {
        let trace = TraceId::random();
        let records: Vec<_> = (0..3)
            .map(|i| LogRecord::new(trace, LogLevel::Debug, format!("line {i}")))
            .collect();
        let container = LogContainer::new(records);
        let item = container.to_item().unwrap();
        assert_eq!(item.ty(), &ItemType::Log);
        assert_eq!(item.headers.item_count, Some(3));
        assert_eq!(item.headers.content_type.as_deref(), Some(LOG_CONTENT_TYPE));
        assert_eq!(item.decode_json::<LogContainer>().unwrap(), container);
    }

    #[test]
    fn batches_respect_the_record_limit() {
        let trace = TraceId::random();
        let records: Vec<_> = (0..250)
            .map(|i| LogRecord::new(trace, LogLevel::Info, i.to_string()))
            .collect();
        let batches = LogContainer::batches(records);
        let sizes: Vec<usize> = batches.iter().map(|b| b.items.len()).collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert_eq!(batches[2].items[49].body, "249");
        assert!(LogContainer::batches(Vec::new()).is_empty());
    }

    #[test]
    fn attribute_names() {
        assert_eq!(LOG_ATTR_SDK_VERSION, "sentry.sdk.version");
        assert_eq!(
            log_message_parameter_attr("user"),
            "sentry.message.parameter.user"
        );
    }
}
