//! A finished child span of a transaction (PROTOCOL.md §9.2).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::ids::{SpanId, TraceId};
use crate::tracing::SpanStatus;

/// One span: a timed operation inside a trace.
///
/// ```
/// use crumbtrail_protocol::{Span, SpanId, TraceId};
/// let span = Span::new(TraceId::random(), SpanId::random(), "db.sql.query");
/// assert_eq!(span.op.as_deref(), Some("db.sql.query"));
/// assert!(span.timestamp.is_none()); // not finished yet
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// The trace this span belongs to.
    pub trace_id: TraceId,
    /// This span's id.
    pub span_id: SpanId,
    /// The parent span's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<SpanId>,
    /// The operation category, e.g. `http.client`, `db.sql.query`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// Human detail: a URL, a query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The outcome; omitted when fine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SpanStatus>,
    /// When the span started.
    #[serde(with = "crate::timestamp::float")]
    pub start_timestamp: OffsetDateTime,
    /// When the span finished; `None` while it runs (unfinished spans are not sent).
    ///
    /// Written as an RFC 3339 string (start times are float seconds): the server reads both, and
    /// the official Rust SDK's types read only a string here, so this form suits every reader.
    #[serde(
        default,
        with = "crate::timestamp::option_rfc3339",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<OffsetDateTime>,
    /// `manual` or `auto.<category>.<integration>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Attributes, e.g. `http.response.status_code`, `db.system`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
    /// Tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
}

impl Span {
    /// A span that starts now.
    pub fn new(trace_id: TraceId, span_id: SpanId, op: impl Into<String>) -> Self {
        Span {
            trace_id,
            span_id,
            parent_span_id: None,
            op: Some(op.into()),
            description: None,
            status: None,
            start_timestamp: crate::timestamp::now(),
            timestamp: None,
            origin: None,
            data: Map::new(),
            tags: BTreeMap::new(),
        }
    }

    /// Whether the span has finished.
    pub fn is_finished(&self) -> bool {
        self.timestamp.is_some()
    }
}
