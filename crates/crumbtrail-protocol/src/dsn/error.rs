//! Why a DSN was refused (PROTOCOL.md §1.3).
//!
//! Every message names the offending DSN with its secret key replaced by `[redacted]`, says
//! what is wrong and shows what a valid DSN looks like.

/// Why a string is not a usable DSN. One variant per invalid case of PROTOCOL.md §1.3.
///
/// The `dsn` fields hold the input with any secret key replaced by `[redacted]`, so these
/// errors are safe to log.
///
/// ```
/// use crumbtrail_protocol::{Dsn, DsnError};
/// let err = "https://pk@host/abc".parse::<Dsn>().unwrap_err();
/// assert!(matches!(err, DsnError::NonNumericProjectId { .. }));
/// assert_eq!(
///     err.to_string(),
///     "DSN `https://pk@host/abc` has a non-numeric project id `abc`: \
///      expected digits, e.g. https://<public-key>@<host>/<project-id>",
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsnError {
    /// The DSN is empty (or only whitespace).
    #[error(
        "the DSN is empty: set it to a DSN like https://<public-key>@<host>/<project-id>, \
         or use Dsn::parse_optional to treat an empty DSN as \"SDK disabled\""
    )]
    Empty,
    /// The DSN does not start with a scheme (`pk@host/1`).
    #[error(
        "DSN `{dsn}` has no scheme: it must start with https:// or http://, \
         e.g. https://<public-key>@<host>/<project-id>"
    )]
    MissingScheme {
        /// The DSN, secret redacted.
        dsn: String,
    },
    /// The scheme is neither `http` nor `https` (`ftp://pk@host/1`).
    #[error(
        "DSN `{dsn}` uses the unsupported scheme `{scheme}`: only https and http are allowed, \
         e.g. https://<public-key>@<host>/<project-id>"
    )]
    UnsupportedScheme {
        /// The DSN, secret redacted.
        dsn: String,
        /// The scheme found.
        scheme: String,
    },
    /// There is no public key before the `@` (`https://host/1`, `https://:sk@host/1`).
    #[error(
        "DSN `{dsn}` has no public key: put the key before the `@`, \
         e.g. https://<public-key>@<host>/<project-id>"
    )]
    MissingPublicKey {
        /// The DSN, secret redacted.
        dsn: String,
    },
    /// There is no host after the `@` (`https://pk@/1`).
    #[error(
        "DSN `{dsn}` has no host: put the server's host name after the `@`, \
         e.g. https://<public-key>@<host>/<project-id>"
    )]
    MissingHost {
        /// The DSN, secret redacted.
        dsn: String,
    },
    /// The port is not a number from 0 to 65535 (`https://pk@host:99999/1`).
    #[error(
        "DSN `{dsn}` has an invalid port: a port is a number from 0 to 65535, \
         e.g. https://<public-key>@<host>:9000/<project-id>"
    )]
    InvalidPort {
        /// The DSN, secret redacted.
        dsn: String,
    },
    /// The path has no project id (`https://pk@host`, `https://pk@host/`).
    #[error(
        "DSN `{dsn}` has no project id: the last path segment must be the project id, \
         e.g. https://<public-key>@<host>/<project-id>"
    )]
    MissingProjectId {
        /// The DSN, secret redacted.
        dsn: String,
    },
    /// The project id is not made of ASCII digits (`https://pk@host/abc`).
    #[error(
        "DSN `{dsn}` has a non-numeric project id `{project_id}`: expected digits, \
         e.g. https://<public-key>@<host>/<project-id>"
    )]
    NonNumericProjectId {
        /// The DSN, secret redacted.
        dsn: String,
        /// The last path segment that was found instead.
        project_id: String,
    },
    /// The DSN is not a valid absolute URL for another reason.
    #[error(
        "DSN `{dsn}` is not a valid URL ({reason}): \
         expected e.g. https://<public-key>@<host>/<project-id>"
    )]
    InvalidUrl {
        /// The DSN, secret redacted.
        dsn: String,
        /// What the URL parser reported.
        #[source]
        reason: url::ParseError,
    },
}

/// Why an `X-Sentry-Auth` header (or its query-string form) was refused.
///
/// Messages never include the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SentryAuthError {
    /// The header does not start with the word `Sentry`.
    #[error(
        "X-Sentry-Auth does not start with `Sentry `: expected e.g. \
         `Sentry sentry_key=<public-key>, sentry_version=7, sentry_client=<sdk>/<version>`"
    )]
    MissingPrefix,
    /// A comma-separated part is not a `key=value` pair.
    #[error(
        "X-Sentry-Auth part #{index} is not a `key=value` pair: \
         separate pairs with `,` and write each as key=value, e.g. sentry_key=<public-key>"
    )]
    MalformedPair {
        /// The 1-based position of the part.
        index: usize,
    },
    /// There is no (or an empty) `sentry_key`.
    #[error(
        "X-Sentry-Auth has no sentry_key: send the DSN's public key, \
         e.g. `Sentry sentry_key=<public-key>, sentry_version=7`"
    )]
    MissingKey,
    /// `sentry_version` is not a number.
    #[error("X-Sentry-Auth has a non-numeric sentry_version `{value}`: expected e.g. 7")]
    InvalidVersion {
        /// The value found.
        value: String,
    },
}
