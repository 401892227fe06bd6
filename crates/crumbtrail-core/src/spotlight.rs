//! Spotlight (PROTOCOL.md §13): every envelope the SDK produces is also posted, uncompressed
//! and without auth, to a local Spotlight sidecar — independently of normal delivery, which a
//! failing or absent sidecar never affects.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crumbtrail_protocol::Envelope;

/// The sidecar's default address.
pub const DEFAULT_SPOTLIGHT_URL: &str = "http://localhost:8969/stream";

/// The `spotlight` option: `false`, `true` (the default address) or an address. Unset, the
/// `SENTRY_SPOTLIGHT` variable decides.
///
/// ```
/// use crumbtrail_core::Spotlight;
/// assert_eq!(Spotlight::Enabled.resolve(None), Some("http://localhost:8969/stream".into()));
/// assert_eq!(Spotlight::Unset.resolve(Some("http://127.0.0.1:9/x")), Some("http://127.0.0.1:9/x".into()));
/// assert_eq!(Spotlight::Disabled.resolve(Some("true")), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Spotlight {
    /// Not configured: `SENTRY_SPOTLIGHT` decides.
    #[default]
    Unset,
    /// Off, whatever `SENTRY_SPOTLIGHT` says.
    Disabled,
    /// On, at the default address unless `SENTRY_SPOTLIGHT` names another.
    Enabled,
    /// On, at this address (wins over `SENTRY_SPOTLIGHT`).
    Url(String),
}

/// What a `SENTRY_SPOTLIGHT` value means.
enum EnvValue {
    On,
    Off,
    Url(String),
}

fn parse_env(value: &str) -> Option<EnvValue> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    Some(match v.to_ascii_lowercase().as_str() {
        "true" | "t" | "y" | "yes" | "on" | "1" => EnvValue::On,
        "false" | "f" | "n" | "no" | "off" | "0" => EnvValue::Off,
        _ => EnvValue::Url(v.to_owned()),
    })
}

impl Spotlight {
    /// The address to mirror to, given the value of `SENTRY_SPOTLIGHT`, by the §13
    /// precedence: config `Disabled` wins over everything; a config URL wins over the
    /// variable; config `Enabled` with a URL in the variable uses that URL; unset, the
    /// variable decides.
    pub fn resolve(&self, env: Option<&str>) -> Option<String> {
        let env = env.and_then(parse_env);
        match (self, env) {
            (Spotlight::Disabled, _) => None,
            (Spotlight::Url(url), _) => Some(url.clone()),
            (Spotlight::Enabled, Some(EnvValue::Url(url))) => Some(url),
            (Spotlight::Enabled, _) => Some(DEFAULT_SPOTLIGHT_URL.to_owned()),
            (Spotlight::Unset, Some(EnvValue::On)) => Some(DEFAULT_SPOTLIGHT_URL.to_owned()),
            (Spotlight::Unset, Some(EnvValue::Url(url))) => Some(url),
            (Spotlight::Unset, Some(EnvValue::Off) | None) => None,
        }
    }
}

/// Failures back off exponentially: 1 s doubling to 60 s, no mirroring meanwhile.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The sender's mirror to the sidecar.
pub(crate) struct Mirror {
    url: String,
    client: reqwest::Client,
    backoff: Mutex<Backoff>,
}

#[derive(Default)]
struct Backoff {
    until: Option<Instant>,
    next: Option<Duration>,
}

impl Mirror {
    /// A mirror to `url`; `None` if no HTTP client can be built.
    pub(crate) fn new(url: String) -> Option<Mirror> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .no_proxy()
            .build()
            .ok()?;
        Some(Mirror {
            url,
            client,
            backoff: Mutex::default(),
        })
    }

    /// Whether a mirror attempt may be made now (not inside a backoff window).
    pub(crate) fn ready(&self) -> bool {
        let b = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        b.until.is_none_or(|until| Instant::now() >= until)
    }

    /// Posts a copy of `envelope`. Returns the error text when the sidecar could not take it
    /// (and starts or lengthens the backoff); `Ok` resets the backoff.
    pub(crate) async fn send(&self, envelope: &Envelope) -> Result<(), String> {
        let result = self
            .client
            .post(&self.url)
            .header("content-type", "application/x-sentry-envelope")
            .body(envelope.to_bytes())
            .send()
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| {
                if r.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("HTTP {}", r.status().as_u16()))
                }
            });
        let mut b = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        match &result {
            Ok(()) => *b = Backoff::default(),
            Err(_) => {
                let wait = b.next.unwrap_or(FIRST_BACKOFF);
                b.until = Some(Instant::now() + wait);
                b.next = Some((wait * 2).min(MAX_BACKOFF));
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_follows_the_protocol() {
        let url = "http://127.0.0.1:1/stream";
        let cases: &[(Spotlight, Option<&str>, Option<&str>)] = &[
            (Spotlight::Disabled, Some("true"), None),
            (Spotlight::Disabled, Some(url), None),
            (
                Spotlight::Url(url.into()),
                Some("http://other/x"),
                Some(url),
            ),
            (Spotlight::Url(url.into()), Some("false"), Some(url)),
            (Spotlight::Enabled, Some(url), Some(url)),
            (Spotlight::Enabled, Some("no"), Some(DEFAULT_SPOTLIGHT_URL)),
            (Spotlight::Enabled, None, Some(DEFAULT_SPOTLIGHT_URL)),
            (Spotlight::Unset, Some("YES"), Some(DEFAULT_SPOTLIGHT_URL)),
            (Spotlight::Unset, Some("1"), Some(DEFAULT_SPOTLIGHT_URL)),
            (Spotlight::Unset, Some("off"), None),
            (Spotlight::Unset, Some(url), Some(url)),
            (Spotlight::Unset, Some("  "), None),
            (Spotlight::Unset, None, None),
        ];
        for (config, env, want) in cases {
            assert_eq!(
                config.resolve(*env).as_deref(),
                *want,
                "{config:?} with {env:?}"
            );
        }
    }
}
