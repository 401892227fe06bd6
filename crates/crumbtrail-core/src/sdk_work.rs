//! Whether a thread is doing the SDK's own work: the sender's threads always, any other thread
//! while it runs code the SDK calls on the user's behalf and guards (`before_breadcrumb`,
//! samplers, a tracing handler, a log line's formatting).
//!
//! Integrations record nothing there and the panic hook reports nothing there. Otherwise a
//! `before_send` that logs an error would make an event that goes through `before_send` and
//! logs again, forever; a handler that logs would re-enter the tracing layer without bound;
//! and a hook's panic, which the SDK catches and counts, would also go out as a crash.

use std::cell::Cell;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

thread_local! {
    /// Set for good on the sender's threads.
    static SDK_THREAD: Cell<bool> = const { Cell::new(false) };
    /// How many guarded calls this thread is inside.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Whether the current thread is doing the SDK's own work (see the module docs). Integrations
/// check it before recording anything, and the panic hook before reporting.
///
/// ```
/// assert!(!crumbtrail_core::in_sdk_work());
/// let inside = crumbtrail_core::sdk_work(crumbtrail_core::in_sdk_work);
/// assert_eq!(inside.ok(), Some(true));
/// assert!(!crumbtrail_core::in_sdk_work());
/// ```
pub fn in_sdk_work() -> bool {
    SDK_THREAD.with(Cell::get) || DEPTH.with(Cell::get) > 0
}

/// Runs `f` as the SDK's own work: [`in_sdk_work`] holds meanwhile, and a panic in `f` is
/// caught (the panic hook leaves it to the caller, which counts or drops what `f` was for).
/// Returns `f`'s result, or the panic's payload.
pub fn sdk_work<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    let _guard = SdkWork::enter();
    catch_unwind(AssertUnwindSafe(f))
}

/// Marks the current thread as one of the sender's, for the rest of its life.
pub(crate) fn mark_sdk_thread() {
    SDK_THREAD.with(|t| t.set(true));
}

/// Holds [`in_sdk_work`] until dropped; tied to its thread.
struct SdkWork(PhantomData<*const ()>);

impl SdkWork {
    fn enter() -> SdkWork {
        DEPTH.with(|d| d.set(d.get() + 1));
        SdkWork(PhantomData)
    }
}

impl Drop for SdkWork {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guarded_calls_nest_and_unwind() {
        assert!(!in_sdk_work());
        let inside = sdk_work(|| sdk_work(in_sdk_work)).unwrap();
        assert!(inside.unwrap());
        assert!(!in_sdk_work(), "nested calls leave the depth as it was");
        let panicked = sdk_work(|| panic!("in a hook"));
        assert!(panicked.is_err());
        assert!(!in_sdk_work(), "a panic leaves the depth as it was");
    }

    #[test]
    fn a_marked_thread_stays_marked() {
        std::thread::spawn(|| {
            mark_sdk_thread();
            assert!(in_sdk_work());
            let _ = sdk_work(|| ());
            assert!(in_sdk_work());
        })
        .join()
        .unwrap();
        assert!(!in_sdk_work());
    }
}
