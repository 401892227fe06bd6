//! The errors of the devserver's Rust API.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Why [`DevServer::start`](crate::DevServer::start) failed.
///
/// ```
/// use crumbtrail_devserver::DevServerError;
/// let err = DevServerError::InvalidConfig("project_id must be digits".into());
/// assert_eq!(err.to_string(), "invalid devserver configuration: project_id must be digits");
/// ```
#[derive(Debug)]
pub enum DevServerError {
    /// The configuration is not usable (the message says which field and why).
    InvalidConfig(String),
    /// The listening socket could not be bound (port in use, no permission, ...).
    Bind {
        /// The address that could not be bound.
        addr: String,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The data directory or its envelope log could not be created, read or written.
    DataDir {
        /// The path that failed.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
}

impl fmt::Display for DevServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DevServerError::InvalidConfig(msg) => {
                write!(f, "invalid devserver configuration: {msg}")
            }
            DevServerError::Bind { addr, source } => write!(
                f,
                "could not listen on {addr}: {source} (pick another port, or 0 for any free port)"
            ),
            DevServerError::DataDir { path, source } => write!(
                f,
                "could not use the data directory {}: {source}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for DevServerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DevServerError::InvalidConfig(_) => None,
            DevServerError::Bind { source, .. } | DevServerError::DataDir { source, .. } => {
                Some(source)
            }
        }
    }
}

/// A wait on the devserver (`wait_for_*`, `wait_until`) ran out of time before its condition
/// held.
///
/// ```
/// use std::time::Duration;
/// use crumbtrail_devserver::WaitTimeout;
/// let err = WaitTimeout { waited: Duration::from_millis(250) };
/// assert_eq!(err.to_string(), "the devserver wait timed out after 250ms");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTimeout {
    /// How long the wait lasted.
    pub waited: Duration,
}

impl fmt::Display for WaitTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the devserver wait timed out after {:?}", self.waited)
    }
}

impl std::error::Error for WaitTimeout {}
