//! The typed contexts (PROTOCOL.md §4.8, §4.10). Each keeps keys it does not know in `other`.
//!
//! Do not put a known key (or `type`) into `other`: it would be written twice.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::ids::{EventId, SpanId, TraceId};
use crate::tracing::SpanStatus;

/// The `os` context: the operating system.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OsContext {
    /// E.g. `Linux`, `macOS`, `Windows`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The OS version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The OS build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// The kernel version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_version: Option<String>,
    /// An unparsed description (e.g. `uname -a`) for the server to parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_description: Option<String>,
    /// Keys crumbtrail does not know.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The `runtime` context: the language runtime or compiler.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RuntimeContext {
    /// E.g. `rustc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The runtime version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// An unparsed description for the server to parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_description: Option<String>,
    /// Keys crumbtrail does not know.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The `device` context: the machine.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DeviceContext {
    /// CPU architecture, e.g. `x86_64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Device model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Device family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Total memory in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<u64>,
    /// Number of logical processors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_count: Option<u64>,
    /// When the machine booted. Written as an RFC 3339 string (the server stores a string).
    #[serde(
        default,
        with = "crate::timestamp::option_rfc3339",
        skip_serializing_if = "Option::is_none"
    )]
    pub boot_time: Option<OffsetDateTime>,
    /// Keys crumbtrail does not know.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The `app` context: the application.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AppContext {
    /// When the application started. Written as an RFC 3339 string (the server stores a string).
    #[serde(
        default,
        with = "crate::timestamp::option_rfc3339",
        skip_serializing_if = "Option::is_none"
    )]
    pub app_start_time: Option<OffsetDateTime>,
    /// The application name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// The application version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// The build identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_build: Option<String>,
    /// The bundle or package identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_identifier: Option<String>,
    /// Keys crumbtrail does not know.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The `trace` context: the span the event happened in, or a transaction's root span.
///
/// ```
/// use crumbtrail_protocol::{SpanId, TraceContext, TraceId};
/// let tc = TraceContext::new(TraceId::from_bytes([1; 16]), SpanId::from_bytes([2; 8]));
/// assert_eq!(
///     serde_json::to_string(&tc).unwrap(),
///     r#"{"trace_id":"01010101010101010101010101010101","span_id":"0202020202020202"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceContext {
    /// The trace id (required).
    pub trace_id: TraceId,
    /// The span id (required).
    pub span_id: SpanId,
    /// The parent span's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<SpanId>,
    /// The operation, e.g. `http.server`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// The outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<SpanStatus>,
    /// `manual` or `auto.<category>.<integration>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Human detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Span attributes.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
    /// Keys crumbtrail does not know.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl TraceContext {
    /// A trace context with just the two required ids.
    pub fn new(trace_id: TraceId, span_id: SpanId) -> Self {
        TraceContext {
            trace_id,
            span_id,
            parent_span_id: None,
            op: None,
            status: None,
            origin: None,
            description: None,
            data: Map::new(),
            other: Map::new(),
        }
    }
}

/// The `response` context: the HTTP response to the request in `request`.
///
/// `headers` and `cookies` are read and written like [`crate::Request`]'s.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResponseContext {
    /// The HTTP status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u64>,
    /// Response headers.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::header_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub headers: BTreeMap<String, String>,
    /// The raw `Set-Cookie` values (PII).
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::cookies",
        skip_serializing_if = "Option::is_none"
    )]
    pub cookies: Option<String>,
    /// The body size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_size: Option<u64>,
    /// Keys crumbtrail does not know.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The `feedback` context: user feedback carried by a `feedback` item (§4.10).
///
/// ```
/// use crumbtrail_protocol::FeedbackContext;
/// let f = FeedbackContext::new("Checkout button does nothing");
/// assert_eq!(serde_json::to_string(&f).unwrap(), r#"{"message":"Checkout button does nothing"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackContext {
    /// The feedback text (required, at most 4096 characters).
    pub message: String,
    /// How to reach the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_email: Option<String>,
    /// The user's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The page or screen the feedback was given on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The error event the feedback is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_event_id: Option<EventId>,
    /// Keys crumbtrail does not know.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl FeedbackContext {
    /// Feedback with just a message.
    pub fn new(message: impl Into<String>) -> Self {
        FeedbackContext {
            message: message.into(),
            contact_email: None,
            name: None,
            url: None,
            associated_event_id: None,
            other: Map::new(),
        }
    }
}
