//! The transaction payload (PROTOCOL.md §9.1).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::breadcrumb::Breadcrumb;
use crate::event::{ClientSdkInfo, Contexts, Meta, Request, TraceContext, User};
use crate::ids::EventId;
use crate::tracing::Span;
use crate::values::Values;

/// How a transaction name was chosen; `url` names are high-cardinality and kept out of the
/// DSC's `transaction`.
///
/// Names crumbtrail does not know are kept as [`TransactionSource::Unknown`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransactionSource {
    /// Set by the user.
    Custom,
    /// The raw URL path (high cardinality).
    Url,
    /// A parameterized route, e.g. `/cart/:id`.
    Route,
    /// A view name.
    View,
    /// A component name.
    Component,
    /// A background task name.
    Task,
    /// A name crumbtrail does not know.
    Unknown(String),
}

impl TransactionSource {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            TransactionSource::Custom => "custom",
            TransactionSource::Url => "url",
            TransactionSource::Route => "route",
            TransactionSource::View => "view",
            TransactionSource::Component => "component",
            TransactionSource::Task => "task",
            TransactionSource::Unknown(s) => s,
        }
    }

    /// Parses a wire name; never fails.
    pub fn parse(s: &str) -> Self {
        match s {
            "custom" => TransactionSource::Custom,
            "url" => TransactionSource::Url,
            "route" => TransactionSource::Route,
            "view" => TransactionSource::View,
            "component" => TransactionSource::Component,
            "task" => TransactionSource::Task,
            other => TransactionSource::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for TransactionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TransactionSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TransactionSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(TransactionSource::parse(&s))
    }
}

/// `transaction_info`: where the transaction name came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TransactionInfo {
    /// How the name was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<TransactionSource>,
}

/// One measurement: a value and its unit (e.g. `millisecond`, `byte`, `none`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The value. Must be finite: a NaN or infinity is written as `null`, which the server
    /// rejects.
    pub value: f64,
    /// The unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A finished transaction: the root span (in `contexts.trace`) and its finished children.
///
/// `type` is always written as `"transaction"`; on read it is ignored. Optional keys are
/// read and written like [`crate::Event`]'s.
///
/// ```
/// use crumbtrail_protocol::{SpanId, TraceContext, TraceId, Transaction};
/// let trace = TraceContext::new(TraceId::random(), SpanId::random());
/// let tx = Transaction::new("GET /cart/:id", trace);
/// let json = serde_json::to_value(&tx).unwrap();
/// assert_eq!(json["type"], "transaction");
/// assert_eq!(json["transaction"], "GET /cart/:id");
/// assert!(tx.trace_context().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "transaction")]
pub struct Transaction {
    /// The event id (required).
    pub event_id: EventId,
    /// The platform; `native` when absent.
    #[serde(default = "crate::event::lenient::default_platform")]
    pub platform: String,
    /// The transaction name, e.g. `GET /cart/:id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// Where the name came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_info: Option<TransactionInfo>,
    /// When the root span started.
    #[serde(with = "crate::timestamp::float")]
    pub start_timestamp: OffsetDateTime,
    /// When the root span finished.
    ///
    /// Written as an RFC 3339 string (start times are float seconds): the server reads both, and
    /// the official Rust SDK's types read only a string here, so this form suits every reader.
    #[serde(with = "crate::timestamp::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// The release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The build variant of the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dist: Option<String>,
    /// The host name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Tags.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub tags: BTreeMap<String, String>,
    /// Arbitrary extra data.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
    /// The user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The HTTP request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// The SDK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<ClientSdkInfo>,
    /// Contexts; `trace` (the root span) is required by the server.
    #[serde(default, skip_serializing_if = "Contexts::is_empty")]
    pub contexts: Contexts,
    /// Breadcrumbs, oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breadcrumbs: Option<Values<Breadcrumb>>,
    /// The finished child spans.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spans: Vec<Span>,
    /// Measurements by name, e.g. `{"ttfb": {"value": 12.0, "unit": "millisecond"}}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measurements: BTreeMap<String, Measurement>,
    /// Annotations about SDK-side modification (e.g. dropped spans).
    #[serde(rename = "_meta", default, skip_serializing_if = "Meta::is_empty")]
    pub meta: Meta,
}

impl Transaction {
    /// A transaction named `name` with `trace` as its root span (`contexts.trace`), a random
    /// id, platform `native`, and both timestamps set to now.
    pub fn new(name: impl Into<String>, trace: TraceContext) -> Self {
        let now = crate::timestamp::now();
        let mut contexts = Contexts::new();
        contexts.insert("trace", trace);
        Transaction {
            event_id: EventId::new(),
            platform: crate::event::lenient::default_platform(),
            transaction: Some(name.into()),
            transaction_info: None,
            start_timestamp: now,
            timestamp: now,
            release: None,
            environment: None,
            dist: None,
            server_name: None,
            tags: BTreeMap::new(),
            extra: Map::new(),
            user: None,
            request: None,
            sdk: None,
            contexts,
            breadcrumbs: None,
            spans: Vec::new(),
            measurements: BTreeMap::new(),
            meta: Meta::new(),
        }
    }

    /// The root span: the typed `trace` context.
    pub fn trace_context(&self) -> Option<&TraceContext> {
        self.contexts.trace()
    }

    /// The transaction name's source, if set.
    pub fn source(&self) -> Option<&TransactionSource> {
        self.transaction_info.as_ref()?.source.as_ref()
    }
}

#[cfg(test)]
#[path = "transaction_tests.rs"]
mod tests;
