//! Fault injection: making the ingest endpoints misbehave on purpose, so tests can see how an
//! SDK copes with errors, rate limits, slow or silent servers and dropped connections.
//!
//! A [`Fault`] applies to the ingest endpoints only (`/api/{project}/envelope/` and
//! `/store/`); the JSON API and the web view always answer normally. Every ingest request is
//! counted, faulted or not ([`DevServer::requests`](crate::DevServer::requests)). The request
//! body is always read in full before the fault acts, so the client is waiting for its response
//! when it happens.
//!
//! As JSON (for `PUT /api/0/fault`) a fault is an object with a `mode` and, optionally,
//! `times` (apply to the next N ingest requests, then recover):
//!
//! ```json
//! {"mode": "status", "status": 503}
//! {"mode": "status", "status": 429, "rate_limits": "60:error:organization", "retry_after": "60"}
//! {"mode": "status", "status": 200, "rate_limits": "60:transaction:key"}
//! {"mode": "delay", "delay_ms": 1500}
//! {"mode": "hang"}
//! {"mode": "reset", "times": 2}
//! ```

use std::time::Duration;

use http::HeaderValue;
use serde::{Deserialize, Serialize};

/// Longest delay a fault may ask for.
pub const MAX_FAULT_DELAY: Duration = Duration::from_secs(600);

/// What the server does to a faulted ingest request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum FaultMode {
    /// Answer with `status` and the optional `X-Sentry-Rate-Limits` and `Retry-After` headers.
    ///
    /// A non-2xx status rejects the request: nothing is stored, and the body is
    /// `{"detail": "fault injected by the devserver: ..."}`. A 2xx status handles the request
    /// normally (the envelope is validated and stored) and adds the headers to the answer.
    Status {
        /// The HTTP status, 200 to 599.
        status: u16,
        /// The `X-Sentry-Rate-Limits` header value, sent as given (it may be malformed on
        /// purpose).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rate_limits: Option<String>,
        /// The `Retry-After` header value (seconds or an HTTP date), sent as given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<String>,
    },
    /// Wait `delay_ms` milliseconds, then handle the request normally.
    Delay {
        /// The delay in milliseconds (at most [`MAX_FAULT_DELAY`]).
        delay_ms: u64,
    },
    /// Never answer: hold the connection open until the client gives up or the server shuts
    /// down. Nothing is stored.
    Hang,
    /// Reset the TCP connection (`SO_LINGER` 0, then close) without any HTTP response: the
    /// client sees a connection error. Nothing is stored.
    Reset,
}

/// A fault to inject, and for how many requests.
///
/// ```
/// use std::time::Duration;
/// use crumbtrail_devserver::{Fault, FaultMode};
///
/// let fault = Fault::status(503).times(2);
/// assert_eq!(fault.times, Some(2));
///
/// let limited = Fault::status(429).with_rate_limits("60:error:organization").with_retry_after(60);
/// let json = serde_json::to_string(&limited).unwrap();
/// assert_eq!(
///     json,
///     r#"{"mode":"status","status":429,"rate_limits":"60:error:organization","retry_after":"60"}"#
/// );
/// assert_eq!(serde_json::from_str::<Fault>(&json).unwrap(), limited);
///
/// assert_eq!(Fault::delay(Duration::from_millis(50)).mode, FaultMode::Delay { delay_ms: 50 });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// What to do.
    #[serde(flatten)]
    pub mode: FaultMode,
    /// Apply to this many ingest requests, then clear itself; `None` until cleared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

impl Fault {
    /// A fault with the given mode, until cleared.
    pub fn new(mode: FaultMode) -> Self {
        Fault { mode, times: None }
    }

    /// Answer with `status` (no extra headers).
    pub fn status(status: u16) -> Self {
        Fault::new(FaultMode::Status {
            status,
            rate_limits: None,
            retry_after: None,
        })
    }

    /// Answer after `delay`, otherwise normally.
    pub fn delay(delay: Duration) -> Self {
        let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        Fault::new(FaultMode::Delay { delay_ms })
    }

    /// Never answer.
    pub fn hang() -> Self {
        Fault::new(FaultMode::Hang)
    }

    /// Reset the connection.
    pub fn reset() -> Self {
        Fault::new(FaultMode::Reset)
    }

    /// Adds an `X-Sentry-Rate-Limits` header (only meaningful on a `status` fault; other
    /// modes are returned unchanged).
    pub fn with_rate_limits(mut self, value: impl Into<String>) -> Self {
        if let FaultMode::Status { rate_limits, .. } = &mut self.mode {
            *rate_limits = Some(value.into());
        }
        self
    }

    /// Adds a `Retry-After: <seconds>` header (only meaningful on a `status` fault).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        if let FaultMode::Status { retry_after, .. } = &mut self.mode {
            *retry_after = Some(seconds.to_string());
        }
        self
    }

    /// Applies to the next `n` ingest requests only, then the server recovers.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Checks the fault can be acted out; the error says what is wrong.
    pub fn validate(&self) -> Result<(), InvalidFault> {
        let bad = |msg: String| Err(InvalidFault(msg));
        if self.times == Some(0) {
            return bad("`times` must be at least 1 (leave it out for \"until cleared\")".into());
        }
        match &self.mode {
            FaultMode::Status {
                status,
                rate_limits,
                retry_after,
            } => {
                if !(200..=599).contains(status) {
                    return bad(format!("status {status} must be between 200 and 599"));
                }
                for (name, value) in [("rate_limits", rate_limits), ("retry_after", retry_after)] {
                    if let Some(v) = value
                        && HeaderValue::from_str(v).is_err()
                    {
                        return bad(format!(
                            "`{name}` {v:?} is not a valid HTTP header value (no control characters)"
                        ));
                    }
                }
            }
            FaultMode::Delay { delay_ms } => {
                if Duration::from_millis(*delay_ms) > MAX_FAULT_DELAY {
                    return bad(format!(
                        "delay_ms {delay_ms} is over the maximum of {} ms",
                        MAX_FAULT_DELAY.as_millis()
                    ));
                }
            }
            FaultMode::Hang | FaultMode::Reset => {}
        }
        Ok(())
    }
}

/// Why a [`Fault`] was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidFault(pub String);

impl std::fmt::Display for InvalidFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid fault: {}", self.0)
    }
}

impl std::error::Error for InvalidFault {}

/// The fault currently set, consumed one request at a time.
#[derive(Debug, Default)]
pub(crate) struct FaultSlot {
    current: Option<Fault>,
}

impl FaultSlot {
    pub(crate) fn set(&mut self, fault: Option<Fault>) {
        self.current = fault;
    }

    pub(crate) fn get(&self) -> Option<Fault> {
        self.current.clone()
    }

    /// The mode to apply to the request arriving now; counts down `times` and clears the
    /// fault when it reaches zero.
    pub(crate) fn take(&mut self) -> Option<FaultMode> {
        let fault = self.current.as_mut()?;
        let mode = fault.mode.clone();
        if let Some(n) = &mut fault.times {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.current = None;
            }
        }
        Some(mode)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_counts_down_then_recovers() {
        let mut slot = FaultSlot::default();
        slot.set(Some(Fault::status(500).times(2)));
        assert!(slot.take().is_some());
        assert_eq!(slot.get().unwrap().times, Some(1));
        assert!(slot.take().is_some());
        assert!(slot.take().is_none());
        assert!(slot.get().is_none());
    }

    #[test]
    fn without_times_the_fault_stays() {
        let mut slot = FaultSlot::default();
        slot.set(Some(Fault::reset()));
        for _ in 0..5 {
            assert_eq!(slot.take(), Some(FaultMode::Reset));
        }
    }

    #[test]
    fn validation_explains_what_is_wrong() {
        let cases = [
            (Fault::status(99), "between 200 and 599"),
            (Fault::status(600), "between 200 and 599"),
            (
                Fault::status(429).with_rate_limits("60\n:x"),
                "header value",
            ),
            (Fault::hang().times(0), "at least 1"),
            (Fault::delay(Duration::from_secs(3600)), "maximum"),
        ];
        for (fault, needle) in cases {
            let err = fault.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
        assert!(
            Fault::status(200)
                .with_rate_limits("60::organization")
                .validate()
                .is_ok()
        );
    }

    #[test]
    fn json_forms_read_back() {
        let f: Fault = serde_json::from_str(r#"{"mode":"reset","times":3}"#).unwrap();
        assert_eq!(f, Fault::reset().times(3));
        let f: Fault = serde_json::from_str(r#"{"mode":"hang"}"#).unwrap();
        assert_eq!(f, Fault::hang());
        assert!(serde_json::from_str::<Fault>(r#"{"mode":"explode"}"#).is_err());
        assert!(serde_json::from_str::<Fault>(r#"{"mode":"status"}"#).is_err());
    }
}
