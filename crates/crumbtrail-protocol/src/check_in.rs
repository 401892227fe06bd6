//! Cron monitor check-ins: the payload of a `check_in` item (PROTOCOL.md §4.9).

use serde::{Deserialize, Serialize};

use crate::ids::{EventId, TraceId};

/// The state a check-in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckInStatus {
    /// The job started; close it with a later check-in carrying the same id.
    InProgress,
    /// The job succeeded.
    Ok,
    /// The job failed.
    Error,
}

/// The unit of an interval schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorIntervalUnit {
    /// Minutes.
    Minute,
    /// Hours.
    Hour,
    /// Days.
    Day,
    /// Weeks.
    Week,
    /// Months.
    Month,
    /// Years.
    Year,
}

/// When a monitored job is expected to run.
///
/// ```
/// use crumbtrail_protocol::{MonitorIntervalUnit, MonitorSchedule};
/// let s: MonitorSchedule =
///     serde_json::from_str(r#"{"type":"interval","value":10,"unit":"minute"}"#).unwrap();
/// assert_eq!(s, MonitorSchedule::Interval { value: 10, unit: MonitorIntervalUnit::Minute });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MonitorSchedule {
    /// A crontab expression, e.g. `0 3 * * *`.
    Crontab {
        /// The expression.
        value: String,
    },
    /// Every `value` `unit`s.
    Interval {
        /// How many units between runs.
        value: u64,
        /// The unit.
        unit: MonitorIntervalUnit,
    },
}

/// A monitor's configuration, sent with a check-in to create or update the monitor
/// ("upsert").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorConfig {
    /// When the job runs.
    pub schedule: MonitorSchedule,
    /// Minutes after the expected time before a check-in counts as missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkin_margin: Option<u64>,
    /// Minutes an `in_progress` check-in may run before it counts as timed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime: Option<u64>,
    /// The schedule's time zone (tz database name, e.g. `UTC`, `Europe/Vienna`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Consecutive failed check-ins before an issue is opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_issue_threshold: Option<u64>,
    /// Consecutive successful check-ins before the issue is resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_threshold: Option<u64>,
}

impl MonitorConfig {
    /// A configuration with just a schedule.
    pub fn new(schedule: MonitorSchedule) -> Self {
        MonitorConfig {
            schedule,
            checkin_margin: None,
            max_runtime: None,
            timezone: None,
            failure_issue_threshold: None,
            recovery_threshold: None,
        }
    }
}

/// The trace a check-in belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CheckInTraceContext {
    /// The trace id.
    pub trace_id: TraceId,
}

/// The `contexts` of a check-in: only the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct CheckInContexts {
    /// The trace the job ran in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<CheckInTraceContext>,
}

/// A cron monitor check-in. Check-ins are never sampled.
///
/// ```
/// use crumbtrail_protocol::{CheckIn, CheckInStatus};
/// let start = CheckIn::new("nightly-import", CheckInStatus::InProgress);
/// // ... the job runs ...
/// let mut done = CheckIn::new("nightly-import", CheckInStatus::Ok);
/// done.check_in_id = start.check_in_id; // closes the in-progress check-in
/// done.duration = Some(12.5);
/// let json = serde_json::to_value(&done).unwrap();
/// assert_eq!(json["status"], "ok");
/// assert_eq!(json["check_in_id"], start.check_in_id.to_string());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckIn {
    /// The check-in's id; repeat it to close an `in_progress` check-in.
    pub check_in_id: EventId,
    /// The monitor's slug.
    pub monitor_slug: String,
    /// The reported state.
    pub status: CheckInStatus,
    /// The job's duration in seconds (when closing a check-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// The environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The monitor's configuration, to create or update it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_config: Option<MonitorConfig>,
    /// The trace the job ran in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contexts: Option<CheckInContexts>,
}

impl CheckIn {
    /// A check-in with a new random id.
    pub fn new(monitor_slug: impl Into<String>, status: CheckInStatus) -> Self {
        CheckIn {
            check_in_id: EventId::new(),
            monitor_slug: monitor_slug.into(),
            status,
            duration: None,
            environment: None,
            release: None,
            monitor_config: None,
            contexts: None,
        }
    }

    /// Attaches the trace the job ran in (`contexts.trace.trace_id`).
    pub fn set_trace_id(&mut self, trace_id: TraceId) {
        self.contexts = Some(CheckInContexts {
            trace: Some(CheckInTraceContext { trace_id }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn golden_protocol_example() {
        let example = r#"{"check_in_id":"9b2a4c6e8f0a4b1c8d2e4f6a8b0c2d4e","monitor_slug":"nightly-import",
 "status":"ok","duration":12.5,"environment":"production","release":"shop@1.4.2",
 "monitor_config":{"schedule":{"type":"crontab","value":"0 3 * * *"},
   "checkin_margin":5,"max_runtime":30,"timezone":"UTC"},
 "contexts":{"trace":{"trace_id":"4c79f60c11214eb38604f4ae0781bfb2"}}}"#;
        let c: CheckIn = serde_json::from_str(example).unwrap();
        assert_eq!(
            c.check_in_id.to_string(),
            "9b2a4c6e8f0a4b1c8d2e4f6a8b0c2d4e"
        );
        assert_eq!(c.monitor_slug, "nightly-import");
        assert_eq!(c.status, CheckInStatus::Ok);
        assert_eq!(c.duration, Some(12.5));
        let config = c.monitor_config.as_ref().unwrap();
        assert_eq!(
            config.schedule,
            MonitorSchedule::Crontab {
                value: "0 3 * * *".into()
            }
        );
        assert_eq!(
            (config.checkin_margin, config.max_runtime),
            (Some(5), Some(30))
        );
        assert_eq!(config.timezone.as_deref(), Some("UTC"));
        let trace = c.contexts.unwrap().trace.unwrap();
        assert_eq!(
            trace.trace_id.to_string(),
            "4c79f60c11214eb38604f4ae0781bfb2"
        );
        let written = serde_json::to_value(&c).unwrap();
        assert_eq!(written, serde_json::from_str::<Value>(example).unwrap());
    }

    #[test]
    fn interval_schedule_and_thresholds_round_trip() {
        let mut config = MonitorConfig::new(MonitorSchedule::Interval {
            value: 10,
            unit: MonitorIntervalUnit::Minute,
        });
        config.failure_issue_threshold = Some(2);
        config.recovery_threshold = Some(3);
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(
            json,
            json!({"schedule":{"type":"interval","value":10,"unit":"minute"},
                   "failure_issue_threshold":2,"recovery_threshold":3})
        );
        assert_eq!(
            serde_json::from_value::<MonitorConfig>(json).unwrap(),
            config
        );
        for (unit, name) in [
            (MonitorIntervalUnit::Hour, "hour"),
            (MonitorIntervalUnit::Day, "day"),
            (MonitorIntervalUnit::Week, "week"),
            (MonitorIntervalUnit::Month, "month"),
            (MonitorIntervalUnit::Year, "year"),
        ] {
            assert_eq!(serde_json::to_value(unit).unwrap(), name);
        }
        let bad = r#"{"type":"interval","value":1,"unit":"fortnight"}"#;
        assert!(serde_json::from_str::<MonitorSchedule>(bad).is_err());
    }

    #[test]
    fn minimal_check_in_round_trips() {
        let mut c = CheckIn::new("backup", CheckInStatus::InProgress);
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(
            json,
            json!({"check_in_id": c.check_in_id.to_string(), "monitor_slug": "backup",
                   "status": "in_progress"})
        );
        c.set_trace_id("4c79f60c11214eb38604f4ae0781bfb2".parse().unwrap());
        c.status = CheckInStatus::Error;
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["status"], "error");
        assert_eq!(
            json["contexts"]["trace"]["trace_id"],
            "4c79f60c11214eb38604f4ae0781bfb2"
        );
        assert_eq!(serde_json::from_value::<CheckIn>(json).unwrap(), c);
        assert!(serde_json::from_str::<CheckIn>(r#"{"monitor_slug":"x","status":"ok"}"#).is_err());
        assert!(
            serde_json::from_value::<CheckIn>(json!({"check_in_id": c.check_in_id,
                "monitor_slug": "x", "status": "done"}))
            .is_err()
        );
    }
}
