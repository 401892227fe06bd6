//! Panics as fatal events: a panic hook that captures the panic with its stack and the trail of
//! breadcrumbs of the unit of work that panicked, waits (boundedly) for it to be delivered, then
//! hands over to the hook that was installed before.
//!
//! The flush blocks only the panicking thread; crumbtrail's sender runs on a thread of its own,
//! so this cannot deadlock, even on a tokio worker thread or under a `current_thread` runtime.
//!
//! ```
//! crumbtrail_panic::install(); // once, early; later calls do nothing
//! ```
#![forbid(unsafe_code)]

use std::backtrace::Backtrace;
use std::cell::Cell;
use std::panic::PanicHookInfo;
use std::sync::Once;
use std::time::Duration;

use crumbtrail_core::protocol::{Exception, Mechanism};
use crumbtrail_core::{Event, Integration, Level};

/// How long the hook waits for the panic event to be delivered, at most.
pub const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

thread_local! {
    /// Set while this thread runs the hook, so a panic inside it is not captured again.
    static IN_HOOK: Cell<bool> = const { Cell::new(false) };
}

/// Installs the panic hook (once per process; later calls do nothing). It chains to the hook
/// that was installed before, so the usual panic message still prints.
pub fn install() {
    install_with_timeout(DEFAULT_FLUSH_TIMEOUT);
}

/// [`install`] with a different bound on the wait for delivery.
pub fn install_with_timeout(flush_timeout: Duration) {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            report(info, flush_timeout);
            previous(info);
        }));
    });
}

/// Captures a panic and waits up to `flush_timeout` for its delivery. Does nothing when the SDK
/// is disabled, and never panics itself.
///
/// Nor for a panic in the SDK's own work ([`crumbtrail_core::in_sdk_work`]): on the sender's
/// thread (a `before_send` or event processor that panics), or in a hook the SDK calls and
/// guards on any thread (`before_breadcrumb`, a sampler, a tracing handler). The SDK catches
/// those, drops what the hook was for and counts it; reporting them as crashes would mark
/// the session crashed when nothing crashed, block the thread in the flush, and, on the sender
/// thread, wait on the sender itself with an event that panics the same hook again.
pub fn report(info: &PanicHookInfo<'_>, flush_timeout: Duration) {
    if crumbtrail_core::in_sdk_work() || IN_HOOK.with(|f| f.replace(true)) {
        return;
    }
    let _reset = ResetFlag;
    let Some(client) = crumbtrail_core::current_client() else {
        return;
    };
    let captured = crumbtrail_core::capture_event_with_backtrace(
        event_from_panic(info),
        Backtrace::force_capture(),
    );
    if captured.is_some() {
        client.flush_blocking(flush_timeout);
    }
}

struct ResetFlag;

impl Drop for ResetFlag {
    fn drop(&mut self) {
        IN_HOOK.with(|f| f.set(false));
    }
}

/// The event for a panic: level `fatal`, one exception of type `panic` with the panic message,
/// mechanism `auto.panic`, not handled (PROTOCOL.md §4.3).
pub fn event_from_panic(info: &PanicHookInfo<'_>) -> Event {
    let message = panic_message(info);
    let mut exception = Exception::new("panic", message);
    let mut mechanism = Mechanism::new("auto.panic");
    mechanism.handled = Some(false);
    exception.mechanism = Some(mechanism);
    let mut event = Event::new();
    event.level = Level::Fatal;
    event.exception = Some(vec![exception].into());
    if let Some(location) = info.location() {
        event.extra.insert(
            "panic.location".into(),
            format!(
                "{}:{}:{}",
                location.file(),
                location.line(),
                location.column()
            )
            .into(),
        );
    }
    if let Some(name) = std::thread::current().name() {
        event.extra.insert("thread".into(), name.into());
    }
    event
}

/// The panic's message: the `&str` or `String` payload, else a placeholder.
pub fn panic_message(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// The panic integration, for `ClientOptions::integrations`: installs the hook at init.
#[derive(Debug, Clone, Copy, Default)]
pub struct PanicIntegration;

impl Integration for PanicIntegration {
    fn name(&self) -> &'static str {
        "panic"
    }

    fn setup(&self, _options: &mut crumbtrail_core::ClientOptions) {
        install();
    }
}
