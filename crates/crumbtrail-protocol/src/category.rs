//! Data categories: the buckets that rate limits and client reports count in (PROTOCOL.md §6.3).

open_wire_enum! {
    /// A data category, as Relay names it.
    ///
    /// Names crumbtrail does not know are kept as [`DataCategory::Unknown`] so that a
    /// reader loses nothing; rate limits ignore them.
    ///
    /// ```
    /// use crumbtrail_protocol::DataCategory;
    /// assert_eq!("log_item".parse::<DataCategory>().unwrap(), DataCategory::LogItem);
    /// assert_eq!(DataCategory::Error.as_str(), "error");
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum DataCategory {
    /// Uncategorised items and legacy `user_report`s.
    Default => "default",
    /// Error and message events.
    Error => "error",
    /// Transactions.
    Transaction => "transaction",
    /// Security reports (CSP and the like).
    Security => "security",
    /// Attachment bytes.
    Attachment => "attachment",
    /// Attachment items, counted one per item.
    AttachmentItem => "attachment_item",
    /// Session updates and aggregates.
    Session => "session",
    /// Profiles.
    Profile => "profile",
    /// Continuous-profiling chunks.
    ProfileChunk => "profile_chunk",
    /// Session replays.
    Replay => "replay",
    /// Cron monitor check-ins.
    Monitor => "monitor",
    /// Spans (children of transactions and streamed spans).
    Span => "span",
    /// Log records, counted one per record.
    LogItem => "log_item",
    /// Log bytes.
    LogByte => "log_byte",
    /// User feedback.
    Feedback => "feedback",
    /// Trace metrics.
    TraceMetric => "trace_metric",
    /// SDK-internal data such as client reports; never rate limited on its own.
    Internal => "internal",
    /// Trace-metric bytes (client reports only).
    TraceMetricByte => "trace_metric_byte",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_round_trips() {
        for c in DataCategory::KNOWN {
            assert_eq!(&c.as_str().parse::<DataCategory>().unwrap(), c);
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(&serde_json::from_str::<DataCategory>(&json).unwrap(), c);
        }
    }

    #[test]
    fn unknown_names_are_kept() {
        let c: DataCategory = "seer_autofix".parse().unwrap();
        assert_eq!(c, DataCategory::Unknown("seer_autofix".into()));
        assert!(!c.is_known());
        assert_eq!(c.to_string(), "seer_autofix");
    }
}
