//! Timestamps: RFC 3339 strings or float seconds since the epoch.
//!
//! The protocol accepts both forms almost everywhere. crumbtrail writes float seconds on events,
//! breadcrumbs, log records and the start times of transactions and spans (compact, and the form
//! the protocol's examples use) and RFC 3339 strings with six fractional digits
//! (`2026-03-01T12:00:00.123456Z`) where a string is required or conventional: session updates
//! and aggregates, client reports, the envelope's `sent_at`, and the end `timestamp` of
//! transactions and spans (the official Rust SDK's types read only a string there). Both
//! readers accept either form; precision is one microsecond.
//!
//! Use the serde modules with `#[serde(with = "...")]`:
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use time::OffsetDateTime;
//!
//! #[derive(Serialize, Deserialize)]
//! struct Stamp {
//!     #[serde(with = "crumbtrail_protocol::timestamp::float")]
//!     at: OffsetDateTime,
//! }
//! let s: Stamp = serde_json::from_str(r#"{"at":"2026-03-01T12:00:00.5Z"}"#).unwrap();
//! assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"at":1772366400.5}"#);
//! ```

use std::fmt;

use serde::Serializer;
use serde::de::{self, Deserializer, Visitor};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// The current time in UTC, truncated to whole microseconds (the protocol's precision).
pub fn now() -> OffsetDateTime {
    truncate_to_micros(OffsetDateTime::now_utc())
}

/// Drops sub-microsecond digits so a value survives a round trip through either wire form.
pub fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000)
        .unwrap_or(t)
        .to_offset(UtcOffset::UTC)
}

/// Seconds since the epoch as a float.
pub fn to_float(t: OffsetDateTime) -> f64 {
    let micros = t.unix_timestamp_nanos() / 1_000;
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    secs as f64 + frac as f64 / 1e6
}

/// A timestamp from float seconds since the epoch, rounded to the microsecond.
///
/// Returns `None` for non-finite values and values outside the representable range.
pub fn from_float(secs: f64) -> Option<OffsetDateTime> {
    if !secs.is_finite() {
        return None;
    }
    // Split first so the fractional part keeps its precision.
    let whole = secs.floor();
    let micros = ((secs - whole) * 1e6).round() as i128;
    if whole.abs() > 1e12 {
        return None;
    }
    let nanos = (whole as i128) * 1_000_000_000 + micros * 1_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// Formats as RFC 3339 in UTC with exactly six fractional digits: `2026-03-01T12:00:00.123456Z`.
pub fn format_rfc3339(t: OffsetDateTime) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    t.to_offset(UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| String::from("1970-01-01T00:00:00.000000Z"))
}

/// Parses RFC 3339 (any offset, any number of fractional digits). A value with no offset at
/// all (`2026-03-01T12:00:00`) is taken as UTC, as the server does.
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(truncate_to_micros(t));
    }
    let naive = format_description!(
        version = 2,
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    PrimitiveDateTime::parse(s, &naive)
        .ok()
        .map(|p| truncate_to_micros(p.assume_utc()))
}

struct AnyTimestamp;

impl Visitor<'_> for AnyTimestamp {
    type Value = OffsetDateTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp or seconds since the epoch")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        from_float(v).ok_or_else(|| E::custom(format!("timestamp {v} is out of range")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.visit_f64(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.visit_f64(v as f64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse_rfc3339(v).ok_or_else(|| E::custom(format!("invalid RFC 3339 timestamp {v:?}")))
    }
}

fn deserialize_any<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
    d.deserialize_any(AnyTimestamp)
}

/// Writes float seconds; reads either form.
pub mod float {
    use super::*;

    /// Serializes as float seconds since the epoch.
    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(to_float(*t))
    }

    /// Deserializes from float seconds or an RFC 3339 string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        deserialize_any(d)
    }
}

/// Writes an RFC 3339 string; reads either form.
pub mod rfc3339 {
    use super::*;

    /// Serializes as `2026-03-01T12:00:00.123456Z`.
    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339(*t))
    }

    /// Deserializes from an RFC 3339 string or float seconds.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        deserialize_any(d)
    }
}

/// [`float`] for `Option<OffsetDateTime>` (pair with `skip_serializing_if = "Option::is_none"`
/// and `default`).
pub mod option_float {
    use super::*;

    /// Serializes `Some` as float seconds, `None` as null.
    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_f64(to_float(*t)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes null, float seconds or an RFC 3339 string.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        d.deserialize_option(OptionVisitor)
    }
}

/// [`rfc3339`] for `Option<OffsetDateTime>` (pair with `skip_serializing_if = "Option::is_none"`
/// and `default`).
pub mod option_rfc3339 {
    use super::*;

    /// Serializes `Some` as an RFC 3339 string, `None` as null.
    pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format_rfc3339(*t)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes null, float seconds or an RFC 3339 string.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        d.deserialize_option(OptionVisitor)
    }
}

struct OptionVisitor;

impl<'de> Visitor<'de> for OptionVisitor {
    type Value = Option<OffsetDateTime>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null, an RFC 3339 timestamp or seconds since the epoch")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        deserialize_any(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_six_fraction_digits_in_utc() {
        let t = datetime!(2026-03-01 13:00:00.123456789 +01:00);
        assert_eq!(format_rfc3339(t), "2026-03-01T12:00:00.123456Z");
    }

    #[test]
    fn parses_offsets_and_naive_times() {
        let want = datetime!(2026-03-01 12:00:00.5 UTC);
        assert_eq!(parse_rfc3339("2026-03-01T12:00:00.5Z"), Some(want));
        assert_eq!(parse_rfc3339("2026-03-01T13:00:00.500+01:00"), Some(want));
        assert_eq!(parse_rfc3339("2026-03-01T12:00:00.5"), Some(want));
        assert_eq!(
            parse_rfc3339("2026-03-01T12:00:00"),
            Some(datetime!(2026-03-01 12:00:00 UTC))
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn float_round_trip_keeps_microseconds() {
        let t = datetime!(2026-03-01 12:00:00.123456 UTC);
        let f = to_float(t);
        assert_eq!(f.to_string(), "1772366400.123456");
        assert_eq!(from_float(f), Some(t));
        assert_eq!(from_float(f64::NAN), None);
        assert_eq!(from_float(f64::INFINITY), None);
        assert_eq!(from_float(1e300), None);
    }

    #[test]
    fn negative_float_times_round_trip() {
        let t = datetime!(1969-12-31 23:59:59.25 UTC);
        assert_eq!(to_float(t), -0.75);
        assert_eq!(from_float(-0.75), Some(t));
    }

    #[test]
    fn now_has_microsecond_precision() {
        let t = now();
        assert_eq!(t.nanosecond() % 1_000, 0);
        assert_eq!(t.offset(), UtcOffset::UTC);
    }
}
