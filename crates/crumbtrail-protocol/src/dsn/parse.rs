//! The [`Dsn`] type: parsing (§1.1), re-serializing and the derived endpoints (§1.4).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use url::Url;

use super::error::DsnError;
use super::redact::{REDACTED, redact_parsed, redact_unparsed};

/// The scheme of a DSN: `https` or `http`.
///
/// ```
/// use crumbtrail_protocol::Scheme;
/// assert_eq!(Scheme::Https.default_port(), 443);
/// assert_eq!(Scheme::Http.to_string(), "http");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Plain HTTP (default port 80).
    Http,
    /// HTTPS (default port 443).
    Https,
}

impl Scheme {
    /// The scheme as written in a URL.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// The port used when the DSN names none: 80 or 443.
    pub const fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed, validated DSN (PROTOCOL.md §1).
///
/// Parse with [`str::parse`] (or [`Dsn::parse_optional`] for a configuration value where an
/// empty string means "SDK disabled"). `Display` (and `Serialize`) write the DSN back,
/// including its secret key, with a default port left out; `Debug` never shows the secret.
///
/// Keys, host and path are kept exactly as the URL parser normalizes them (host lowercased,
/// path percent-encoded), so `to_string()` always parses back to an equal `Dsn`.
///
/// ```
/// use crumbtrail_protocol::{Dsn, Scheme};
///
/// let dsn: Dsn = "https://pk@example.com/sentry/relay/5".parse().unwrap();
/// assert_eq!(dsn.scheme(), Scheme::Https);
/// assert_eq!(dsn.public_key(), "pk");
/// assert_eq!(dsn.secret_key(), None);
/// assert_eq!(dsn.host(), "example.com");
/// assert_eq!(dsn.port(), 443);
/// assert_eq!(dsn.path_prefix(), "/sentry/relay/");
/// assert_eq!(dsn.project_id(), "5");
/// assert_eq!(dsn.base_url(), "https://example.com/sentry/relay/");
/// assert_eq!(dsn.to_string(), "https://pk@example.com/sentry/relay/5");
///
/// assert_eq!(Dsn::parse_optional("  ").unwrap(), None);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Dsn {
    scheme: Scheme,
    public_key: String,
    secret_key: Option<String>,
    host: String,
    port: Option<u16>,
    path_prefix: String,
    project_id: String,
    org_id: Option<u64>,
}

impl Dsn {
    /// Parses a configuration value where an empty or whitespace-only string means "no DSN,
    /// SDK disabled" (`Ok(None)`); anything else must be a valid DSN.
    pub fn parse_optional(s: &str) -> Result<Option<Dsn>, DsnError> {
        if s.trim().is_empty() {
            Ok(None)
        } else {
            s.parse().map(Some)
        }
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The public key (the URL's user name, as written), sent as `sentry_key`.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The deprecated secret key (the URL's password), if the DSN has a non-empty one.
    pub fn secret_key(&self) -> Option<&str> {
        self.secret_key.as_deref()
    }

    /// The host; an IPv6 address keeps its brackets (`[::1]`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port written in the DSN, or `None` when it names none or names the scheme's
    /// default (`https://pk@host:443/1` has `None`).
    pub fn explicit_port(&self) -> Option<u16> {
        self.port
    }

    /// The port to connect to: the explicit one, else 443 for https and 80 for http.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    /// The path before the project id; always starts and ends with `/` (`/` when none).
    pub fn path_prefix(&self) -> &str {
        &self.path_prefix
    }

    /// The project id: one or more ASCII digits, kept as written.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The organization id, read from hosts of the form `o<digits>.ingest.sentry.io` or
    /// `o<digits>.ingest.<region>.sentry.io`; `None` for any other host.
    pub fn org_id(&self) -> Option<u64> {
        self.org_id
    }

    /// `{scheme}://{host}[:{port}]{path_prefix}`, the port only when not the default.
    pub fn base_url(&self) -> String {
        let mut out = format!("{}://{}", self.scheme, self.host);
        if let Some(port) = self.port {
            out.push_str(&format!(":{port}"));
        }
        out.push_str(&self.path_prefix);
        out
    }

    /// `{base}api/{project_id}/envelope/`: where envelopes are POSTed.
    pub fn envelope_url(&self) -> String {
        format!("{}api/{}/envelope/", self.base_url(), self.project_id)
    }

    /// `{base}api/{project_id}/store/`: the legacy, deprecated one-event-per-POST endpoint.
    pub fn store_url(&self) -> String {
        format!("{}api/{}/store/", self.base_url(), self.project_id)
    }
}

/// The organization id of `o<digits>.ingest.sentry.io` and `o<digits>.ingest.<region>.sentry.io`.
fn org_id_from_host(host: &str) -> Option<u64> {
    let labels: Vec<&str> = host.split('.').collect();
    let shape_ok = match labels.as_slice() {
        [_, "ingest", "sentry", "io"] => true,
        [_, "ingest", region, "sentry", "io"] => !region.is_empty(),
        _ => false,
    };
    let digits = labels.first()?.strip_prefix('o')?;
    if !shape_ok || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

impl FromStr for Dsn {
    type Err = DsnError;

    /// Follows PROTOCOL.md §1.1: parse as an absolute URL, require http(s), strip one trailing
    /// `/` from the path, split it at its last `/` into prefix and project id. Query and
    /// fragment are ignored. An empty or whitespace-only string is [`DsnError::Empty`].
    fn from_str(s: &str) -> Result<Self, DsnError> {
        if s.trim().is_empty() {
            return Err(DsnError::Empty);
        }
        let url = Url::parse(s).map_err(|reason| {
            let dsn = redact_unparsed(s);
            match reason {
                url::ParseError::RelativeUrlWithoutBase => DsnError::MissingScheme { dsn },
                url::ParseError::EmptyHost => DsnError::MissingHost { dsn },
                url::ParseError::InvalidPort => DsnError::InvalidPort { dsn },
                reason => DsnError::InvalidUrl { dsn, reason },
            }
        })?;
        let dsn = || redact_parsed(s, &url);

        let scheme = match url.scheme() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            other => {
                return Err(DsnError::UnsupportedScheme {
                    dsn: dsn(),
                    scheme: other.to_owned(),
                });
            }
        };
        if url.username().is_empty() {
            return Err(DsnError::MissingPublicKey { dsn: dsn() });
        }
        let host = match url.host_str() {
            Some(h) if !h.is_empty() => h.to_owned(),
            _ => return Err(DsnError::MissingHost { dsn: dsn() }),
        };

        let path = url.path();
        let path = path.strip_suffix('/').unwrap_or(path);
        if path.is_empty() || path == "/" {
            return Err(DsnError::MissingProjectId { dsn: dsn() });
        }
        let (head, project_id) = path.rsplit_once('/').unwrap_or(("", path));
        if project_id.is_empty() {
            return Err(DsnError::MissingProjectId { dsn: dsn() });
        }
        if !project_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DsnError::NonNumericProjectId {
                dsn: dsn(),
                project_id: project_id.to_owned(),
            });
        }

        Ok(Dsn {
            scheme,
            public_key: url.username().to_owned(),
            secret_key: url.password().filter(|p| !p.is_empty()).map(str::to_owned),
            org_id: org_id_from_host(&host),
            host,
            port: url.port(),
            path_prefix: format!("{head}/"),
            project_id: project_id.to_owned(),
        })
    }
}

impl fmt::Display for Dsn {
    /// The full DSN, secret key included; the default port is left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.public_key)?;
        if let Some(secret) = &self.secret_key {
            write!(f, ":{secret}")?;
        }
        write!(f, "@{}", self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}{}", self.path_prefix, self.project_id)
    }
}

impl fmt::Debug for Dsn {
    /// Every part except the secret key, which shows as `"[redacted]"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dsn")
            .field("scheme", &self.scheme)
            .field("public_key", &self.public_key)
            .field("secret_key", &self.secret_key.as_ref().map(|_| REDACTED))
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path_prefix", &self.path_prefix)
            .field("project_id", &self.project_id)
            .field("org_id", &self.org_id)
            .finish()
    }
}

impl Serialize for Dsn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dsn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DsnVisitor;

        impl Visitor<'_> for DsnVisitor {
            type Value = Dsn;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a DSN string like https://<public-key>@<host>/<project-id>")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dsn, E> {
                v.parse().map_err(E::custom)
            }
        }

        d.deserialize_str(DsnVisitor)
    }
}
