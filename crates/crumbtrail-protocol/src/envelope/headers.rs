//! The envelope header line (PROTOCOL.md §3.2).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::event::ClientSdkInfo;
use crate::ids::EventId;
use crate::tracing::DynamicSamplingContext;

/// The envelope's header line. Unknown keys are kept in `other` and written back.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EnvelopeHeaders {
    /// Required when the envelope holds an event, transaction, feedback or user report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// When the envelope was sent. Stamp it once, right before transmission; never persist it.
    #[serde(
        default,
        with = "crate::timestamp::option_rfc3339",
        skip_serializing_if = "Option::is_none"
    )]
    pub sent_at: Option<OffsetDateTime>,
    /// The DSN, for self-authenticating envelopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    /// The sender's SDK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<ClientSdkInfo>,
    /// The dynamic sampling context of the trace the items belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<DynamicSamplingContext>,
    /// Header keys crumbtrail does not know, kept as they were.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
