//! The level of a log record (PROTOCOL.md §10.2), with its OpenTelemetry severity numbers.

use std::str::FromStr;

/// The level of a structured log record.
///
/// Unlike event levels, logs write `warn` (not `warning`) and have a `trace` level. Reading
/// is lenient, in any case: `warning` → `warn`, `critical` → `fatal`, `err` → `error`.
///
/// ```
/// use crumbtrail_protocol::LogLevel;
/// assert_eq!(LogLevel::Warn.as_str(), "warn");
/// assert_eq!(LogLevel::Warn.severity_number(), 13);
/// assert_eq!(LogLevel::from_severity_number(15), Some(LogLevel::Warn));
/// assert_eq!("WARNING".parse::<LogLevel>().unwrap(), LogLevel::Warn);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogLevel {
    /// Very fine-grained tracing output (severity 1–4).
    Trace,
    /// Debug output (severity 5–8).
    Debug,
    /// Informational (severity 9–12).
    Info,
    /// A warning (severity 13–16).
    Warn,
    /// An error (severity 17–20).
    Error,
    /// A fatal error (severity 21–24).
    Fatal,
}

impl LogLevel {
    /// Every level, lowest first.
    pub const ALL: [LogLevel; 6] = [
        LogLevel::Trace,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
        LogLevel::Fatal,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Fatal => "fatal",
        }
    }

    /// The lowest OpenTelemetry severity number of this level's range (1, 5, 9, 13, 17, 21),
    /// which is what the SDK writes.
    pub const fn severity_number(self) -> u8 {
        match self {
            LogLevel::Trace => 1,
            LogLevel::Debug => 5,
            LogLevel::Info => 9,
            LogLevel::Warn => 13,
            LogLevel::Error => 17,
            LogLevel::Fatal => 21,
        }
    }

    /// The level whose OpenTelemetry range (1–4, 5–8, ..., 21–24) holds `number`; `None`
    /// outside 1–24.
    pub const fn from_severity_number(number: u8) -> Option<LogLevel> {
        Some(match number {
            1..=4 => LogLevel::Trace,
            5..=8 => LogLevel::Debug,
            9..=12 => LogLevel::Info,
            13..=16 => LogLevel::Warn,
            17..=20 => LogLevel::Error,
            21..=24 => LogLevel::Fatal,
            _ => return None,
        })
    }
}

/// A log level name that none of the accepted spellings matches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log level {0:?}: expected one of trace, debug, info, warn, error, fatal")]
pub struct UnknownLogLevel(pub String);

impl FromStr for LogLevel {
    type Err = UnknownLogLevel;

    fn from_str(s: &str) -> Result<Self, UnknownLogLevel> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "trace" => LogLevel::Trace,
            "debug" => LogLevel::Debug,
            "info" | "log" => LogLevel::Info,
            "warn" | "warning" => LogLevel::Warn,
            "error" | "err" => LogLevel::Error,
            "fatal" | "critical" => LogLevel::Fatal,
            _ => return Err(UnknownLogLevel(s.to_owned())),
        })
    }
}

serde_via_str!(LogLevel);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_numbers_are_the_lowest_of_each_range() {
        let numbers: Vec<u8> = LogLevel::ALL.iter().map(|l| l.severity_number()).collect();
        assert_eq!(numbers, [1, 5, 9, 13, 17, 21]);
        for level in LogLevel::ALL {
            let low = level.severity_number();
            for n in low..low + 4 {
                assert_eq!(LogLevel::from_severity_number(n), Some(level), "{n}");
            }
        }
        assert_eq!(LogLevel::from_severity_number(0), None);
        assert_eq!(LogLevel::from_severity_number(25), None);
        assert_eq!(LogLevel::from_severity_number(255), None);
    }

    #[test]
    fn writes_warn_and_reads_aliases() {
        let l: LogLevel = serde_json::from_str("\"Warning\"").unwrap();
        assert_eq!(serde_json::to_string(&l).unwrap(), "\"warn\"");
        assert_eq!("critical".parse::<LogLevel>().unwrap(), LogLevel::Fatal);
        for level in LogLevel::ALL {
            assert_eq!(level.as_str().parse::<LogLevel>().unwrap(), level);
        }
        let err = serde_json::from_str::<LogLevel>("\"verbose\"").unwrap_err();
        assert!(err.to_string().contains("unknown log level \"verbose\""));
        assert!(LogLevel::Trace < LogLevel::Fatal);
    }
}
