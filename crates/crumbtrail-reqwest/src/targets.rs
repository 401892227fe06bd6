//! Which outgoing requests get trace headers (PROTOCOL.md §9.3: `trace_propagation_targets`).

use std::fmt;
use std::sync::Arc;

use crumbtrail_core::protocol::Dsn;
use reqwest::Url;

/// One entry of `trace_propagation_targets`: a rule a request URL must match for the
/// middleware to add `sentry-trace`, `baggage` (and `traceparent`) to it.
///
/// Rules are matched against the whole URL as sent (`https://api.example.com:8443/v1/cart?x=1`):
///
/// - a plain string matches when it occurs anywhere in the URL (`"api.example.com"`);
/// - a string with `*` is a pattern over the whole URL, where `*` stands for any run of
///   characters (`"https://api.example.com/*"`, `"*.internal/*"`, `"*"`);
/// - `".*"`, Sentry's documented default, matches every URL; other regex syntax is not
///   interpreted — use [`PropagationTarget::custom`] with the regex crate of your choice.
///
/// ```
/// use crumbtrail_reqwest::PropagationTarget;
/// let api = PropagationTarget::from("https://api.example.com/*");
/// assert!(api.matches("https://api.example.com/v1/cart"));
/// assert!(!api.matches("https://evil.example.org/?https://api.example.com/"));
///
/// let internal = PropagationTarget::from("svc.internal");
/// assert!(internal.matches("http://cart.svc.internal:8080/items"));
///
/// let health = PropagationTarget::custom(|url| url.ends_with(":8080/health"));
/// assert!(health.matches("http://10.0.0.1:8080/health"));
/// ```
#[derive(Clone)]
pub struct PropagationTarget(Rule);

#[derive(Clone)]
enum Rule {
    All,
    Substring(Box<str>),
    /// The pattern split at its `*`s: at least two parts.
    Pattern(Box<[Box<str>]>),
    Custom(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

impl PropagationTarget {
    /// Matches every URL (the default target list is just this).
    pub fn all() -> Self {
        PropagationTarget(Rule::All)
    }

    /// Matches URLs that contain `text` (taken literally, `*` included).
    pub fn substring(text: impl Into<String>) -> Self {
        PropagationTarget(Rule::Substring(text.into().into_boxed_str()))
    }

    /// Matches URLs that the whole of `pattern` matches, each `*` standing for any run of
    /// characters; without a `*` the URL must equal `pattern`.
    pub fn pattern(pattern: &str) -> Self {
        if pattern.chars().all(|c| c == '*') && !pattern.is_empty() {
            return PropagationTarget::all();
        }
        PropagationTarget(Rule::Pattern(pattern.split('*').map(Box::from).collect()))
    }

    /// Matches URLs for which `matcher` returns true (a regex, a parsed-host check, ...). A
    /// matcher that panics counts as "no match".
    pub fn custom(matcher: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        PropagationTarget(Rule::Custom(Arc::new(matcher)))
    }

    /// Whether `url` matches this rule.
    pub fn matches(&self, url: &str) -> bool {
        match &self.0 {
            Rule::All => true,
            Rule::Substring(text) => url.contains(&**text),
            Rule::Pattern(parts) => pattern_matches(parts, url),
            Rule::Custom(matcher) => crumbtrail_core::sdk_work(|| matcher(url)).unwrap_or(false),
        }
    }
}

impl From<&str> for PropagationTarget {
    /// `".*"` → [`all`](PropagationTarget::all); a string with `*` →
    /// [`pattern`](PropagationTarget::pattern); anything else →
    /// [`substring`](PropagationTarget::substring).
    fn from(text: &str) -> Self {
        if text == ".*" {
            PropagationTarget::all()
        } else if text.contains('*') {
            PropagationTarget::pattern(text)
        } else {
            PropagationTarget::substring(text)
        }
    }
}

impl From<String> for PropagationTarget {
    /// Same as `From<&str>`.
    fn from(text: String) -> Self {
        PropagationTarget::from(text.as_str())
    }
}

impl From<&String> for PropagationTarget {
    /// Same as `From<&str>`.
    fn from(text: &String) -> Self {
        PropagationTarget::from(text.as_str())
    }
}

impl fmt::Debug for PropagationTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Rule::All => f.write_str("PropagationTarget::all()"),
            Rule::Substring(text) => write!(f, "PropagationTarget::substring({text:?})"),
            Rule::Pattern(parts) => write!(f, "PropagationTarget::pattern({:?})", parts.join("*")),
            Rule::Custom(_) => f.write_str("PropagationTarget::custom(..)"),
        }
    }
}

/// Whether `parts` (a pattern split at `*`) matches the whole of `text`.
fn pattern_matches(parts: &[Box<str>], text: &str) -> bool {
    let [first, middle @ .., last] = parts else {
        // No `*`: the text must equal the pattern.
        return parts.first().is_some_and(|p| **p == *text);
    };
    let Some(mut rest) = text.strip_prefix(&**first) else {
        return false;
    };
    for part in middle {
        match rest.split_once(&**part) {
            Some((_, after)) => rest = after,
            None => return false,
        }
    }
    rest.ends_with(&**last)
}

/// Whether the request goes to the Sentry server of `dsn` (same host and port): such requests
/// never get trace headers.
pub(crate) fn is_sentry_request(url: &Url, dsn: Option<&Dsn>) -> bool {
    let (Some(dsn), Some(host)) = (dsn, url.host_str()) else {
        return false;
    };
    let unbracket = |h: &str| h.trim_start_matches('[').trim_end_matches(']').to_owned();
    unbracket(host).eq_ignore_ascii_case(&unbracket(dsn.host()))
        && url.port_or_known_default() == Some(dsn.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_strings_are_substrings() {
        let t = PropagationTarget::from("api.example.com");
        assert!(t.matches("https://api.example.com/v1"));
        assert!(t.matches("http://x.test/?next=api.example.com"));
        assert!(!t.matches("https://api.example.org/v1"));
        // Case-sensitive, as a substring or regex test would be.
        assert!(!t.matches("https://API.EXAMPLE.COM/"));
        // The empty string occurs in every URL.
        assert!(PropagationTarget::from("").matches("https://a.test/"));
    }

    #[test]
    fn stars_make_an_anchored_pattern() {
        let prefix = PropagationTarget::from("https://api.example.com/*");
        assert!(prefix.matches("https://api.example.com/"));
        assert!(prefix.matches("https://api.example.com/v1/cart?x=1"));
        assert!(!prefix.matches("http://api.example.com/v1"));
        assert!(!prefix.matches("https://evil.test/?u=https://api.example.com/"));

        let middle = PropagationTarget::from("https://*.internal:8080/*");
        assert!(middle.matches("https://cart.svc.internal:8080/items"));
        assert!(!middle.matches("https://cart.svc.internal:9090/items"));

        let suffix = PropagationTarget::from("*/health");
        assert!(suffix.matches("http://a.test/health"));
        assert!(!suffix.matches("http://a.test/health/deep"));

        // Overlapping prefix and suffix must not share characters.
        let ab = PropagationTarget::pattern("ab*ba");
        assert!(ab.matches("abba"));
        assert!(ab.matches("abxba"));
        assert!(!ab.matches("aba"));

        // No star: exact equality.
        let exact = PropagationTarget::pattern("http://a.test/");
        assert!(exact.matches("http://a.test/"));
        assert!(!exact.matches("http://a.test/x"));
    }

    #[test]
    fn match_all_spellings() {
        for t in [
            PropagationTarget::all(),
            PropagationTarget::from(".*"),
            PropagationTarget::from("*"),
            PropagationTarget::from("**"),
        ] {
            assert!(t.matches("https://anything.test/x?y#z"), "{t:?}");
            assert!(t.matches(""), "{t:?}");
        }
        // Other regex syntax is literal text.
        assert!(!PropagationTarget::from("^https://").matches("https://a.test/"));
    }

    #[test]
    fn custom_matchers_and_their_panics() {
        let t = PropagationTarget::custom(|u| u.len() > 10);
        assert!(t.matches("https://a.test/"));
        assert!(!t.matches("http://a"));
        let boom = PropagationTarget::custom(|_| panic!("bad matcher"));
        assert!(!boom.matches("https://a.test/"));
        assert_eq!(format!("{boom:?}"), "PropagationTarget::custom(..)");
    }

    #[test]
    fn the_sentry_host_is_recognised_by_host_and_port() {
        let dsn: Dsn = "https://key@o1.ingest.sentry.io/1".parse().unwrap();
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(is_sentry_request(
            &url("https://o1.ingest.sentry.io/api/1/envelope/"),
            Some(&dsn)
        ));
        assert!(is_sentry_request(
            &url("https://O1.INGEST.SENTRY.IO:443/x"),
            Some(&dsn)
        ));
        assert!(!is_sentry_request(
            &url("http://o1.ingest.sentry.io/x"),
            Some(&dsn)
        ));
        assert!(!is_sentry_request(
            &url("https://api.example.com/"),
            Some(&dsn)
        ));
        assert!(!is_sentry_request(
            &url("https://o1.ingest.sentry.io/"),
            None
        ));

        let local: Dsn = "http://devkey@127.0.0.1:8989/1".parse().unwrap();
        assert!(is_sentry_request(
            &url("http://127.0.0.1:8989/api/1/envelope/"),
            Some(&local)
        ));
        assert!(!is_sentry_request(
            &url("http://127.0.0.1:8990/"),
            Some(&local)
        ));
    }
}
