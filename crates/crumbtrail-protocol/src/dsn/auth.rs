//! Request authentication (PROTOCOL.md §2.2): the `X-Sentry-Auth` header and its query-string
//! fallback, written from a [`Dsn`] and read back into a [`SentryAuth`].

use std::fmt;
use std::str::FromStr;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::error::SentryAuthError;
use super::parse::Dsn;
use super::redact::REDACTED;

/// Bytes escaped in query-string values: everything but RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl Dsn {
    /// The `sentry_client` crumbtrail itself sends: `crumbtrail/<version>`.
    pub fn default_sentry_client() -> String {
        format!("{}/{}", crate::SDK_NAME, crate::SDK_VERSION)
    }

    /// The `X-Sentry-Auth` header value for this DSN:
    /// `Sentry sentry_key=<key>, sentry_version=7, sentry_client=<client>`, followed by
    /// `, sentry_secret=<secret>` only when the DSN has a secret key. `sentry_client` is left
    /// out when empty; `sentry_timestamp` is never sent.
    ///
    /// ```
    /// use crumbtrail_protocol::Dsn;
    /// let dsn: Dsn = "https://abc123:s3@o42.ingest.sentry.io/7".parse().unwrap();
    /// assert_eq!(
    ///     dsn.auth_header_value("crumbtrail/0.1.0"),
    ///     "Sentry sentry_key=abc123, sentry_version=7, sentry_client=crumbtrail/0.1.0, \
    ///      sentry_secret=s3",
    /// );
    /// ```
    pub fn auth_header_value(&self, sentry_client: &str) -> String {
        SentryAuth::for_dsn(self, sentry_client).to_header_value()
    }

    /// The envelope endpoint with the credentials in its query string, for clients that
    /// cannot set headers: `{envelope}?sentry_key=…&sentry_version=7&sentry_client=…`
    /// (values percent-encoded; `&sentry_secret=…` only when the DSN has one).
    ///
    /// ```
    /// use crumbtrail_protocol::Dsn;
    /// let dsn: Dsn = "https://abc123@o42.ingest.sentry.io/7".parse().unwrap();
    /// assert_eq!(
    ///     dsn.envelope_url_with_auth_query("crumbtrail/0.1.0"),
    ///     "https://o42.ingest.sentry.io/api/7/envelope/\
    ///      ?sentry_key=abc123&sentry_version=7&sentry_client=crumbtrail%2F0.1.0",
    /// );
    /// ```
    pub fn envelope_url_with_auth_query(&self, sentry_client: &str) -> String {
        let auth = SentryAuth::for_dsn(self, sentry_client);
        format!("{}?{}", self.envelope_url(), auth.to_query())
    }
}

/// Credentials sent with a request: what `X-Sentry-Auth` (or the query-string form) carries.
///
/// `Debug` never shows the secret.
///
/// ```
/// use crumbtrail_protocol::{Dsn, SentryAuth};
/// let auth: SentryAuth = "sentry sentry_key=abc123,sentry_version=7, sentry_client=x/1"
///     .parse()
///     .unwrap();
/// assert_eq!(auth.key, "abc123");
/// assert_eq!(auth.version, Some(7));
/// assert_eq!(auth.client.as_deref(), Some("x/1"));
/// let dsn: Dsn = "https://abc123@o42.ingest.sentry.io/7".parse().unwrap();
/// assert!(auth.matches_dsn(&dsn));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SentryAuth {
    /// `sentry_key`: the DSN's public key. Never empty in a parsed value.
    pub key: String,
    /// `sentry_secret`: the deprecated secret key, if sent (an empty value counts as absent).
    pub secret: Option<String>,
    /// `sentry_version`: the protocol version (crumbtrail sends 7), if sent.
    pub version: Option<u32>,
    /// `sentry_client`: `<sdk-name>/<sdk-version>`, if sent (an empty value counts as absent).
    pub client: Option<String>,
}

impl SentryAuth {
    /// The credentials for `dsn`, with `sentry_version` 7 and the given `sentry_client`.
    pub fn for_dsn(dsn: &Dsn, sentry_client: &str) -> Self {
        SentryAuth {
            key: dsn.public_key().to_owned(),
            secret: dsn.secret_key().map(str::to_owned),
            version: Some(crate::PROTOCOL_VERSION),
            client: (!sentry_client.is_empty()).then(|| sentry_client.to_owned()),
        }
    }

    /// Reads an `X-Sentry-Auth` value: the word `Sentry` (any case) and whitespace, then
    /// `key=value` pairs separated by `,` with optional spaces. Keys may omit the `sentry_`
    /// prefix (as the server allows); unknown keys such as `sentry_timestamp` are ignored.
    pub fn parse_header(value: &str) -> Result<Self, SentryAuthError> {
        let value = value.trim();
        let rest = match value.get(..6) {
            Some(word) if word.eq_ignore_ascii_case("sentry") => &value[6..],
            _ => return Err(SentryAuthError::MissingPrefix),
        };
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            return Err(SentryAuthError::MissingPrefix);
        }
        let mut fields = Fields::default();
        for (i, part) in rest.split(',').enumerate() {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (k, v) = part
                .split_once('=')
                .ok_or(SentryAuthError::MalformedPair { index: i + 1 })?;
            fields.set(k.trim(), v.trim());
        }
        fields.finish()
    }

    /// Reads the query-string form (`sentry_key=…&sentry_version=7&…`, with or without the
    /// leading `?`; values percent-decoded). Other parameters are ignored.
    pub fn parse_query(query: &str) -> Result<Self, SentryAuthError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut fields = Fields::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            fields.set(&k, &v);
        }
        fields.finish()
    }

    /// Writes the `X-Sentry-Auth` value: `Sentry sentry_key=…, sentry_version=…,
    /// sentry_client=…, sentry_secret=…`, leaving out the parts that are `None`.
    pub fn to_header_value(&self) -> String {
        let mut out = format!("Sentry sentry_key={}", self.key);
        for (name, value) in self.optional_pairs() {
            out.push_str(&format!(", {name}={value}"));
        }
        out
    }

    /// Writes the query-string form (without the leading `?`), values percent-encoded.
    pub fn to_query(&self) -> String {
        let mut out = format!("sentry_key={}", utf8_percent_encode(&self.key, QUERY_VALUE));
        for (name, value) in self.optional_pairs() {
            out.push_str(&format!(
                "&{name}={}",
                utf8_percent_encode(&value, QUERY_VALUE)
            ));
        }
        out
    }

    /// Whether these credentials authenticate for `dsn`: the key must equal its public key,
    /// and a secret, when one is sent, must equal its secret key.
    pub fn matches_dsn(&self, dsn: &Dsn) -> bool {
        self.key == dsn.public_key()
            && self
                .secret
                .as_deref()
                .is_none_or(|s| Some(s) == dsn.secret_key())
    }

    /// The pairs after `sentry_key`, in wire order.
    fn optional_pairs(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        let version = self.version.map(|v| ("sentry_version", v.to_string()));
        let client = self.client.clone().map(|c| ("sentry_client", c));
        let secret = self.secret.clone().map(|s| ("sentry_secret", s));
        [version, client, secret].into_iter().flatten()
    }
}

impl FromStr for SentryAuth {
    type Err = SentryAuthError;

    /// Same as [`SentryAuth::parse_header`].
    fn from_str(s: &str) -> Result<Self, SentryAuthError> {
        SentryAuth::parse_header(s)
    }
}

impl fmt::Debug for SentryAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryAuth")
            .field("key", &self.key)
            .field("secret", &self.secret.as_ref().map(|_| REDACTED))
            .field("version", &self.version)
            .field("client", &self.client)
            .finish()
    }
}

/// The pairs collected while reading either form; later duplicates win.
#[derive(Default)]
struct Fields {
    key: Option<String>,
    secret: Option<String>,
    version: Option<String>,
    client: Option<String>,
}

impl Fields {
    fn set(&mut self, name: &str, value: &str) {
        let slot = match name.strip_prefix("sentry_").unwrap_or(name) {
            "key" => &mut self.key,
            "secret" => &mut self.secret,
            "version" => &mut self.version,
            "client" => &mut self.client,
            _ => return,
        };
        *slot = (!value.is_empty()).then(|| value.to_owned());
    }

    fn finish(self) -> Result<SentryAuth, SentryAuthError> {
        let version = match self.version {
            None => None,
            Some(v) => Some(
                v.parse()
                    .map_err(|_| SentryAuthError::InvalidVersion { value: v })?,
            ),
        };
        Ok(SentryAuth {
            key: self.key.ok_or(SentryAuthError::MissingKey)?,
            secret: self.secret,
            version,
            client: self.client,
        })
    }
}
