//! The extension for `tokio::process::Command`.

use std::future::Future;
use std::io;
use std::process::{ExitStatus, Output, Stdio};

use tokio::process::{Child, Command};

use crate::flight::Flight;

/// Runs a [`tokio::process::Command`] with a `subprocess` breadcrumb and the current trace in
/// its environment. See the [crate docs](crate) for what the crumb holds.
///
/// ```no_run
/// use crumbtrail_process::TokioCommandExt;
/// use tokio::process::Command;
///
/// # async fn run() -> std::io::Result<()> {
/// // A crumb `git fetch https://[Filtered]:[Filtered]@git.example.com/repo` with its exit code.
/// let status = Command::new("git")
///     .args(["fetch", "https://me:pw@git.example.com/repo"])
///     .status_traced()
///     .await?;
///
/// // Spawn, talk to it, then wait: the crumb is recorded by `wait`.
/// let mut child = Command::new("sleep").arg("1").spawn_traced()?;
/// let status = child.wait().await?;
/// # drop(status);
/// # Ok(())
/// # }
/// ```
pub trait TokioCommandExt {
    /// [`Command::status`] with a crumb: spawns the process (stdio inherited unless set) and
    /// waits for it. The process is spawned when the future is first polled, so the crumb and
    /// the trace are those of the scope that awaits it.
    fn status_traced(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + Send + '_;

    /// [`Command::output`] with a crumb: stdout and stderr are captured. Spawned on the first
    /// poll, as `status_traced`.
    fn output_traced(&mut self) -> impl Future<Output = io::Result<Output>> + Send + '_;

    /// [`Command::spawn`] with a crumb, recorded when the returned child is waited for (or
    /// dropped without that). A process that fails to start records an `error` crumb at once.
    fn spawn_traced(&mut self) -> io::Result<TracedChild>;

    /// Passes no trace to the child: removes `SENTRY_TRACE` and `SENTRY_BAGGAGE` from its
    /// environment (an explicit `env_remove("SENTRY_TRACE")` does the same).
    fn without_trace_propagation(&mut self) -> &mut Self;
}

impl TokioCommandExt for Command {
    // Spawned on the first poll, in the scope of the code that awaits (unlike
    // `Command::status`, which spawns when called).
    async fn status_traced(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn_traced()?;
        // As `Command::status`: close our ends of any pipes so the child cannot block on them.
        let inner = child.inner_mut();
        inner.stdin.take();
        inner.stdout.take();
        inner.stderr.take();
        child.wait().await
    }

    async fn output_traced(&mut self) -> io::Result<Output> {
        self.stdout(Stdio::piped());
        self.stderr(Stdio::piped());
        self.spawn_traced()?.wait_with_output().await
    }

    fn spawn_traced(&mut self) -> io::Result<TracedChild> {
        let flight = crate::prepare(self.as_std_mut());
        match self.spawn() {
            Ok(child) => {
                let flight = flight.map(|mut f| {
                    f.pid = child.id();
                    f
                });
                Ok(TracedChild { child, flight })
            }
            Err(err) => {
                if let Some(flight) = flight {
                    flight.not_started(&err);
                }
                Err(err)
            }
        }
    }

    fn without_trace_propagation(&mut self) -> &mut Self {
        crate::propagate::opt_out(self.as_std_mut());
        self
    }
}

/// A [`tokio::process::Child`] whose breadcrumb is recorded when it is waited for.
///
/// The crumb goes to the scope of the code that waits (or drops the child). Dropped without a
/// wait, it records a crumb without exit status and with `waited: false`; the process itself
/// keeps running, as a dropped tokio child does (unless `kill_on_drop`).
#[derive(Debug)]
pub struct TracedChild {
    child: Child,
    flight: Option<Flight>,
}

impl TracedChild {
    /// The OS process id, until the process has been waited for.
    pub fn id(&self) -> Option<u32> {
        self.child.id()
    }

    /// The child, for its `stdin` / `stdout` / `stderr` handles.
    pub fn inner(&self) -> &Child {
        &self.child
    }

    /// The child, for taking its `stdin` / `stdout` / `stderr` handles.
    pub fn inner_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// [`Child::wait`], recording the crumb the first time it completes. Cancel-safe, as
    /// `Child::wait` is.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        let result = self.child.wait().await;
        self.finish(result.as_ref().map(|s| *s));
        result
    }

    /// [`Child::try_wait`], recording the crumb once the process has ended.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        let result = self.child.try_wait();
        match &result {
            Ok(Some(status)) => self.finish(Ok(*status)),
            Ok(None) => {}
            Err(err) => self.finish(Err(err)),
        }
        result
    }

    /// [`Child::kill`]: kills the process and waits for it, recording the crumb (with the
    /// signal, on unix).
    pub async fn kill(&mut self) -> io::Result<()> {
        self.child.start_kill()?;
        self.wait().await.map(drop)
    }

    /// [`Child::start_kill`]: sends the kill signal without waiting.
    pub fn start_kill(&mut self) -> io::Result<()> {
        self.child.start_kill()
    }

    /// [`Child::wait_with_output`], recording the crumb.
    pub async fn wait_with_output(self) -> io::Result<Output> {
        let TracedChild { child, flight } = self;
        let result = child.wait_with_output().await;
        if let Some(flight) = flight {
            flight.finish(result.as_ref().map(|o| o.status));
        }
        result
    }

    fn finish(&mut self, result: Result<ExitStatus, &io::Error>) {
        if let Some(flight) = self.flight.take() {
            flight.finish(result);
        }
    }
}
