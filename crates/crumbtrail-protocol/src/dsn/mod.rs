//! The DSN (PROTOCOL.md §1) and request authentication (§2.2).
//!
//! A DSN names the server, the project and the key an SDK sends with:
//! `{scheme}://{public_key}[:{secret_key}]@{host}[:{port}]{path_prefix}{project_id}`.
//! [`Dsn`] parses and validates one, derives the endpoints (§1.4) and builds the
//! `X-Sentry-Auth` header; [`SentryAuth`] reads that header back (for the devserver).
//!
//! ```
//! use crumbtrail_protocol::Dsn;
//!
//! let dsn: Dsn = "https://abc123@o42.ingest.sentry.io/7".parse().unwrap();
//! assert_eq!(dsn.envelope_url(), "https://o42.ingest.sentry.io/api/7/envelope/");
//! assert_eq!(dsn.org_id(), Some(42));
//! assert_eq!(
//!     dsn.auth_header_value("crumbtrail/0.1.0"),
//!     "Sentry sentry_key=abc123, sentry_version=7, sentry_client=crumbtrail/0.1.0",
//! );
//! ```

mod auth;
mod error;
mod parse;
mod redact;

#[cfg(test)]
mod auth_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use auth::*;
pub use error::*;
pub use parse::*;
