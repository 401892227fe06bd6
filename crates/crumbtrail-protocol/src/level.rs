//! Severity levels of events and breadcrumbs.

use std::str::FromStr;

/// The severity of an event or breadcrumb.
///
/// crumbtrail writes only the five canonical names. Reading is lenient, as the server is:
/// `critical` → `fatal`, `warn` → `warning`, `log` → `info`, `trace` → `debug`, any case.
///
/// ```
/// use crumbtrail_protocol::Level;
/// assert_eq!("WARN".parse::<Level>().unwrap(), Level::Warning);
/// assert_eq!(Level::Warning.to_string(), "warning");
/// assert!(Level::Error > Level::Warning);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Debug output.
    Debug,
    /// Informational (the breadcrumb default).
    Info,
    /// A warning.
    Warning,
    /// An error (the event default).
    Error,
    /// A fatal error: a crash.
    Fatal,
}

impl Level {
    /// The canonical wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }
}

/// A level name that none of the accepted spellings matches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown level {0:?}: expected one of fatal, error, warning, info, debug")]
pub struct UnknownLevel(pub String);

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, UnknownLevel> {
        let level = match s.to_ascii_lowercase().as_str() {
            "fatal" | "critical" => Level::Fatal,
            "error" => Level::Error,
            "warning" | "warn" => Level::Warning,
            "info" | "log" => Level::Info,
            "debug" | "trace" => Level::Debug,
            _ => return Err(UnknownLevel(s.to_owned())),
        };
        Ok(level)
    }
}

serde_via_str!(Level);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_non_standard_names() {
        for (input, want) in [
            ("critical", Level::Fatal),
            ("Fatal", Level::Fatal),
            ("warn", Level::Warning),
            ("log", Level::Info),
            ("trace", Level::Debug),
            ("ERROR", Level::Error),
        ] {
            assert_eq!(input.parse::<Level>().unwrap(), want, "{input}");
        }
        let err = "verbose".parse::<Level>().unwrap_err();
        assert!(err.to_string().contains("\"verbose\""));
    }

    #[test]
    fn writes_only_canonical_names() {
        let l: Level = serde_json::from_str("\"warn\"").unwrap();
        assert_eq!(serde_json::to_string(&l).unwrap(), "\"warning\"");
    }
}
