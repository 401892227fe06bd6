//! The caller's side of a capture: decide, snapshot, enqueue — microseconds, never I/O.
//!
//! Everything else (scope application, processors, hooks, scrubbing, serialization) happens
//! on the background sender, from the snapshot taken here.

use std::backtrace::Backtrace;
use std::error::Error;
use std::sync::Arc;

use crumbtrail_protocol::{DataCategory, DiscardReason, Event, EventId, Exception, Level};

use crate::client::ClientInner;
use crate::delivery::Receipt;
use crate::hint::EventHint;
use crate::hub::{self, Hub};
use crate::scope::Scope;
use crate::worker::Work;

/// A capture on its way to the sender: the bare event plus the scopes it was captured in.
pub(crate) struct PendingCapture {
    pub(crate) event: Event,
    pub(crate) hint: EventHint,
    pub(crate) hub: Arc<Hub>,
    pub(crate) global: Option<Arc<Scope>>,
    /// The caller's stack, captured unresolved (`attach_stacktrace`).
    pub(crate) backtrace: Option<Backtrace>,
    /// Where the outcome goes, for a tracked capture.
    pub(crate) receipt: Option<Receipt>,
}

/// Captures an event and returns its id at once (`None` when nothing will be sent: the SDK is
/// disabled or closed, the event was sampled out, or the queue is full).
///
/// The event goes through the scope, the processors and `before_send` on the background
/// sender; if one of those drops it, that is counted in the next client report.
///
/// ```
/// use crumbtrail_core::{Event, Level};
/// let mut event = Event::new();
/// event.level = Level::Warning;
/// event.message = Some("disk almost full".into());
/// crumbtrail_core::capture_event(event); // None: no client in this doctest
/// ```
pub fn capture_event(event: Event) -> Option<EventId> {
    capture_event_with_hint(event, EventHint::default())
}

/// [`capture_event`] with a hint for `before_send` and the processors.
pub fn capture_event_with_hint(event: Event, hint: EventHint) -> Option<EventId> {
    capture_full(event, hint, None, None)
}

/// [`capture_event`] with a stack the caller captured (unresolved: `Backtrace::force_capture`
/// only walks the stack). Symbols are resolved on the background sender; the frames go on the
/// newest exception, or on the current thread when the event has none. The panic handler uses
/// this.
pub fn capture_event_with_backtrace(event: Event, backtrace: Backtrace) -> Option<EventId> {
    capture_full(event, EventHint::default(), Some(backtrace), None)
}

/// Captures through the current unit of work's client, with an optional stack and delivery
/// receipt.
pub(crate) fn capture_full(
    event: Event,
    hint: EventHint,
    backtrace: Option<Backtrace>,
    receipt: Option<Receipt>,
) -> Option<EventId> {
    capture_in_hub(event, hint, backtrace, receipt, Origin::Event)
}

/// What a capture came from: release health counts events, never messages (PROTOCOL.md §8.1).
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Origin {
    Event,
    Message,
}

fn capture_in_hub(
    event: Event,
    hint: EventHint,
    backtrace: Option<Backtrace>,
    receipt: Option<Receipt>,
    origin: Origin,
) -> Option<EventId> {
    if !hub::is_active() {
        return None;
    }
    hub::with_hub(|hub| {
        let client = Arc::clone(hub::resolve_client(hub)?);
        if origin == Origin::Event {
            // Counted whether or not the event is sampled, as Sentry's SDKs do.
            if let Some(session) = &hub.session {
                session.observe(&event);
            }
        }
        capture_with(&client, event, hint, Arc::clone(hub), backtrace, receipt)
    })
}

/// Captures a message at a level.
///
/// ```
/// crumbtrail_core::capture_message("cache is cold", crumbtrail_core::Level::Info);
/// ```
pub fn capture_message(message: &str, level: Level) -> Option<EventId> {
    if !hub::is_active() {
        return None;
    }
    let mut event = Event::new();
    event.level = level;
    event.message = Some(message.to_owned());
    capture_in_hub(event, EventHint::default(), None, None, Origin::Message)
}

/// Captures an error with its whole `source()` chain as a list of exceptions, oldest first.
///
/// ```
/// let err = std::io::Error::other("disk on fire");
/// crumbtrail_core::capture_error(&err);
/// ```
pub fn capture_error<E: Error + ?Sized>(error: &E) -> Option<EventId> {
    if !hub::is_active() {
        return None;
    }
    let event = event_from_error(error);
    let hint = EventHint {
        error_type: Some(std::any::type_name::<E>()),
        data: None,
    };
    capture_event_with_hint(event, hint)
}

/// Captures an `anyhow::Error` with its whole chain (contexts and causes), oldest first
/// (feature `anyhow`).
///
/// ```
/// let err = anyhow::anyhow!("disk on fire").context("saving the cart");
/// crumbtrail_core::capture_anyhow(&err);
/// ```
#[cfg(feature = "anyhow")]
pub fn capture_anyhow(error: &anyhow::Error) -> Option<EventId> {
    if !hub::is_active() {
        return None;
    }
    let mut newest_first: Vec<Exception> = error.chain().map(source_exception).collect();
    newest_first.truncate(32);
    if let Some(top) = newest_first.first_mut() {
        if top.ty.as_deref().is_none_or(|t| t == "Error") {
            top.ty = Some("anyhow::Error".to_owned());
        }
    }
    let mut values = Exception::chain(newest_first);
    if let Some(top) = values.last_mut().and_then(|e| e.mechanism.as_mut()) {
        top.handled = Some(true);
    }
    let mut event = Event::new();
    event.exception = Some(values.into());
    capture_event_with_hint(
        event,
        EventHint {
            error_type: Some("anyhow::Error"),
            data: None,
        },
    )
}

/// The event for an error: one exception per link of the `source()` chain, oldest first, with
/// the mechanism ids of a chain (PROTOCOL.md §4.3). The outermost error is `handled`, with
/// mechanism `generic`.
pub fn event_from_error<E: Error + ?Sized>(error: &E) -> Event {
    let mut newest_first = vec![exception_for(error, Some(std::any::type_name::<E>()))];
    let mut source = error.source();
    while let Some(err) = source {
        newest_first.push(source_exception(err));
        source = err.source();
        if newest_first.len() >= 32 {
            break; // a cycle or an absurd chain
        }
    }
    let mut values = Exception::chain(newest_first);
    if let Some(top) = values.last_mut().and_then(|e| e.mechanism.as_mut()) {
        top.handled = Some(true);
    }
    let mut event = Event::new();
    event.level = Level::Error;
    event.exception = Some(values.into());
    event
}

fn exception_for<E: Error + ?Sized>(err: &E, type_name: Option<&str>) -> Exception {
    let ty = type_name
        .map(short_type_name)
        .unwrap_or_else(|| debug_type_name(err));
    Exception::new(ty, err.to_string())
}

/// A source error's type name: known standard types by downcasting, else a guess.
fn source_exception(err: &(dyn Error + 'static)) -> Exception {
    macro_rules! known {
        ($($ty:ty),*) => {
            $(if err.is::<$ty>() {
                return exception_for(err, Some(std::any::type_name::<$ty>()));
            })*
        };
    }
    known!(
        std::io::Error,
        std::fmt::Error,
        std::num::ParseIntError,
        std::num::ParseFloatError,
        std::num::TryFromIntError,
        std::str::Utf8Error,
        std::string::FromUtf8Error,
        std::net::AddrParseError,
        std::time::SystemTimeError,
        serde_json::Error
    );
    exception_for(err, None)
}

/// `std::io::error::Error` → `std::io::Error`-ish: the path without private module names is
/// not knowable, so keep the full path but drop generic arguments.
fn short_type_name(name: &str) -> String {
    name.split('<').next().unwrap_or(name).to_owned()
}

/// The best type name for a source error seen only as `dyn Error`: the head of its `Debug`
/// output (`Custom { .. }` → `Custom`, `ParseIntError { .. }` → `ParseIntError`).
fn debug_type_name<E: Error + ?Sized>(err: &E) -> String {
    let debug = format!("{err:?}");
    let head: String = debug
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    if head.is_empty() || head.chars().next().is_some_and(|c| c.is_lowercase()) {
        "Error".to_owned()
    } else {
        head
    }
}

/// The id of the last event captured through the current client.
pub fn last_event_id() -> Option<EventId> {
    if !hub::is_active() {
        return None;
    }
    hub::with_hub(|hub| {
        let client = hub::resolve_client(hub)?;
        *client
            .last_event_id
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    })
}

/// Samples, snapshots and enqueues one event.
pub(crate) fn capture_with(
    client: &ClientInner,
    mut event: Event,
    hint: EventHint,
    hub: Arc<Hub>,
    backtrace: Option<Backtrace>,
    receipt: Option<Receipt>,
) -> Option<EventId> {
    let options = &client.ctx.options;
    let rate = match &options.error_sampler {
        Some(sampler) => crate::sdk_work(|| sampler(&event, &hint)).unwrap_or(0.0),
        None => options.sample_rate,
    };
    if !(rate >= 1.0 || (rate > 0.0 && fastrand::f64() < rate)) {
        client
            .ctx
            .discards
            .record(DiscardReason::SampleRate, DataCategory::Error, 1);
        return None;
    }
    if event.event_id.is_nil() {
        event.event_id = EventId::new();
    }
    let id = event.event_id;
    let backtrace = backtrace.or_else(|| {
        (options.attach_stacktrace && event.exception.is_none()).then(Backtrace::force_capture)
    });
    let pending = PendingCapture {
        event,
        hint,
        hub,
        global: hub::global_scope(),
        backtrace,
        receipt,
    };
    if client.enqueue(Work::Capture(Box::new(pending))) {
        client.set_last_event_id(id);
        Some(id)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("checkout failed")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn error_chains_become_exceptions_oldest_first() {
        let err = Outer(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "reset by peer",
        ));
        let event = event_from_error(&err);
        let values = &event.exception.unwrap().values;
        assert_eq!(values.len(), 2);
        assert_eq!(values[0].value.as_deref(), Some("reset by peer"));
        assert_eq!(values[0].ty.as_deref(), Some("std::io::error::Error"));
        assert_eq!(values[1].value.as_deref(), Some("checkout failed"));
        assert!(values[1].ty.as_deref().unwrap().ends_with("Outer"));
        let top = values[1].mechanism.as_ref().unwrap();
        assert_eq!((top.exception_id, top.handled), (Some(0), Some(true)));
        let cause = values[0].mechanism.as_ref().unwrap();
        assert_eq!((cause.exception_id, cause.parent_id), (Some(1), Some(0)));
        assert_eq!(cause.source.as_deref(), Some("source"));
    }
}
