//! Scopes that follow the work: `configure_scope`, `with_scope` for closures and futures, an
//! isolation scope per unit of work, and spawning tasks with a fork of the spawner's scope.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::task::JoinHandle;
use tokio::task::futures::TaskLocalFuture;

use crate::client::Client;
use crate::hub::{self, Hub, HubSlot, TASK_HUB};
use crate::scope::{PropagationContext, Scope};

pin_project_lite::pin_project! {
    /// A future that runs with its own scope: the scope is swapped in on every poll and out
    /// after, so concurrent futures in one task (`join!`, `select!`) each keep their own.
    #[must_use = "futures do nothing unless awaited"]
    pub struct Scoped<F: Future> {
        #[pin]
        inner: TaskLocalFuture<HubSlot, F>,
    }
}

impl<F: Future> Scoped<F> {
    pub(crate) fn new(hub: Arc<Hub>, future: F) -> Self {
        Scoped {
            inner: TASK_HUB.scope(RefCell::new(Some(hub)), future),
        }
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

/// Changes the isolation scope of the current unit of work (a request, a job, a task tree):
/// every event captured later in it carries the change.
///
/// Does nothing, and does not run `f`, when the SDK is disabled.
///
/// ```
/// crumbtrail_core::configure_scope(|scope| scope.set_tag("tenant", "acme"));
/// ```
pub fn configure_scope<R: Default>(f: impl FnOnce(&mut Scope) -> R) -> R {
    if !hub::is_active() {
        return R::default();
    }
    hub::with_hub(|hub| f(&mut Arc::make_mut(hub).isolation))
}

/// Runs `body` with a scope layer configured by `configure` on top of the current one. The
/// layer's tags, level, user, ... apply to events captured inside `body` and vanish after it;
/// breadcrumbs recorded inside stay in the unit of work's trail, as in Sentry's SDKs.
///
/// ```
/// use crumbtrail_core::{Level, with_scope};
/// let answer = with_scope(
///     |scope| scope.set_tag("step", "payment"),
///     || {
///         crumbtrail_core::capture_message("payment slow", Level::Warning);
///         42
///     },
/// );
/// assert_eq!(answer, 42);
/// ```
pub fn with_scope<R>(configure: impl FnOnce(&mut Scope), body: impl FnOnce() -> R) -> R {
    if !hub::is_active() {
        return body();
    }
    let previous = hub::with_hub(|hub| {
        let hub = Arc::make_mut(hub);
        let mut layer = hub.current.clone().unwrap_or_default();
        configure(&mut layer);
        hub.current.replace(layer)
    });
    let _restore = RestoreLayer(Some(previous));
    body()
}

/// Puts the previous `with_scope` layer back, also when the body panics.
struct RestoreLayer(Option<Option<Scope>>);

impl Drop for RestoreLayer {
    fn drop(&mut self) {
        if let Some(previous) = self.0.take() {
            hub::with_hub(|hub| Arc::make_mut(hub).current = previous);
        }
    }
}

/// [`with_scope`] for a future: it runs with a fork of the current scope plus a layer that
/// `configure` sets up. Whatever the future records stays with it.
///
/// ```
/// # async fn handler() {}
/// # async fn run() {
/// crumbtrail_core::with_scope_async(|scope| scope.set_tag("job", "import"), handler()).await;
/// # }
/// ```
pub fn with_scope_async<F: Future>(configure: impl FnOnce(&mut Scope), future: F) -> Scoped<F> {
    let mut hub = hub::fork();
    if hub::is_active() {
        let h = Arc::make_mut(&mut hub);
        let mut layer = h.current.clone().unwrap_or_default();
        configure(&mut layer);
        h.current = Some(layer);
    }
    Scoped::new(hub, future)
}

/// Runs a future as a new unit of work: a fork of the current isolation scope (so it starts
/// with the current tags and trail) with a new trace — unless `configure` sets one with
/// `set_propagation_context`, as web integrations do to continue an incoming trace. Nothing it
/// records reaches the caller or any other unit of work. Web integrations wrap each request
/// with this.
///
/// ```
/// # async fn handle_request() {}
/// # async fn run() {
/// crumbtrail_core::with_isolation_scope(|scope| scope.set_tag("route", "/cart"), handle_request())
///     .await;
/// # }
/// ```
pub fn with_isolation_scope<F: Future>(configure: impl FnOnce(&mut Scope), future: F) -> Scoped<F> {
    Scoped::new(isolation_hub(hub::fork(), configure), future)
}

/// [`with_isolation_scope`] for a future that is made inside the new unit of work: `make`
/// runs in its scope, then the future it returns keeps that scope. A tower layer calls its
/// inner service this way, so whatever the inner layers record in `call` belongs to the
/// request, without moving the service into the future.
///
/// Like polling any scoped future, it must not be called from inside a closure given to
/// [`configure_scope`] or [`with_scope`] (tokio panics when a task-local scope is entered
/// while the task-local is borrowed).
///
/// ```
/// use crumbtrail_core::{Breadcrumb, add_breadcrumb, run_in_isolation_scope};
/// # async fn run() {
/// let response = run_in_isolation_scope(
///     |scope| scope.set_tag("route", "/cart"),
///     || {
///         add_breadcrumb(Breadcrumb::new().with_message("routing")); // in the new scope
///         async { "ok" }
///     },
/// );
/// assert_eq!(response.await, "ok");
/// # }
/// ```
pub fn run_in_isolation_scope<F: Future>(
    configure: impl FnOnce(&mut Scope),
    make: impl FnOnce() -> F,
) -> Scoped<F> {
    made_in(isolation_hub(hub::fork(), configure), make)
}

/// A new unit of work on `hub` (a fork of the caller's, or a fresh hub): no `with_scope`
/// layer, and a new trace unless `configure` continues one with `set_propagation_context`
/// (web integrations do, from the request's headers); the trace is made only when needed.
fn isolation_hub(mut hub: Arc<Hub>, configure: impl FnOnce(&mut Scope)) -> Arc<Hub> {
    if hub::is_active() {
        let h = Arc::make_mut(&mut hub);
        h.current = None;
        h.isolation.propagation = None;
        configure(&mut h.isolation);
        if h.isolation.propagation.is_none() {
            h.isolation
                .set_propagation_context(PropagationContext::new());
        }
    }
    hub
}

/// Runs `make` with `hub` as the current hub, and binds the future it returns to it.
fn made_in<F: Future>(hub: Arc<Hub>, make: impl FnOnce() -> F) -> Scoped<F> {
    // Written in place rather than returned through `sync_scope`: a request's future is a few
    // hundred bytes, and every level it is returned through copies it.
    let (mut future, mut lent) = (None, None);
    TASK_HUB.sync_scope(RefCell::new(Some(hub)), || {
        future = Some(make());
        // Taken back out of the slot it was lent to (which `make` leaves as it found it).
        lent = TASK_HUB.with(|slot| slot.borrow_mut().take());
    });
    let future = future.expect("`make` returned");
    Scoped::new(lent.unwrap_or_else(hub::fork), future)
}

impl Client {
    /// [`run_in_isolation_scope`] for a unit of work that reports to this client: a fresh
    /// scope (nothing of the caller's), set up by `configure`, in which `make` runs and the
    /// future it returns keeps running.
    ///
    /// ```
    /// use std::time::Duration;
    /// use crumbtrail_core::{ClientOptions, Level, TestTransport, capture_message, test};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let transport = TestTransport::new();
    /// let client = test::client_with(&transport, ClientOptions::default());
    /// client
    ///     .run_in_isolation_scope(|scope| scope.set_tag("job", "import"), || async {
    ///         capture_message("imported", Level::Info);
    ///     })
    ///     .await;
    /// assert!(client.flush(Duration::from_secs(5)).await);
    /// assert_eq!(transport.events()[0].tags["job"], "import");
    /// # }
    /// ```
    pub fn run_in_isolation_scope<F: Future>(
        &self,
        configure: impl FnOnce(&mut Scope),
        make: impl FnOnce() -> F,
    ) -> Scoped<F> {
        let hub = Arc::new(Hub::bound(Some(Arc::clone(&self.inner))));
        made_in(isolation_hub(hub, configure), make)
    }
}

/// Binding futures to scopes and clients.
pub trait ScopeFutureExt: Future + Sized {
    /// Runs the future with a fork of the current scope: it sees what was recorded before;
    /// what it records does not reach the caller. Costs one reference-count increment.
    ///
    /// ```
    /// use crumbtrail_core::ScopeFutureExt;
    /// # async fn run() {
    /// tokio::spawn(async { /* work */ }.bind_scope());
    /// # }
    /// ```
    fn bind_scope(self) -> Scoped<Self> {
        Scoped::new(hub::fork(), self)
    }

    /// Runs the future with its own client and a fresh scope: what it captures goes to
    /// `client` only. Tests use this to keep parallel tests apart.
    fn bind_client(self, client: &Client) -> Scoped<Self> {
        let hub = Hub::fresh(Some(Arc::clone(&client.inner)));
        Scoped::new(Arc::new(hub), self)
    }
}

impl<F: Future> ScopeFutureExt for F {}

/// `tokio::spawn` with a fork of the current scope (see [`ScopeFutureExt::bind_scope`]).
///
/// ```
/// # async fn run() {
/// let handle = crumbtrail_core::spawn(async { 1 + 1 });
/// assert_eq!(handle.await.unwrap(), 2);
/// # }
/// ```
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(future.bind_scope())
}
