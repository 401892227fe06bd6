//! Item types (PROTOCOL.md §3.4) and the data category each one is counted in (§6.3).

use crate::category::DataCategory;

open_wire_enum! {
    /// The `type` of an envelope item.
    ///
    /// Types crumbtrail does not know are kept as [`ItemType::Unknown`], with their payload
    /// as raw bytes, so a reader loses nothing.
    ///
    /// ```
    /// use crumbtrail_protocol::{DataCategory, ItemType};
    /// let t: ItemType = "check_in".parse().unwrap();
    /// assert_eq!(t, ItemType::CheckIn);
    /// assert_eq!(t.data_category(), Some(DataCategory::Monitor));
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum ItemType {
    /// An error or message event (§4).
    Event => "event",
    /// A transaction (§9.1).
    Transaction => "transaction",
    /// An attachment: raw bytes.
    Attachment => "attachment",
    /// One session update (§8.1).
    Session => "session",
    /// Session aggregates (§8.2).
    Sessions => "sessions",
    /// A client report (§7).
    ClientReport => "client_report",
    /// A container of log records (§10).
    Log => "log",
    /// A cron monitor check-in (§4.9).
    CheckIn => "check_in",
    /// User feedback: an event carrying `contexts.feedback` (§4.10).
    Feedback => "feedback",
    /// Legacy user feedback (§4.10).
    UserReport => "user_report",
    /// A span container (streamed spans).
    Span => "span",
    /// A trace-metric container.
    TraceMetric => "trace_metric",
    /// A profile (out of scope for v1; kept when read).
    Profile => "profile",
    /// A profile chunk (out of scope for v1; kept when read).
    ProfileChunk => "profile_chunk",
    /// A replay event (out of scope for v1; kept when read).
    ReplayEvent => "replay_event",
    /// A replay recording (out of scope for v1; kept when read).
    ReplayRecording => "replay_recording",
    }
}

impl ItemType {
    /// The data category that rate limits of this item type are checked against (§6.3),
    /// or `None` for items that are never limited on their own (client reports).
    ///
    /// Items with several categories (logs: `log_item` and `log_byte`; attachments:
    /// `attachment` and `attachment_item`) return the primary one; see
    /// [`ItemType::rate_limit_categories`] for all of them.
    pub fn data_category(&self) -> Option<DataCategory> {
        Some(match self {
            ItemType::Event => DataCategory::Error,
            ItemType::Transaction => DataCategory::Transaction,
            ItemType::Attachment => DataCategory::Attachment,
            ItemType::Session | ItemType::Sessions => DataCategory::Session,
            ItemType::ClientReport => return None,
            ItemType::Log => DataCategory::LogItem,
            ItemType::CheckIn => DataCategory::Monitor,
            ItemType::Feedback => DataCategory::Feedback,
            ItemType::UserReport => DataCategory::Default,
            ItemType::Span => DataCategory::Span,
            ItemType::TraceMetric => DataCategory::TraceMetric,
            ItemType::Profile => DataCategory::Profile,
            ItemType::ProfileChunk => DataCategory::ProfileChunk,
            ItemType::ReplayEvent | ItemType::ReplayRecording => DataCategory::Replay,
            ItemType::Unknown(_) => DataCategory::Default,
        })
    }

    /// Every category whose rate limit drops this item type (§6.3's table).
    pub fn rate_limit_categories(&self) -> &'static [DataCategory] {
        match self {
            ItemType::Event => &[DataCategory::Error],
            ItemType::Transaction => &[DataCategory::Transaction],
            ItemType::Attachment => &[DataCategory::Attachment, DataCategory::AttachmentItem],
            ItemType::Session | ItemType::Sessions => &[DataCategory::Session],
            ItemType::ClientReport => &[],
            ItemType::Log => &[DataCategory::LogItem, DataCategory::LogByte],
            ItemType::CheckIn => &[DataCategory::Monitor],
            ItemType::Feedback => &[DataCategory::Feedback],
            ItemType::UserReport | ItemType::Unknown(_) => &[DataCategory::Default],
            ItemType::Span => &[DataCategory::Span],
            ItemType::TraceMetric => &[DataCategory::TraceMetric],
            ItemType::Profile => &[DataCategory::Profile],
            ItemType::ProfileChunk => &[DataCategory::ProfileChunk],
            ItemType::ReplayEvent | ItemType::ReplayRecording => &[DataCategory::Replay],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_are_kept() {
        let t: ItemType = serde_json::from_str("\"otel_trace\"").unwrap();
        assert_eq!(t, ItemType::Unknown("otel_trace".into()));
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"otel_trace\"");
        assert_eq!(t.data_category(), Some(DataCategory::Default));
    }

    #[test]
    fn client_reports_are_never_limited() {
        assert_eq!(ItemType::ClientReport.data_category(), None);
        assert!(ItemType::ClientReport.rate_limit_categories().is_empty());
    }
}
