//! Parsing the `X-Sentry-Rate-Limits` and `Retry-After` headers (PROTOCOL.md §6.1).

use std::fmt;
use std::time::{Duration, SystemTime};

use crate::category::DataCategory;

/// One entry of an `X-Sentry-Rate-Limits` header.
///
/// `Display` writes it back in the header grammar (`60:transaction;span:key:usage_exceeded`).
///
/// ```
/// use std::time::Duration;
/// use crumbtrail_protocol::{parse_rate_limits, DataCategory};
///
/// let limits = parse_rate_limits("60:transaction:key, 30::organization:quota_exceeded");
/// assert_eq!(limits[0].retry_after, Duration::from_secs(60));
/// assert_eq!(limits[0].categories, [DataCategory::Transaction]);
/// assert!(limits[1].is_global());
/// assert_eq!(limits[1].to_string(), "30::organization:quota_exceeded");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    /// How long the limit lasts (whole seconds; decimals are rounded up).
    pub retry_after: Duration,
    /// The limited categories, unknown names included; empty means every category.
    pub categories: Vec<DataCategory>,
    /// `organization`, `project`, `key`, ... (informational).
    pub scope: Option<String>,
    /// Why, e.g. `usage_exceeded` (informational).
    pub reason_code: Option<String>,
}

impl RateLimit {
    /// Whether this limit applies to every category.
    pub fn is_global(&self) -> bool {
        self.categories.is_empty()
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        write!(f, "{secs}:")?;
        for (i, category) in self.categories.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            f.write_str(category.as_str())?;
        }
        write!(f, ":{}", self.scope.as_deref().unwrap_or(""))?;
        if let Some(reason) = &self.reason_code {
            write!(f, ":{reason}")?;
        }
        Ok(())
    }
}

/// Parses an `X-Sentry-Rate-Limits` header value.
///
/// Follows §6.1: entries are separated by `,`, fields by `:`, categories by `;`, with spaces
/// around separators ignored. `retry_after` may be an integer or a decimal (rounded up to whole
/// seconds); an entry whose `retry_after` is not a number is skipped. Namespaces and extra
/// fields are ignored; empty scope and reason fields read as `None`. Leniently, an entry with
/// no `:` at all (`"60"`) is a global limit, as in Sentry's Rust SDK. Never panics.
pub fn parse_rate_limits(header: &str) -> Vec<RateLimit> {
    header.split(',').filter_map(parse_entry).collect()
}

fn parse_entry(entry: &str) -> Option<RateLimit> {
    let mut fields = entry.split(':').map(str::trim);
    let retry_after = parse_seconds(fields.next()?)?;
    let categories = fields
        .next()
        .unwrap_or("")
        .split(';')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| c.parse().unwrap_or_else(|never| match never {}))
        .collect();
    let mut text = || fields.next().filter(|s| !s.is_empty()).map(str::to_owned);
    let scope = text();
    let reason_code = text();
    Some(RateLimit {
        retry_after,
        categories,
        scope,
        reason_code,
    })
}

/// `digits [ "." digits ]` (either side may be empty, not both) → whole seconds, rounded up,
/// saturating at `u64::MAX`.
fn parse_seconds(s: &str) -> Option<Duration> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) {
        return None;
    }
    let secs = whole.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    });
    let round_up = frac.bytes().any(|b| b != b'0');
    Some(Duration::from_secs(
        secs.saturating_add(u64::from(round_up)),
    ))
}

/// Parses a `Retry-After` value: whole seconds (a decimal is rounded up) or an HTTP-date.
/// A date at or before `now` gives zero. `None` when the value is neither. Never panics.
///
/// ```
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
/// use crumbtrail_protocol::parse_retry_after;
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_772_366_400); // 2026-03-01 12:00:00 UTC
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(
///     parse_retry_after("Sun, 01 Mar 2026 12:01:30 GMT", now),
///     Some(Duration::from_secs(90))
/// );
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Some(secs) = parse_seconds(value) {
        return Some(secs);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn limit(secs: u64, cats: &[DataCategory], scope: &str, reason: Option<&str>) -> RateLimit {
        RateLimit {
            retry_after: Duration::from_secs(secs),
            categories: cats.to_vec(),
            scope: Some(scope.to_owned()),
            reason_code: reason.map(str::to_owned),
        }
    }

    #[test]
    fn golden_section_6_1_examples() {
        use DataCategory as C;
        assert_eq!(
            parse_rate_limits("60:transaction:key, 2700:default;error;security:organization"),
            [
                limit(60, &[C::Transaction], "key", None),
                limit(
                    2700,
                    &[C::Default, C::Error, C::Security],
                    "organization",
                    None
                ),
            ]
        );
        assert_eq!(
            parse_rate_limits("30::organization:quota_exceeded"),
            [limit(30, &[], "organization", Some("quota_exceeded"))]
        );
        assert_eq!(
            parse_rate_limits("120:log_item;log_byte:project:usage_exceeded"),
            [limit(
                120,
                &[C::LogItem, C::LogByte],
                "project",
                Some("usage_exceeded")
            )]
        );
    }

    #[test]
    fn spaces_around_separators_are_ignored() {
        let parsed = parse_rate_limits(" 60 : transaction ; span : key : usage_exceeded ,30::");
        assert_eq!(
            parsed[0],
            limit(
                60,
                &[DataCategory::Transaction, DataCategory::Span],
                "key",
                Some("usage_exceeded")
            )
        );
        assert_eq!(parsed[1].retry_after, Duration::from_secs(30));
        assert!(parsed[1].is_global());
        assert_eq!(parsed[1].scope, None);
    }

    #[test]
    fn decimals_round_up() {
        let secs = |h: &str| parse_rate_limits(h)[0].retry_after.as_secs();
        assert_eq!(secs("1.2:error:key"), 2);
        assert_eq!(secs("1.000:error:key"), 1);
        assert_eq!(secs("0.001:error:key"), 1);
        assert_eq!(secs(".5:error:key"), 1);
        assert_eq!(secs("7.:error:key"), 7);
        assert_eq!(secs("0:error:key"), 0);
        assert_eq!(secs("99999999999999999999999:error"), u64::MAX);
    }

    #[test]
    fn non_numeric_entries_are_skipped_and_extras_ignored() {
        let parsed = parse_rate_limits(
            "abc:error:key, -5:error:key, :error, 1e3:error, NaN::, inf::, \
             60:metric_bucket:organization:quota:custom;spans:extra:more,,",
        );
        assert_eq!(parsed.len(), 1);
        assert_eq!(
            parsed[0],
            limit(
                60,
                &[DataCategory::Unknown("metric_bucket".into())],
                "organization",
                Some("quota")
            )
        );
        assert!(parse_rate_limits("").is_empty());
        assert!(parse_rate_limits(" , ").is_empty());
    }

    #[test]
    fn bare_number_is_a_global_limit() {
        let parsed = parse_rate_limits("60");
        assert_eq!(parsed.len(), 1);
        assert!(parsed[0].is_global());
        assert_eq!(parsed[0].scope, None);
    }

    #[test]
    fn display_writes_the_grammar() {
        let l = limit(
            2700,
            &[DataCategory::Default, DataCategory::Error],
            "org",
            None,
        );
        assert_eq!(l.to_string(), "2700:default;error:org");
        let mut global = limit(30, &[], "organization", Some("quota_exceeded"));
        global.retry_after = Duration::from_millis(29_500);
        assert_eq!(global.to_string(), "30::organization:quota_exceeded");
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_772_366_400);
        assert_eq!(
            parse_retry_after(" 42 ", now),
            Some(Duration::from_secs(42))
        );
        assert_eq!(parse_retry_after("1.5", now), Some(Duration::from_secs(2)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(3600));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(3600))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(3600));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        for bad in ["", "-1", "soon", "Sun, 99 Mar 2026 12:00:00 GMT", "1e3"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }
}
