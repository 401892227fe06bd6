//! Property tests for the header parsers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;

use super::*;
use crate::category::DataCategory;

fn token() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9_.]{0,15}"
}

fn category() -> impl Strategy<Value = DataCategory> {
    prop_oneof![
        proptest::sample::select(DataCategory::KNOWN.to_vec()),
        // Parsed so that a token that happens to be a known name stays canonical.
        token().prop_map(|t| t.parse().unwrap_or_else(|never| match never {})),
    ]
}

fn rate_limit() -> impl Strategy<Value = RateLimit> {
    (
        any::<u64>(),
        proptest::collection::vec(category(), 0..5),
        proptest::option::of(token()),
        proptest::option::of(token()),
    )
        .prop_map(|(secs, categories, scope, reason_code)| RateLimit {
            retry_after: Duration::from_secs(secs),
            categories,
            // A reason code needs its scope field in front of it; an empty scope reads as None.
            scope,
            reason_code,
        })
}

proptest! {
    #[test]
    fn parse_rate_limits_never_panics(header in any::<String>()) {
        let _ = parse_rate_limits(&header);
    }

    #[test]
    fn parse_rate_limits_never_panics_on_grammar_soup(header in "[0-9a-z:;,. _-]{0,80}") {
        for limit in parse_rate_limits(&header) {
            prop_assert!(limit.categories.iter().all(|c| !c.as_str().is_empty()));
        }
    }

    #[test]
    fn parse_retry_after_never_panics(value in any::<String>(), secs in any::<u32>()) {
        let now = UNIX_EPOCH + Duration::from_secs(u64::from(secs));
        let _ = parse_retry_after(&value, now);
        let _ = parse_retry_after(&value, SystemTime::now());
    }

    #[test]
    fn formatted_limits_parse_back(limits in proptest::collection::vec(rate_limit(), 1..5)) {
        let header = limits
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        prop_assert_eq!(parse_rate_limits(&header), limits);
    }

    #[test]
    fn spaced_out_limits_parse_back(limit in rate_limit()) {
        let spaced = limit.to_string().replace(':', " : ").replace(';', " ; ");
        prop_assert_eq!(parse_rate_limits(&format!(" {spaced} ,")), vec![limit]);
    }

    #[test]
    fn decimal_seconds_round_up(whole in 0u64..1_000_000, frac in "[0-9]{1,6}") {
        let header = format!("{whole}.{frac}:error:key");
        let rounds_up = frac.bytes().any(|b| b != b'0');
        let want = Duration::from_secs(whole + u64::from(rounds_up));
        prop_assert_eq!(parse_rate_limits(&header)[0].retry_after, want);
        prop_assert_eq!(parse_retry_after(&format!("{whole}.{frac}"), UNIX_EPOCH), Some(want));
    }

    #[test]
    fn http_dates_give_the_distance_to_now(now in 0u64..4_000_000_000, ahead in 0u64..1_000_000) {
        let now = UNIX_EPOCH + Duration::from_secs(now);
        let date = httpdate::fmt_http_date(now + Duration::from_secs(ahead));
        prop_assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(ahead)));
        let past = httpdate::fmt_http_date(now);
        prop_assert_eq!(parse_retry_after(&past, now + Duration::from_secs(ahead)), Some(Duration::ZERO));
    }
}
