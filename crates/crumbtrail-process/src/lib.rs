//! crumbtrail for subprocesses: a `subprocess` breadcrumb for every process you run, and the
//! current trace passed on to it, as sentry-python does for `Popen`.
//!
//! Import [`TokioCommandExt`] for [`tokio::process::Command`] or [`StdCommandExt`] for
//! [`std::process::Command`] and use `status_traced`, `output_traced` or `spawn_traced` in place
//! of `status`, `output` or `spawn`:
//!
//! ```
//! use crumbtrail_core::test;
//! use crumbtrail_process::TokioCommandExt;
//! use tokio::process::Command;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let events = test::capture_events(async {
//!     let status = Command::new("sh").args(["-c", "exit 3"]).status_traced().await.unwrap();
//!     assert_eq!(status.code(), Some(3));
//!     crumbtrail_core::capture_message("after", crumbtrail_core::Level::Info);
//! })
//! .await;
//! let crumb = &events[0].breadcrumbs.as_ref().unwrap().values[0];
//! assert_eq!(crumb.message.as_deref(), Some("sh -c 'exit 3'"));
//! assert_eq!(crumb.data["exit_code"], 3);
//! # }
//! ```
//!
//! For every process, in the scope of the code that runs (waits for) it:
//!
//! - **a breadcrumb** (PROTOCOL.md §5): type `default`, category `subprocess`, message the
//!   command line (secrets redacted, arguments with spaces single-quoted); `data.program`,
//!   `data.args` (redacted), `exit_code` or, on unix, `signal`, `duration_ms` (spawn to exit)
//!   and `pid` (not for `StdCommandExt::output_traced`). The level is `error` when the process
//!   fails to start (`data.error` says why), `warning` when it exits non-zero or by a signal,
//!   `info` otherwise. A spawned child dropped (or a `status_traced` future cancelled) before
//!   it was waited for records an `info` crumb with `waited: false`. `before_breadcrumb`
//!   receives a [`ProcessBreadcrumbHint`] with the unredacted command and its status.
//!   No crumb with `enable_breadcrumbs = false`.
//! - **redaction**, best effort, using the client's `event_scrubber` keys (default
//!   [`DEFAULT_DENYLIST`](crumbtrail_core::DEFAULT_DENYLIST)): a key is sensitive when it, or
//!   a part of it after a `_`, `-` or `.`, is on the list, or when it contains `password`,
//!   `passwd`, `passphrase`, `secret` or `token` (`db-password`, `GITHUB_TOKEN`, `X-Api-Key`).
//!   Each secret becomes `[Filtered]`:
//!   - `--password=…`, `KEY=…` and `Authorization: …` lose their value, also as a flag's value
//!     (`--header=Authorization: …`, `-HAuthorization: …`); a sensitive flag (`--token`,
//!     `--passphrase`) hides the next argument;
//!   - `--user` / `--proxy-user` `name:password` becomes `name:[Filtered]`, and openssl's
//!     `pass:…` becomes `pass:[Filtered]` (`env:VAR`, `file:path` stay);
//!   - in URLs, the user info (`https://u:p@host` becomes `[Filtered]:[Filtered]@host`) and the
//!     values of secret query or form parameters: sensitive names, and names with a `key`,
//!     `sig` or `signature` part (`?access_token=…`, `&key=…`, `X-Amz-Signature=…`); other
//!     parameters stay;
//!   - short flags only some programs read as passwords, after a word naming the program (the
//!     program, `docker exec db mysql …`, `sh -c 'curl …'`) and up to the next `;`, `|` or
//!     `&`: `mysql`/`mysqldump`/`mariadb*` `-p<password>` (a bare `-p` prompts, and the next
//!     argument is the database), `sshpass -p` (attached or not, once), `curl -u`/`-U
//!     name:password`. For other programs `-p` (a port) and `-u` stay.
//!
//!   Arguments with whitespace are shell scripts (`sh -c '…'`): they are split into words as
//!   the shell splits them (quotes, `\`, `;`, `|`, `&`), and each word is redacted as an
//!   argument (a redacted word is single-quoted again). Environment variables set with
//!   `.env()` are never shown.
//! - **trace propagation** (§9.3): `SENTRY_TRACE` (`<trace_id>-<span_id>[-<sampled>]`) and
//!   `SENTRY_BAGGAGE` (the `sentry-*` entries of the dynamic sampling context: the frozen one
//!   of a continued trace, else trace id, DSN public key and org, release, environment) in
//!   the child's environment, replacing any it would inherit or that the command sets. Opt
//!   out per command with `without_trace_propagation()` (or
//!   `env_remove("SENTRY_TRACE")`).
//!
//! With the SDK disabled (no client for the current unit of work) the command runs exactly
//! as `status` / `output` / `spawn` would run it: no crumb, environment untouched.
#![forbid(unsafe_code)]

mod flight;
mod propagate;
mod redact;
mod std_ext;
mod tokio_ext;

pub use crate::flight::ProcessBreadcrumbHint;
pub use crate::std_ext::{StdCommandExt, TracedStdChild};
pub use crate::tokio_ext::{TokioCommandExt, TracedChild};

use crate::flight::Flight;

/// With a client: puts the trace in the command's environment and starts the crumb's clock.
fn prepare(command: &mut std::process::Command) -> Option<Flight> {
    let client = crumbtrail_core::current_client()?;
    propagate::propagate(command, &client);
    Flight::start(command, &client)
}
