//! Where the current scope lives: tokio task-local storage for bound futures, a per-thread
//! fallback for everything else, and the global client and global scope beneath both.
//!
//! A [`Hub`] is the state of one unit of work: its client, its isolation scope, and the
//! `with_scope` layer on top. It is shared behind an `Arc` and copied on write, so forking it
//! for a spawned task copies one pointer.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use crate::client::ClientInner;
use crate::scope::{PropagationContext, Scope};

/// The state of one unit of work.
#[derive(Clone, Default)]
pub(crate) struct Hub {
    /// The bound client; `None` means "the global client".
    pub(crate) client: Option<Arc<ClientInner>>,
    /// The global client as of `GLOBAL_GENERATION` = `.0`, cached so the hot path reads no lock.
    cached_global: Option<(u64, Arc<ClientInner>)>,
    /// The isolation scope: breadcrumbs and `configure_scope` changes go here.
    pub(crate) isolation: Scope,
    /// The `with_scope` layer, applied over the isolation scope.
    pub(crate) current: Option<Scope>,
    /// The request-mode session of this unit of work, shared with its forks.
    pub(crate) session: Option<Arc<crate::session::SessionState>>,
    /// The transaction integrations record child spans in (inert when none).
    pub(crate) transaction: crate::performance::Transaction,
}

impl Hub {
    /// A hub for a new unit of work with its own trace.
    pub(crate) fn fresh(client: Option<Arc<ClientInner>>) -> Self {
        let mut isolation = Scope::default();
        isolation.set_propagation_context(PropagationContext::new());
        Hub {
            isolation,
            ..Hub::bound(client)
        }
    }

    /// A hub reporting to `client` (`None`: the global client), with an empty scope.
    pub(crate) fn bound(client: Option<Arc<ClientInner>>) -> Self {
        Hub {
            client,
            ..Hub::default()
        }
    }

    /// The trace of the innermost scope: the `with_scope` layer's, else the isolation scope's.
    pub(crate) fn propagation(&self) -> Option<&PropagationContext> {
        self.current
            .as_ref()
            .and_then(Scope::propagation_context)
            .or_else(|| self.isolation.propagation_context())
    }

    /// The client this hub reports to, if it is known without taking a lock.
    #[inline]
    pub(crate) fn client_ref(&self) -> Option<&Arc<ClientInner>> {
        match (&self.client, &self.cached_global) {
            (Some(c), _) => Some(c),
            (None, Some((generation, c)))
                if *generation == GLOBAL_GENERATION.load(Ordering::Acquire) =>
            {
                Some(c)
            }
            _ => None,
        }
    }
}

/// The client `hub` reports to: its bound client, else the global one (cached in the hub).
#[inline]
pub(crate) fn resolve_client(hub: &mut Arc<Hub>) -> Option<&Arc<ClientInner>> {
    if hub.client_ref().is_none() {
        let generation = GLOBAL_GENERATION.load(Ordering::Acquire);
        let global = global_client()?;
        Arc::make_mut(hub).cached_global = Some((generation, global));
    }
    hub.client_ref()
}

/// The slot a hub lives in. Mutably borrowed while a closure runs on the hub, so that
/// re-entrant calls from inside it (a user hook that records a crumb) find the thread's hub
/// instead of panicking on a borrow. `None` only between `made_in` taking a hub back out and
/// the scope ending.
pub(crate) type HubSlot = RefCell<Option<Arc<Hub>>>;

tokio::task_local! {
    pub(crate) static TASK_HUB: HubSlot;
}

thread_local! {
    static THREAD_HUB: HubSlot = RefCell::new(Some(Arc::new(Hub::fresh(None))));
}

/// How many clients exist. Zero means the SDK is disabled and every call returns at once.
static ACTIVE_CLIENTS: AtomicUsize = AtomicUsize::new(0);
static GLOBAL_CLIENT: RwLock<Option<Arc<ClientInner>>> = RwLock::new(None);
/// Bumped whenever the global client changes, invalidating the hubs' cached copies.
static GLOBAL_GENERATION: AtomicU64 = AtomicU64::new(0);
static GLOBAL_SCOPE: RwLock<Option<Arc<Scope>>> = RwLock::new(None);
/// Bumped whenever the global scope changes, so captures can skip the lock when it is empty.
static GLOBAL_SCOPE_SET: AtomicU64 = AtomicU64::new(0);

/// Whether any client exists: one atomic load, the whole cost of a disabled SDK.
#[inline]
pub(crate) fn is_active() -> bool {
    ACTIVE_CLIENTS.load(Ordering::Relaxed) != 0
}

pub(crate) fn client_created() {
    ACTIVE_CLIENTS.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn client_dropped() {
    ACTIVE_CLIENTS.fetch_sub(1, Ordering::Relaxed);
}

/// The process-wide client, set by `init`.
pub(crate) fn global_client() -> Option<Arc<ClientInner>> {
    GLOBAL_CLIENT
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Replaces the process-wide client, returning the previous one.
pub(crate) fn set_global_client(client: Option<Arc<ClientInner>>) -> Option<Arc<ClientInner>> {
    let mut slot = GLOBAL_CLIENT
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    let previous = std::mem::replace(&mut *slot, client);
    GLOBAL_GENERATION.fetch_add(1, Ordering::AcqRel);
    previous
}

/// A snapshot of the global scope (`None` when it was never configured).
pub(crate) fn global_scope() -> Option<Arc<Scope>> {
    if GLOBAL_SCOPE_SET.load(Ordering::Acquire) == 0 {
        return None;
    }
    GLOBAL_SCOPE
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// Changes the global scope: process-wide data under every unit of work.
///
/// ```
/// crumbtrail_core::configure_global_scope(|scope| scope.set_tag("service", "shop"));
/// ```
pub fn configure_global_scope<R>(f: impl FnOnce(&mut Scope) -> R) -> R {
    let mut guard = GLOBAL_SCOPE.write().unwrap_or_else(PoisonError::into_inner);
    let scope = Arc::make_mut(guard.get_or_insert_with(Arc::default));
    let out = f(scope);
    GLOBAL_SCOPE_SET.fetch_add(1, Ordering::Release);
    out
}

/// Runs `f` on the current hub (task-local if the caller runs in a bound future, else the
/// thread's), borrowed in its slot. Never panics on re-entry: a call from inside `f` finds the
/// slot borrowed and uses the thread's hub (or, from there, a throwaway one).
pub(crate) fn with_hub<R>(f: impl FnOnce(&mut Arc<Hub>) -> R) -> R {
    let mut f = Some(f);
    let from_task = TASK_HUB.try_with(|slot| run_in_slot(slot, &mut f));
    match from_task {
        Ok(Some(r)) => r,
        _ => THREAD_HUB.with(|slot| match run_in_slot(slot, &mut f) {
            Some(r) => r,
            // Re-entered from inside a hook on this thread: use a throwaway hub.
            None => {
                let f = f.take().expect("the closure has not run yet");
                f(&mut Arc::new(Hub::default()))
            }
        }),
    }
}

fn run_in_slot<R>(slot: &HubSlot, f: &mut Option<impl FnOnce(&mut Arc<Hub>) -> R>) -> Option<R> {
    // Borrowed in place, not taken out and put back: no writes to the slot, and a closure
    // that unwinds leaves the hub where it was (the guard's drop ends the borrow).
    let mut guard = slot.try_borrow_mut().ok()?;
    let hub = guard.as_mut()?;
    let f = f.take()?;
    Some(f(hub))
}

/// A fork of the current hub: what a spawned task or a bound future starts from. A shared
/// borrow of the slot and one reference count: nothing is taken out or put back.
pub(crate) fn fork() -> Arc<Hub> {
    fn peek(slot: &HubSlot) -> Option<Arc<Hub>> {
        slot.try_borrow().ok()?.as_ref().map(Arc::clone)
    }
    if let Ok(Some(hub)) = TASK_HUB.try_with(peek) {
        return hub;
    }
    THREAD_HUB
        .with(peek)
        .unwrap_or_else(|| Arc::new(Hub::default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closure_that_panics_leaves_the_hub_in_its_slot() {
        std::thread::spawn(|| {
            with_hub(|hub| Arc::make_mut(hub).isolation.set_tag("kept", "yes"));
            let panicked = std::panic::catch_unwind(|| with_hub(|_| panic!("in a hook")));
            assert!(panicked.is_err());
            // Still the thread's hub, not a throwaway one.
            let tag = with_hub(|hub| hub.isolation.tag("kept").map(str::to_owned));
            assert_eq!(tag.as_deref(), Some("yes"));
        })
        .join()
        .unwrap();
    }
}
