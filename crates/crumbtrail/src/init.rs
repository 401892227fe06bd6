//! `init`: the process-wide client.

use std::time::Duration;

use crumbtrail_core::{Client, ClientOptions, InitError};

/// Starts the SDK: validates the options, creates the client and makes it the process-wide
/// one. Works anywhere, including inside `#[tokio::main]` with either runtime flavor.
///
/// Unset `dsn`, `release`, `environment` and `debug` are read from `SENTRY_DSN`,
/// `SENTRY_RELEASE`, `SENTRY_ENVIRONMENT` and `SENTRY_DEBUG`. With no DSN (and no transport of
/// your own) the SDK is disabled: every call returns at once. An invalid DSN is an error that
/// says what is wrong.
///
/// ```
/// let guard = crumbtrail::init("https://host/1");
/// assert!(guard.unwrap_err().to_string().contains("public key"));
///
/// let guard = crumbtrail::init(crumbtrail::ClientOptions::default()).unwrap();
/// assert!(!guard.is_enabled()); // no DSN anywhere: disabled
/// ```
pub fn init(options: impl Into<ClientOptions>) -> Result<ClientInitGuard, InitError> {
    let mut options = options.into();
    options.apply_env_defaults();
    let disabled =
        options.dsn.as_deref().is_none_or(|d| d.trim().is_empty()) && options.transport.is_none();
    if disabled {
        return Ok(ClientInitGuard { client: None });
    }
    #[cfg(feature = "panic")]
    if options.default_integrations {
        options
            .integrations
            .push(std::sync::Arc::new(crumbtrail_panic::PanicIntegration));
    }
    let client = Client::new(options)?;
    crumbtrail_core::set_global_client(Some(client.clone()));
    Ok(ClientInitGuard {
        client: Some(client),
    })
}

/// Keeps the SDK running; on drop, flushes within `shutdown_timeout` (best effort, blocking
/// the dropping thread) and stops the client. For a reliable shutdown, call
/// [`ClientInitGuard::close`] and await it.
#[must_use = "dropping the guard shuts the SDK down"]
pub struct ClientInitGuard {
    client: Option<Client>,
}

impl ClientInitGuard {
    /// Whether the SDK is enabled (a DSN or a transport was given).
    pub fn is_enabled(&self) -> bool {
        self.client.is_some()
    }

    /// The client, when enabled.
    pub fn client(&self) -> Option<&Client> {
        self.client.as_ref()
    }

    /// Waits until everything captured so far was delivered, or `timeout`. Returns whether
    /// everything was delivered in time.
    pub async fn flush(&self, timeout: Duration) -> bool {
        match &self.client {
            Some(c) => c.flush(timeout).await,
            None => true,
        }
    }

    /// Flushes and stops the SDK. Returns whether everything was delivered in time.
    pub async fn close(mut self, timeout: Duration) -> bool {
        let Some(client) = self.client.take() else {
            return true;
        };
        let delivered = client.close(timeout).await;
        unset_global(&client);
        delivered
    }
}

fn unset_global(client: &Client) {
    if let Some(global) = crumbtrail_core::global_client() {
        if std::ptr::eq(global.options(), client.options()) {
            crumbtrail_core::set_global_client(None);
        }
    }
}

impl Drop for ClientInitGuard {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            client.close_blocking(client.options().shutdown_timeout);
            unset_global(&client);
        }
    }
}

impl std::fmt::Debug for ClientInitGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientInitGuard")
            .field("client", &self.client)
            .finish()
    }
}

/// Flushes the current client (see [`ClientInitGuard::flush`]).
pub async fn flush(timeout: Duration) -> bool {
    match crumbtrail_core::current_client() {
        Some(c) => c.flush(timeout).await,
        None => true,
    }
}

/// Closes the current client (see [`ClientInitGuard::close`]).
pub async fn close(timeout: Duration) -> bool {
    match crumbtrail_core::current_client() {
        Some(c) => c.close(timeout).await,
        None => true,
    }
}
