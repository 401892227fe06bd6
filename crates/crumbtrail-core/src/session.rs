//! Release health in request mode (PROTOCOL.md §8.2, §8.3): one session per unit of work a web
//! integration serves, counted into per-minute buckets that the sender flushes as a `sessions`
//! item every 60 s and when it is flushed or closed.
//!
//! A session is `exited` when its unit of work ends without errors, `errored` when an error was
//! captured in it (or in a task it spawned): an event with an exception, or at level `error` or
//! `fatal` (§8.1; `capture_message` never counts), and `crashed` when an exception was
//! unhandled (a panic). Nothing is recorded without a release.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crumbtrail_protocol::{
    Event, Item, Level, SessionAggregateAttributes, SessionAggregateItem, SessionAggregates,
};

use crate::client::ClientInner;
use crate::hub;

/// How often the sender sends what was counted (PROTOCOL.md §8.3).
pub(crate) const FLUSH_INTERVAL: Duration = Duration::from_secs(60);

/// At most this many buckets per `sessions` item (§8.2); older ones wait for the next.
const MAX_BUCKETS: usize = 100;

/// A client's session counts, per minute the sessions started in.
#[derive(Debug)]
pub(crate) struct Sessions {
    /// `None` without a release: nothing is recorded.
    attrs: Option<SessionAggregateAttributes>,
    /// Unix minute → the bucket of sessions that started in it.
    buckets: Mutex<BTreeMap<i64, SessionAggregateItem>>,
}

impl Sessions {
    pub(crate) fn new(release: Option<&str>, environment: Option<&str>) -> Sessions {
        Sessions {
            attrs: release.map(|release| SessionAggregateAttributes {
                release: release.to_owned(),
                environment: environment.map(str::to_owned),
            }),
            buckets: Mutex::default(),
        }
    }

    /// Whether sessions are recorded at all (a release is set).
    pub(crate) fn enabled(&self) -> bool {
        self.attrs.is_some()
    }

    fn record(&self, session: &SessionState) {
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let bucket = buckets.entry(session.minute).or_insert_with(|| {
            let seconds = u64::try_from(session.minute).unwrap_or(0) * 60;
            SessionAggregateItem::new((UNIX_EPOCH + Duration::from_secs(seconds)).into())
        });
        if session.crashed.load(Ordering::Relaxed) {
            bucket.crashed += 1;
        } else if session.errored.load(Ordering::Relaxed) {
            bucket.errored += 1;
        } else {
            bucket.exited += 1;
        }
    }

    /// What was counted since the last call, as a `sessions` item (the oldest buckets first,
    /// at most 100); `None` when nothing was.
    pub(crate) fn take(&self) -> Option<Item> {
        let attrs = self.attrs.clone()?;
        let aggregates: Vec<SessionAggregateItem> = {
            let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
            let keys: Vec<i64> = buckets.keys().take(MAX_BUCKETS).copied().collect();
            keys.iter().filter_map(|k| buckets.remove(k)).collect()
        };
        if aggregates.is_empty() {
            return None;
        }
        SessionAggregates { attrs, aggregates }.to_item().ok()
    }
}

/// One unit of work's session: shared by the unit of work's forks, so errors captured in the
/// tasks it spawns count too.
#[derive(Debug)]
pub(crate) struct SessionState {
    /// The Unix minute it started in.
    minute: i64,
    errored: AtomicBool,
    crashed: AtomicBool,
}

impl SessionState {
    /// Counts a captured event (not a message): errored when it has an exception or is at
    /// level `error` or `fatal`, crashed when one of its exceptions was not handled.
    pub(crate) fn observe(&self, event: &Event) {
        let exceptions = event
            .exception
            .as_ref()
            .map_or(&[][..], |e| e.values.as_slice());
        if !exceptions.is_empty() || matches!(event.level, Level::Error | Level::Fatal) {
            self.errored.store(true, Ordering::Relaxed);
        }
        let unhandled = exceptions
            .iter()
            .any(|e| e.mechanism.as_ref().and_then(|m| m.handled) == Some(false));
        if unhandled {
            self.crashed.store(true, Ordering::Relaxed);
        }
    }
}

/// A request-mode session in progress: ended, and counted, when dropped.
///
/// Web integrations start one for each request they serve with [`start_request_session`];
/// what the request captures (and the tasks it spawns) decides how it ends.
#[must_use = "the session ends when this is dropped"]
pub struct RequestSession {
    state: Arc<SessionState>,
    client: Arc<ClientInner>,
}

impl std::fmt::Debug for RequestSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestSession")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Drop for RequestSession {
    fn drop(&mut self) {
        self.client.ctx.sessions.record(&self.state);
    }
}

/// Starts a request-mode session for the current unit of work (call it inside the request's
/// isolation scope; the tower layer does). `None` when the SDK is disabled, the client has no
/// release, or `auto_session_tracking` is off.
///
/// ```
/// # async fn run() {
/// crumbtrail_core::run_in_isolation_scope(|_| {}, || async {
///     let _session = crumbtrail_core::start_request_session();
///     // ... serve the request; an error captured here marks the session errored.
/// })
/// .await;
/// # }
/// ```
pub fn start_request_session() -> Option<RequestSession> {
    if !hub::is_active() {
        return None;
    }
    hub::with_hub(|hub| {
        let client = Arc::clone(hub::resolve_client(hub)?);
        if !client.ctx.options.sessions_enabled() {
            return None;
        }
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let state = Arc::new(SessionState {
            minute: i64::try_from(seconds / 60).unwrap_or(0),
            errored: AtomicBool::new(false),
            crashed: AtomicBool::new(false),
        });
        std::sync::Arc::make_mut(hub).session = Some(Arc::clone(&state));
        Some(RequestSession { state, client })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crumbtrail_protocol::{Exception, Mechanism};

    fn state() -> SessionState {
        SessionState {
            minute: 29_000_000,
            errored: AtomicBool::new(false),
            crashed: AtomicBool::new(false),
        }
    }

    fn with_exception(handled: Option<bool>) -> Event {
        let mut exception = Exception::new("E", "boom");
        let mut mechanism = Mechanism::new("generic");
        mechanism.handled = handled;
        exception.mechanism = Some(mechanism);
        let mut event = Event::new();
        event.exception = Some(vec![exception].into());
        event
    }

    #[test]
    fn errors_and_exceptions_count_and_unhandled_ones_crash() {
        let sessions = Sessions::new(Some("shop@1"), Some("prod"));
        let mut warning = Event::new();
        warning.level = Level::Warning;
        warning.message = Some("below error level".into());
        let mut error = Event::new();
        error.level = Level::Error;
        error.message = Some("an error-level event without an exception".into());
        let mut handled_warning = with_exception(Some(true));
        handled_warning.level = Level::Warning;
        let crash = vec![with_exception(None), with_exception(Some(false))];
        for events in [vec![warning], vec![error], vec![handled_warning], crash] {
            let s = state();
            events.iter().for_each(|e| s.observe(e));
            sessions.record(&s);
        }
        let item = sessions.take().expect("counts");
        let agg: SessionAggregates = item.decode_json().unwrap();
        assert_eq!(agg.attrs.release, "shop@1");
        assert_eq!(agg.attrs.environment.as_deref(), Some("prod"));
        assert_eq!(agg.aggregates.len(), 1);
        let b = &agg.aggregates[0];
        assert_eq!((b.exited, b.errored, b.crashed), (1, 2, 1));
        assert_eq!(b.started.unix_timestamp(), 29_000_000 * 60);
        assert!(sessions.take().is_none(), "taken once");
    }

    #[test]
    fn without_a_release_nothing_is_recorded_and_items_hold_at_most_100_buckets() {
        assert!(Sessions::new(None, Some("prod")).take().is_none());
        let sessions = Sessions::new(Some("shop@1"), None);
        for minute in 0..150 {
            let mut s = state();
            s.minute = minute;
            sessions.record(&s);
        }
        let first: SessionAggregates = sessions.take().unwrap().decode_json().unwrap();
        assert_eq!(first.aggregates.len(), 100);
        assert_eq!(first.aggregates[0].started.unix_timestamp(), 0);
        let rest: SessionAggregates = sessions.take().unwrap().decode_json().unwrap();
        assert_eq!(rest.aggregates.len(), 50);
    }
}
