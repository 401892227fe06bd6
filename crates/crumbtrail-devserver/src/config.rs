//! How a devserver is set up: [`DevServerConfig`].

use std::path::PathBuf;

use crumbtrail_protocol::limits::{MAX_ENVELOPE_BYTES, MAX_EVENT_BYTES};

use crate::error::DevServerError;
use crate::fault::Fault;

/// The public key a devserver accepts unless told otherwise.
pub const DEFAULT_PUBLIC_KEY: &str = "devkey";

/// The project id a devserver serves unless told otherwise.
pub const DEFAULT_PROJECT_ID: &str = "1";

/// The settings of one devserver. `Default` gives an in-memory, silent server on any free port,
/// serving project `1` with key `devkey`, with Relay's size limits.
///
/// ```
/// use crumbtrail_devserver::DevServerConfig;
/// let config = DevServerConfig::default()
///     .with_port(0)
///     .with_public_key("abc123")
///     .with_max_event_bytes(64 * 1024);
/// assert_eq!(config.project_id, "1");
/// assert!(config.data_dir.is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DevServerConfig {
    /// The TCP port on 127.0.0.1; `0` picks any free port (see
    /// [`DevServer::addr`](crate::DevServer::addr)).
    pub port: u16,
    /// Where accepted envelopes are persisted (`envelopes.log` inside it, created if missing);
    /// `None` keeps them in memory only.
    pub data_dir: Option<PathBuf>,
    /// The one project id served (digits, not `0`: `/api/0/` is the JSON API).
    pub project_id: String,
    /// The one public key accepted (letters, digits, `-` and `_`).
    pub public_key: String,
    /// Print every arriving event to stdout with
    /// [`render_event`](crate::view_terminal::render_event) (the binary turns this on unless
    /// `--quiet`).
    pub print_events: bool,
    /// Largest request body, both as sent (compressed) and after decompression; bigger → 413.
    pub max_envelope_bytes: usize,
    /// Largest `event`, `transaction` or `feedback` item; bigger → 413.
    pub max_event_bytes: usize,
    /// A fault to inject from the first request on (see [`Fault`]).
    pub fault: Option<Fault>,
}

impl Default for DevServerConfig {
    fn default() -> Self {
        DevServerConfig {
            port: 0,
            data_dir: None,
            project_id: DEFAULT_PROJECT_ID.to_owned(),
            public_key: DEFAULT_PUBLIC_KEY.to_owned(),
            print_events: false,
            max_envelope_bytes: MAX_ENVELOPE_BYTES,
            max_event_bytes: MAX_EVENT_BYTES,
            fault: None,
        }
    }
}

impl DevServerConfig {
    /// Sets the port (`0` = any free port).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Persists envelopes in `dir`.
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Sets the project id served.
    pub fn with_project_id(mut self, project_id: impl Into<String>) -> Self {
        self.project_id = project_id.into();
        self
    }

    /// Sets the public key accepted.
    pub fn with_public_key(mut self, key: impl Into<String>) -> Self {
        self.public_key = key.into();
        self
    }

    /// Turns printing of arriving events to stdout on or off.
    pub fn with_print_events(mut self, print: bool) -> Self {
        self.print_events = print;
        self
    }

    /// Sets the body size limit (compressed and decompressed).
    pub fn with_max_envelope_bytes(mut self, max: usize) -> Self {
        self.max_envelope_bytes = max;
        self
    }

    /// Sets the size limit of `event`, `transaction` and `feedback` items.
    pub fn with_max_event_bytes(mut self, max: usize) -> Self {
        self.max_event_bytes = max;
        self
    }

    /// Injects `fault` from the first request on.
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }

    /// Checks every field; the error names the field and says what is allowed.
    pub(crate) fn validate(&self) -> Result<(), DevServerError> {
        let bad = |msg: String| Err(DevServerError::InvalidConfig(msg));
        let id = &self.project_id;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || id.len() > 18 {
            return bad(format!(
                "project_id `{id}` must be 1 to 18 decimal digits, e.g. \"1\""
            ));
        }
        if id.bytes().all(|b| b == b'0') {
            return bad(format!(
                "project_id `{id}` is reserved: /api/0/ is the devserver's JSON API"
            ));
        }
        let key = &self.public_key;
        let key_ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if key.is_empty() || key.len() > 128 || !key.bytes().all(key_ok) {
            return bad(format!(
                "public_key `{key}` must be 1 to 128 letters, digits, `-` or `_`"
            ));
        }
        if self.max_envelope_bytes == 0 || self.max_event_bytes == 0 {
            return bad("max_envelope_bytes and max_event_bytes must be above 0".to_owned());
        }
        if let Some(fault) = &self.fault {
            fault
                .validate()
                .map_err(|e| DevServerError::InvalidConfig(format!("fault: {e}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert!(DevServerConfig::default().validate().is_ok());
    }

    #[test]
    fn rejects_bad_fields_with_a_reason() {
        for (config, needle) in [
            (DevServerConfig::default().with_project_id("abc"), "digits"),
            (DevServerConfig::default().with_project_id(""), "digits"),
            (DevServerConfig::default().with_project_id("0"), "reserved"),
            (DevServerConfig::default().with_public_key("a b"), "letters"),
            (DevServerConfig::default().with_public_key(""), "letters"),
            (
                DevServerConfig::default().with_max_event_bytes(0),
                "above 0",
            ),
        ] {
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
