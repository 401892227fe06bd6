//! The extension for `std::process::Command`.

use std::io;
use std::process::{Child, Command, ExitStatus, Output};

use crate::flight::Flight;

/// Runs a [`std::process::Command`] with a `subprocess` breadcrumb and the current trace in its
/// environment. See the [crate docs](crate) for what the crumb holds.
///
/// ```no_run
/// use std::process::Command;
/// use crumbtrail_process::StdCommandExt;
///
/// # fn run() -> std::io::Result<()> {
/// let out = Command::new("pg_dump").arg("--password=secret").output_traced()?;
/// // The crumb reads `pg_dump --password=[Filtered]`.
/// # drop(out);
/// # Ok(())
/// # }
/// ```
pub trait StdCommandExt {
    /// [`Command::status`] with a crumb.
    fn status_traced(&mut self) -> io::Result<ExitStatus>;

    /// [`Command::output`] with a crumb. The crumb has no `pid` (`Command::output` does not
    /// tell it).
    fn output_traced(&mut self) -> io::Result<Output>;

    /// [`Command::spawn`] with a crumb, recorded when the returned child is waited for (or
    /// dropped without that). A process that fails to start records an `error` crumb at once.
    fn spawn_traced(&mut self) -> io::Result<TracedStdChild>;

    /// Passes no trace to the child: removes `SENTRY_TRACE` and `SENTRY_BAGGAGE` from its
    /// environment (an explicit `env_remove("SENTRY_TRACE")` does the same).
    fn without_trace_propagation(&mut self) -> &mut Self;
}

impl StdCommandExt for Command {
    fn status_traced(&mut self) -> io::Result<ExitStatus> {
        // `Command::status` is `spawn` (same inherited defaults) + `wait`, with our pipe ends
        // closed.
        let mut child = self.spawn_traced()?;
        let inner = child.inner_mut();
        inner.stdin.take();
        inner.stdout.take();
        inner.stderr.take();
        child.wait()
    }

    fn output_traced(&mut self) -> io::Result<Output> {
        // `Command::output` itself, to keep its stdio defaults (stdin null, the rest piped
        // unless set).
        let flight = crate::prepare(self);
        let result = self.output();
        if let Some(flight) = flight {
            match &result {
                Ok(output) => flight.finish(Ok(output.status)),
                Err(err) => flight.not_started(err),
            }
        }
        result
    }

    fn spawn_traced(&mut self) -> io::Result<TracedStdChild> {
        let flight = crate::prepare(self);
        match self.spawn() {
            Ok(child) => {
                let flight = flight.map(|mut f| {
                    f.pid = Some(child.id());
                    f
                });
                Ok(TracedStdChild { child, flight })
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
        crate::propagate::opt_out(self);
        self
    }
}

/// A [`std::process::Child`] whose breadcrumb is recorded when it is waited for.
///
/// The crumb goes to the scope of the code that waits (or drops the child). Dropped without a
/// wait, it records a crumb without exit status and with `waited: false`.
#[derive(Debug)]
pub struct TracedStdChild {
    child: Child,
    flight: Option<Flight>,
}

impl TracedStdChild {
    /// The OS process id.
    pub fn id(&self) -> u32 {
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

    /// [`Child::wait`], recording the crumb the first time it returns.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        let result = self.child.wait();
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

    /// [`Child::kill`]: sends the kill signal; the crumb waits for a `wait`.
    pub fn kill(&mut self) -> io::Result<()> {
        self.child.kill()
    }

    /// [`Child::wait_with_output`], recording the crumb.
    pub fn wait_with_output(self) -> io::Result<Output> {
        let TracedStdChild { child, flight } = self;
        let result = child.wait_with_output();
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
