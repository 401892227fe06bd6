//! The `subprocess` breadcrumb of one process and the hint that comes with it.

use std::ffi::OsString;
use std::io;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

use crumbtrail_core::{
    Breadcrumb, BreadcrumbHint, Client, EventScrubber, Level, add_breadcrumb_with_hint,
};

use crate::redact::{command_line, redact_args};

/// What `before_breadcrumb` receives with every `subprocess` crumb: the command *unredacted*
/// and how it ended. Downcast it with [`BreadcrumbHint::get`].
///
/// It never leaves the process, but it holds the arguments as written, secrets included: copy
/// from it with care.
///
/// ```
/// use std::sync::Arc;
/// use crumbtrail_core::ClientOptions;
/// use crumbtrail_process::ProcessBreadcrumbHint;
///
/// let options = ClientOptions {
///     before_breadcrumb: Some(Arc::new(|crumb, hint| {
///         match hint.get::<ProcessBreadcrumbHint>() {
///             // No crumbs for `git status` polling.
///             Some(p) if p.program == "git" && p.args.first().is_some_and(|a| a == "status") => None,
///             _ => Some(crumb),
///         }
///     })),
///     ..Default::default()
/// };
/// # drop(options);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProcessBreadcrumbHint {
    /// The program, as given to the command.
    pub program: OsString,
    /// The arguments, unredacted.
    pub args: Vec<OsString>,
    /// The process id, when the process started (and it was known).
    pub pid: Option<u32>,
    /// How the process ended, when it was waited for.
    pub status: Option<ExitStatus>,
    /// Why it did not start, or why waiting for it failed.
    pub error: Option<String>,
    /// The kind of that error.
    pub error_kind: Option<io::ErrorKind>,
    /// From just before the spawn until it ended (or failed, or was given up).
    pub duration: Duration,
}

/// A process on its way: records its crumb when it ends, fails, or is given up (dropped
/// before it was waited for).
#[derive(Debug)]
pub(crate) struct Flight {
    program: OsString,
    args: Vec<OsString>,
    scrubber: EventScrubber,
    started: Instant,
    pub(crate) pid: Option<u32>,
    done: bool,
}

/// The outcome a crumb describes.
enum Outcome<'a> {
    NotStarted(&'a io::Error),
    Exited(ExitStatus),
    WaitFailed(&'a io::Error),
    NotWaited,
}

impl Flight {
    /// Starts the clock; `None` when the client records no breadcrumbs.
    pub(crate) fn start(command: &Command, client: &Client) -> Option<Flight> {
        let options = client.options();
        if !options.enable_breadcrumbs {
            return None;
        }
        Some(Flight {
            program: command.get_program().to_owned(),
            args: command.get_args().map(ToOwned::to_owned).collect(),
            scrubber: options.event_scrubber.clone().unwrap_or_default(),
            started: Instant::now(),
            pid: None,
            done: false,
        })
    }

    /// The process did not start.
    pub(crate) fn not_started(mut self, err: &io::Error) {
        self.record(Outcome::NotStarted(err));
    }

    /// The process ended (`Ok`) or waiting for it failed.
    pub(crate) fn finish(mut self, result: Result<ExitStatus, &io::Error>) {
        match result {
            Ok(status) => self.record(Outcome::Exited(status)),
            Err(err) => self.record(Outcome::WaitFailed(err)),
        }
    }

    fn record(&mut self, outcome: Outcome<'_>) {
        self.done = true;
        let duration = self.started.elapsed();
        let crumb = self.crumb(&outcome, duration);
        let (status, error) = match outcome {
            Outcome::Exited(status) => (Some(status), None),
            Outcome::NotStarted(err) | Outcome::WaitFailed(err) => (None, Some(err)),
            Outcome::NotWaited => (None, None),
        };
        let hint = ProcessBreadcrumbHint {
            program: std::mem::take(&mut self.program),
            args: std::mem::take(&mut self.args),
            pid: self.pid,
            status,
            error: error.map(ToString::to_string),
            error_kind: error.map(io::Error::kind),
            duration,
        };
        add_breadcrumb_with_hint(crumb, &BreadcrumbHint::new(&hint));
    }

    fn crumb(&self, outcome: &Outcome<'_>, duration: Duration) -> Breadcrumb {
        let program = self.program.to_string_lossy();
        let args = redact_args(&program, &self.args, &self.scrubber);
        let mut crumb = Breadcrumb::new()
            .with_category("subprocess")
            .with_message(command_line(&program, &args))
            .with_data("program", program.as_ref())
            .with_data("args", args)
            .with_data("duration_ms", duration_ms(duration));
        if let Some(pid) = self.pid {
            crumb.data.insert("pid".into(), pid.into());
        }
        crumb.level = match outcome {
            Outcome::NotStarted(err) | Outcome::WaitFailed(err) => {
                crumb.data.insert("error".into(), err.to_string().into());
                Level::Error
            }
            Outcome::Exited(status) => {
                if let Some(code) = status.code() {
                    crumb.data.insert("exit_code".into(), code.into());
                }
                #[cfg(unix)]
                {
                    use std::os::unix::process::ExitStatusExt;
                    if let Some(signal) = status.signal() {
                        crumb.data.insert("signal".into(), signal.into());
                    }
                }
                if status.success() {
                    Level::Info
                } else {
                    Level::Warning
                }
            }
            Outcome::NotWaited => {
                crumb.data.insert("waited".into(), false.into());
                Level::Info
            }
        };
        crumb
    }
}

impl Drop for Flight {
    /// A child given up before it was waited for (dropped, or a `status` future cancelled)
    /// still leaves a crumb, without an exit status and with `waited: false`.
    fn drop(&mut self) {
        if !self.done {
            self.record(Outcome::NotWaited);
        }
    }
}

/// Milliseconds with microsecond precision.
fn duration_ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flight(args: &[&str]) -> Flight {
        Flight {
            program: "prog".into(),
            args: args.iter().map(OsString::from).collect(),
            scrubber: EventScrubber::default(),
            started: Instant::now(),
            pid: Some(7),
            done: true, // no crumb from Drop
        }
    }

    #[cfg(unix)]
    fn status(raw: i32) -> ExitStatus {
        use std::os::unix::process::ExitStatusExt;
        ExitStatus::from_raw(raw)
    }

    #[cfg(unix)]
    #[test]
    fn levels_and_data_follow_the_outcome() {
        let f = flight(&["--token", "t"]);
        let d = Duration::from_micros(1_500);
        let ok = f.crumb(&Outcome::Exited(status(0)), d);
        assert_eq!((ok.level, &*ok.ty), (Level::Info, "default"));
        assert_eq!(ok.category.as_deref(), Some("subprocess"));
        assert_eq!(ok.message.as_deref(), Some("prog --token [Filtered]"));
        assert_eq!(ok.data["exit_code"], 0);
        assert_eq!(ok.data["pid"], 7);
        assert_eq!(ok.data["duration_ms"], 1.5);
        assert_eq!(ok.data["args"][0], "--token");
        assert_eq!(ok.data["args"][1], "[Filtered]");

        let failed = f.crumb(&Outcome::Exited(status(3 << 8)), d);
        assert_eq!(
            (failed.level, &failed.data["exit_code"]),
            (Level::Warning, &3.into())
        );

        let killed = f.crumb(&Outcome::Exited(status(9)), d);
        assert_eq!(killed.level, Level::Warning);
        assert_eq!(killed.data["signal"], 9);
        assert!(!killed.data.contains_key("exit_code"));

        let err = io::Error::new(io::ErrorKind::NotFound, "no such file");
        let missing = f.crumb(&Outcome::NotStarted(&err), d);
        assert_eq!(missing.level, Level::Error);
        assert_eq!(missing.data["error"], "no such file");

        let given_up = f.crumb(&Outcome::NotWaited, d);
        assert_eq!(
            (given_up.level, &given_up.data["waited"]),
            (Level::Info, &false.into())
        );
    }

    #[test]
    fn durations_are_milliseconds_with_microseconds() {
        assert_eq!(duration_ms(Duration::from_nanos(1_234_567)), 1.235);
    }
}
