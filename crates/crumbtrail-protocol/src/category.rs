//! Data categories: the buckets that rate limits and client reports count in (PROTOCOL.md §6.3).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! categories {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
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
            $($(#[$doc])* $variant,)*
            /// A name crumbtrail does not know.
            Unknown(String),
        }

        impl DataCategory {
            /// Every known category.
            pub const KNOWN: &'static [DataCategory] = &[$(DataCategory::$variant,)*];

            /// The wire name.
            pub fn as_str(&self) -> &str {
                match self {
                    $(DataCategory::$variant => $name,)*
                    DataCategory::Unknown(s) => s,
                }
            }
        }

        impl FromStr for DataCategory {
            type Err = std::convert::Infallible;

            /// Never fails: unknown names become [`DataCategory::Unknown`].
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(match s {
                    $($name => DataCategory::$variant,)*
                    other => DataCategory::Unknown(other.to_owned()),
                })
            }
        }
    };
}

categories! {
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

impl DataCategory {
    /// Whether this is a name crumbtrail knows.
    pub fn is_known(&self) -> bool {
        !matches!(self, DataCategory::Unknown(_))
    }
}

impl fmt::Display for DataCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DataCategory {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DataCategory {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(s.parse().unwrap_or_else(|never| match never {}))
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
