//! Client options, with Sentry's names and defaults.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crumbtrail_protocol::{Breadcrumb, Event, Transaction};

use crate::hint::{BreadcrumbHint, EventHint};
use crate::pii::EventScrubber;
use crate::transport::TransportFactory;

/// `before_breadcrumb`: may change a crumb or drop it (`None`).
pub type BeforeBreadcrumb =
    Arc<dyn Fn(Breadcrumb, &BreadcrumbHint<'_>) -> Option<Breadcrumb> + Send + Sync>;
/// `before_send`: may change an event or drop it (`None`).
pub type BeforeSend = Arc<dyn Fn(Event, &EventHint) -> Option<Event> + Send + Sync>;
/// `before_send_transaction`: may change a finished transaction or drop it (`None`).
pub type BeforeSendTransaction = Arc<dyn Fn(Transaction) -> Option<Transaction> + Send + Sync>;
/// `traces_sampler`: the sample rate for one new transaction, in [0, 1]; it decides instead
/// of `traces_sample_rate`, and sees the incoming decision of a continued trace.
pub type TracesSampler = Arc<dyn Fn(&crate::SamplingContext<'_>) -> f64 + Send + Sync>;
/// `error_sampler`: the sample rate for one error event, in [0, 1].
pub type ErrorSampler = Arc<dyn Fn(&Event, &EventHint) -> f64 + Send + Sync>;

/// Something that hooks into the client at init (integrations: tracing, panics, ...).
pub trait Integration: Send + Sync + 'static {
    /// The name reported in `sdk.integrations`.
    fn name(&self) -> &'static str;
    /// Adjusts options at init (e.g. adds processors); called once.
    fn setup(&self, _options: &mut ClientOptions) {}
}

/// The default `max_breadcrumb_bytes`: enough for 100 rich crumbs, well under the 1 MiB an
/// event may weigh.
pub const DEFAULT_MAX_BREADCRUMB_BYTES: usize = 256 * 1024;

/// Options of a client.
///
/// `..Default::default()` gives Sentry's defaults. [`init`](crate::Client) fills `dsn`,
/// `release`, `environment` and `debug` from `SENTRY_DSN`, `SENTRY_RELEASE`,
/// `SENTRY_ENVIRONMENT` and `SENTRY_DEBUG` when they are not set here.
///
/// ```
/// use crumbtrail_core::ClientOptions;
/// let options = ClientOptions {
///     dsn: Some("https://key@o1.ingest.sentry.io/7".into()),
///     release: Some("shop@1.4.2".into()),
///     sample_rate: 0.5,
///     ..Default::default()
/// };
/// assert_eq!(options.max_breadcrumbs, 100);
/// ```
#[derive(Clone)]
pub struct ClientOptions {
    /// Where to send events. `None` or empty disables the SDK; an invalid DSN fails init.
    pub dsn: Option<String>,
    /// The release, e.g. `shop@1.4.2`.
    pub release: Option<Cow<'static, str>>,
    /// The environment, e.g. `production`.
    pub environment: Option<Cow<'static, str>>,
    /// The distribution (build variant) of the release.
    pub dist: Option<Cow<'static, str>>,
    /// The host name reported on events.
    pub server_name: Option<Cow<'static, str>>,
    /// The share of error events sent, in [0, 1] (default 1).
    pub sample_rate: f64,
    /// A per-event sample rate; wins over `sample_rate`.
    pub error_sampler: Option<ErrorSampler>,
    /// The most breadcrumbs an event carries (default 100; clamped to 1000).
    pub max_breadcrumbs: usize,
    /// The most (estimated) bytes of breadcrumbs an event carries; older crumbs go first.
    pub max_breadcrumb_bytes: usize,
    /// Whether breadcrumbs are recorded at all (default true).
    pub enable_breadcrumbs: bool,
    /// Changes or drops each breadcrumb as it is recorded.
    pub before_breadcrumb: Option<BeforeBreadcrumb>,
    /// Changes or drops each error/message event before it is sent.
    pub before_send: Option<BeforeSend>,
    /// Changes or drops each transaction before it is sent.
    pub before_send_transaction: Option<BeforeSendTransaction>,
    /// The share of transactions to send, in [0, 1]; `None` (the default) turns performance
    /// monitoring off: [`start_transaction`](crate::start_transaction) then records nothing.
    /// Read from `SENTRY_TRACES_SAMPLE_RATE` when unset.
    pub traces_sample_rate: Option<f64>,
    /// Decides each transaction's sample rate instead of `traces_sample_rate` (and turns
    /// performance monitoring on by itself).
    pub traces_sampler: Option<TracesSampler>,
    /// Downsamples transactions (never errors) while the SDK is unhealthy — the queue
    /// overflowed or a rate limit is active — halving their rate at every check until it is
    /// healthy again; what that drops is counted as `backpressure` (default true).
    pub enable_backpressure_handling: bool,
    /// How often the sender's health is checked for backpressure (default 10 s, as in
    /// Sentry's SDKs).
    pub backpressure_check_interval: Duration,
    /// Errors not to send: an event is dropped when an exception type or value, or its
    /// message, contains one of these strings.
    pub ignore_errors: Vec<String>,
    /// Attaches the caller's stack trace to message events.
    pub attach_stacktrace: bool,
    /// Module prefixes that are the application's own code.
    pub in_app_include: Vec<String>,
    /// Module prefixes that are not the application's code.
    pub in_app_exclude: Vec<String>,
    /// Sends personal data (IPs, cookies, auth headers, inferred user) — default false.
    pub send_default_pii: bool,
    /// The key denylist applied to every event (§12); `None` turns scrubbing off.
    pub event_scrubber: Option<EventScrubber>,
    /// The longest a string value may be; longer ones are trimmed (default 1024).
    pub max_value_length: usize,
    /// How long the guard returned by `init` waits for delivery on drop (default 2 s).
    pub shutdown_timeout: Duration,
    /// The most captures queued for the background sender; more are dropped and counted as
    /// `queue_overflow` (default 30,000: a burst of 20,000 errors at once is kept whole).
    pub transport_queue_size: usize,
    /// The most (estimated) bytes of captures queued for the sender, whatever their number
    /// (default 32 MiB), so memory stays flat under a burst of large events.
    pub transport_queue_bytes: usize,
    /// Builds the transport (default: [`HttpTransport`](crate::HttpTransport) to the DSN).
    /// With a transport of your own, the HTTP options below are not used.
    pub transport: Option<TransportFactory>,
    /// The proxy for a DSN with `http://`, and for `https://` unless `https_proxy` is set,
    /// e.g. `http://proxy.internal:3128` (credentials as `http://user:pass@host:port`).
    /// `None` (the default) lets reqwest read `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` /
    /// `NO_PROXY` (or their lowercase forms) from the environment; `Some("")` turns proxies
    /// off, environment included. A proxy set here is used for every request; the
    /// environment, `NO_PROXY` included, is then not read. `http://` and `https://` proxies
    /// work; SOCKS does not (reqwest is built without it).
    pub http_proxy: Option<String>,
    /// The proxy for a DSN with `https://` (requests are tunnelled with `CONNECT`); falls back
    /// to `http_proxy`, then to the environment. `Some("")` turns proxies off.
    pub https_proxy: Option<String>,
    /// How long opening a connection (TCP and TLS, or to the proxy) may take (default 5 s).
    pub connect_timeout: Duration,
    /// How long one request may take, connecting and reading the answer included (default
    /// 30 s). After it the envelope is counted as lost (`network_error`). Applies to a
    /// `reqwest_client` of your own too.
    pub request_timeout: Duration,
    /// A `reqwest::Client` of your own for the HTTP transport (custom root certificates, a
    /// local address, ...). Its own proxy, connect-timeout and TLS settings are used instead of
    /// the options above; `request_timeout` still bounds each request. Its connections to the
    /// Sentry host run on crumbtrail's sender thread.
    pub reqwest_client: Option<reqwest::Client>,
    /// Reports client-side losses to the server (default true).
    pub send_client_reports: bool,
    /// Release health in request mode (default true): web integrations (the tower layer)
    /// count each request as a session — exited, errored (an exception, or an event at level
    /// error or fatal, was captured in it; messages never count) or crashed (an unhandled
    /// exception) — and the sender sends the counts per minute every 60 s and
    /// on flush and close. Needs a `release`: without one, nothing is recorded.
    pub auto_session_tracking: bool,
    /// How often pending losses are sent in a client report of their own (default 60 s);
    /// they also ride along on other envelopes every 30 s, and go out on every flush and close.
    pub client_report_interval: Duration,
    /// Mirrors every envelope to a local Spotlight sidecar (PROTOCOL.md §13); unset, the
    /// `SENTRY_SPOTLIGHT` variable decides. Never affects normal delivery.
    pub spotlight: crate::spotlight::Spotlight,
    /// Says what the SDK drops or fails to send and why, through `tracing` at target
    /// `crumbtrail` (install any subscriber to see it), at most once per cause every 10 s.
    pub debug: bool,
    /// Turns on the default integrations of the facade's features.
    pub default_integrations: bool,
    /// Extra integrations.
    pub integrations: Vec<Arc<dyn Integration>>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            dsn: None,
            release: None,
            environment: None,
            dist: None,
            server_name: None,
            sample_rate: 1.0,
            error_sampler: None,
            max_breadcrumbs: crumbtrail_protocol::limits::DEFAULT_MAX_BREADCRUMBS,
            max_breadcrumb_bytes: DEFAULT_MAX_BREADCRUMB_BYTES,
            enable_breadcrumbs: true,
            before_breadcrumb: None,
            before_send: None,
            before_send_transaction: None,
            traces_sample_rate: None,
            traces_sampler: None,
            enable_backpressure_handling: true,
            backpressure_check_interval: Duration::from_secs(10),
            ignore_errors: Vec::new(),
            attach_stacktrace: false,
            in_app_include: Vec::new(),
            in_app_exclude: Vec::new(),
            send_default_pii: false,
            event_scrubber: Some(EventScrubber::default()),
            max_value_length: 1024,
            shutdown_timeout: Duration::from_secs(2),
            transport_queue_size: 30_000,
            transport_queue_bytes: 32 * 1024 * 1024,
            transport: None,
            http_proxy: None,
            https_proxy: None,
            connect_timeout: crate::http::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: crate::http::DEFAULT_REQUEST_TIMEOUT,
            reqwest_client: None,
            spotlight: crate::spotlight::Spotlight::Unset,
            send_client_reports: true,
            auto_session_tracking: true,
            client_report_interval: Duration::from_secs(60),
            debug: false,
            default_integrations: true,
            integrations: Vec::new(),
        }
    }
}

impl ClientOptions {
    /// Whether performance monitoring is on: a `traces_sample_rate` or a `traces_sampler` is
    /// set. Integrations start transactions and spans only then.
    ///
    /// ```
    /// use crumbtrail_core::ClientOptions;
    /// assert!(!ClientOptions::default().traces_enabled());
    /// assert!(ClientOptions { traces_sample_rate: Some(0.1), ..Default::default() }.traces_enabled());
    /// ```
    pub fn traces_enabled(&self) -> bool {
        self.traces_sample_rate.is_some() || self.traces_sampler.is_some()
    }

    /// Whether web integrations count requests as release-health sessions:
    /// `auto_session_tracking` is on and a `release` is set.
    pub fn sessions_enabled(&self) -> bool {
        self.auto_session_tracking && self.release.is_some()
    }

    /// Fills unset `dsn`, `release`, `environment`, `traces_sample_rate` and `debug` from the
    /// `SENTRY_*` variables.
    pub fn apply_env_defaults(&mut self) {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        if self.dsn.is_none() {
            self.dsn = var("SENTRY_DSN");
        }
        if self.release.is_none() {
            self.release = var("SENTRY_RELEASE").map(Cow::Owned);
        }
        if self.environment.is_none() {
            self.environment = var("SENTRY_ENVIRONMENT").map(Cow::Owned);
        }
        if self.traces_sample_rate.is_none() {
            self.traces_sample_rate = var("SENTRY_TRACES_SAMPLE_RATE")
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|r| (0.0..=1.0).contains(r));
        }
        if !self.debug {
            self.debug = var("SENTRY_DEBUG").is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
            });
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("dsn", &self.dsn.as_ref().map(|_| "[set]"))
            .field("release", &self.release)
            .field("environment", &self.environment)
            .field("sample_rate", &self.sample_rate)
            .field("traces_sample_rate", &self.traces_sample_rate)
            .field("max_breadcrumbs", &self.max_breadcrumbs)
            .field("send_default_pii", &self.send_default_pii)
            .field("debug", &self.debug)
            .finish_non_exhaustive()
    }
}

impl From<&str> for ClientOptions {
    /// Options with just a DSN.
    fn from(dsn: &str) -> Self {
        ClientOptions {
            dsn: Some(dsn.to_owned()),
            ..Default::default()
        }
    }
}

impl From<String> for ClientOptions {
    /// Options with just a DSN.
    fn from(dsn: String) -> Self {
        ClientOptions {
            dsn: Some(dsn),
            ..Default::default()
        }
    }
}

impl<S: Into<String>> From<(S, ClientOptions)> for ClientOptions {
    /// A DSN plus options (the DSN wins over `options.dsn`).
    fn from((dsn, options): (S, ClientOptions)) -> Self {
        ClientOptions {
            dsn: Some(dsn.into()),
            ..options
        }
    }
}
