//! The Dynamic Sampling Context (PROTOCOL.md §9.5): the `sentry-*` baggage entries, and the
//! envelope's `trace` header.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::ids::TraceId;

/// The Dynamic Sampling Context: what a trace's head SDK decided and knew, passed on unchanged
/// by every service in the trace.
///
/// All values are strings on the wire, so the known keys are kept as `Option<String>`, with
/// typed accessors ([`sampled()`](Self::sampled), [`sample_rate()`](Self::sample_rate),
/// [`sample_rand()`](Self::sample_rand), [`trace_id()`](Self::trace_id)) and setters that
/// write the canonical forms. Unknown keys are kept in `other`.
///
/// It serializes as the envelope `trace` header: an object of strings, absent keys omitted,
/// known keys first in the order of the §9.5 example. Reading is lenient: numbers and booleans
/// become strings, `null` means absent, and nested arrays or objects are dropped.
///
/// ```
/// use crumbtrail_protocol::{DynamicSamplingContext, TraceId};
/// let mut dsc = DynamicSamplingContext::default();
/// dsc.set_trace_id("4c79f60c11214eb38604f4ae0781bfb2".parse().unwrap());
/// dsc.set_sample_rate(0.25);
/// dsc.set_sample_rand(0.1183029);
/// dsc.set_sampled(Some(true));
/// assert_eq!(dsc.sample_rand.as_deref(), Some("0.118302"));
/// assert_eq!(
///     serde_json::to_string(&dsc).unwrap(),
///     r#"{"trace_id":"4c79f60c11214eb38604f4ae0781bfb2","sample_rate":"0.25","sample_rand":"0.118302","sampled":"true"}"#
/// );
/// let back: DynamicSamplingContext =
///     serde_json::from_str(r#"{"sample_rate":0.25,"sampled":true,"replay_id":null}"#).unwrap();
/// assert_eq!(back.sample_rate(), Some(0.25));
/// assert_eq!(back.sampled(), Some(true));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DynamicSamplingContext {
    /// The trace id, 32 hex.
    pub trace_id: Option<String>,
    /// The head SDK's DSN public key.
    pub public_key: Option<String>,
    /// The organization id, from the DSN or an option.
    pub org_id: Option<String>,
    /// The rate used for the head sampling decision, as a decimal string.
    pub sample_rate: Option<String>,
    /// The trace's random number in [0, 1), written with 6 decimals.
    pub sample_rand: Option<String>,
    /// `"true"` / `"false"`; absent when the decision is deferred.
    pub sampled: Option<String>,
    /// The head SDK's release.
    pub release: Option<String>,
    /// The head SDK's environment.
    pub environment: Option<String>,
    /// The root transaction's name, only when its source is not `url`.
    pub transaction: Option<String>,
    /// The session replay id (not used by crumbtrail; kept when received).
    pub replay_id: Option<String>,
    /// Keys crumbtrail does not know. Must not hold a known key (those are ignored here when
    /// writing); [`set`](Self::set) routes keys to the right place.
    pub other: BTreeMap<String, String>,
}

impl DynamicSamplingContext {
    /// The known keys, in the order crumbtrail writes them.
    pub const KNOWN_KEYS: [&'static str; 10] = [
        "trace_id",
        "public_key",
        "org_id",
        "sample_rate",
        "sample_rand",
        "sampled",
        "release",
        "environment",
        "transaction",
        "replay_id",
    ];

    /// An empty context (the "frozen as empty" state of §9.5 when nothing was received).
    pub fn new() -> Self {
        Self::default()
    }

    fn field(&self, key: &str) -> Option<&Option<String>> {
        Some(match key {
            "trace_id" => &self.trace_id,
            "public_key" => &self.public_key,
            "org_id" => &self.org_id,
            "sample_rate" => &self.sample_rate,
            "sample_rand" => &self.sample_rand,
            "sampled" => &self.sampled,
            "release" => &self.release,
            "environment" => &self.environment,
            "transaction" => &self.transaction,
            "replay_id" => &self.replay_id,
            _ => return None,
        })
    }

    fn field_mut(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "trace_id" => &mut self.trace_id,
            "public_key" => &mut self.public_key,
            "org_id" => &mut self.org_id,
            "sample_rate" => &mut self.sample_rate,
            "sample_rand" => &mut self.sample_rand,
            "sampled" => &mut self.sampled,
            "release" => &mut self.release,
            "environment" => &mut self.environment,
            "transaction" => &mut self.transaction,
            "replay_id" => &mut self.replay_id,
            _ => return None,
        })
    }

    /// The value of a key (without the `sentry-` prefix), known or not.
    pub fn get(&self, key: &str) -> Option<&str> {
        match self.field(key) {
            Some(v) => v.as_deref(),
            None => self.other.get(key).map(String::as_str),
        }
    }

    /// Sets a key (without the `sentry-` prefix): a known key goes to its field, any other to
    /// `other`.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let key = key.into();
        match self.field_mut(&key) {
            Some(slot) => *slot = Some(value.into()),
            None => {
                self.other.insert(key, value.into());
            }
        }
    }

    /// Removes a key, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        match self.field_mut(key) {
            Some(slot) => slot.take(),
            None => self.other.remove(key),
        }
    }

    /// Every present entry, known keys first in [`KNOWN_KEYS`](Self::KNOWN_KEYS) order, then
    /// the others sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let known = Self::KNOWN_KEYS
            .iter()
            .filter_map(|k| Some((*k, self.field(k)?.as_deref()?)));
        let other = self
            .other
            .iter()
            .filter(|(k, _)| self.field(k).is_none())
            .map(|(k, v)| (k.as_str(), v.as_str()));
        known.chain(other)
    }

    /// Whether no entry is present.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The trace id, if present and valid.
    pub fn trace_id(&self) -> Option<TraceId> {
        self.trace_id.as_deref()?.parse().ok()
    }

    /// Sets the trace id.
    pub fn set_trace_id(&mut self, trace_id: TraceId) {
        let mut hex = String::with_capacity(32);
        trace_id.push_hex(&mut hex);
        self.trace_id = Some(hex);
    }

    /// The sampling decision: `Some` for `"true"` / `"false"` (any case), `None` when absent
    /// (deferred) or unreadable.
    pub fn sampled(&self) -> Option<bool> {
        let s = self.sampled.as_deref()?.trim();
        if s.eq_ignore_ascii_case("true") {
            Some(true)
        } else if s.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        }
    }

    /// Sets the decision; `None` (deferred) removes the key.
    pub fn set_sampled(&mut self, sampled: Option<bool>) {
        self.sampled = sampled.map(|b| b.to_string());
    }

    /// The head sample rate, if present and a number in [0, 1].
    pub fn sample_rate(&self) -> Option<f64> {
        let rate: f64 = self.sample_rate.as_deref()?.trim().parse().ok()?;
        (0.0..=1.0).contains(&rate).then_some(rate)
    }

    /// Sets the sample rate as its shortest decimal form (`0.25`, `1`).
    pub fn set_sample_rate(&mut self, rate: f64) {
        self.sample_rate = Some(rate.to_string());
    }

    /// The trace's random number, if present and a number in [0, 1).
    pub fn sample_rand(&self) -> Option<f64> {
        let rand: f64 = self.sample_rand.as_deref()?.trim().parse().ok()?;
        (0.0..1.0).contains(&rand).then_some(rand)
    }

    /// Sets the random number, written by [`format_sample_rand`].
    pub fn set_sample_rand(&mut self, rand: f64) {
        self.sample_rand = Some(format_sample_rand(rand));
    }
}

/// Writes a `sample_rand` with exactly 6 decimals (`0.118302`).
///
/// Extra digits are cut, not rounded, so that `sample_rand < rate` gives the same answer before
/// and after formatting for any rate with at most 6 decimals. Values outside [0, 1) are clamped
/// into it (NaN becomes `0.000000`).
///
/// ```
/// use crumbtrail_protocol::format_sample_rand;
/// assert_eq!(format_sample_rand(0.118302), "0.118302");
/// assert_eq!(format_sample_rand(0.2499999), "0.249999");
/// assert_eq!(format_sample_rand(0.5), "0.500000");
/// assert_eq!(format_sample_rand(1.0), "0.999999");
/// ```
pub fn format_sample_rand(rand: f64) -> String {
    if rand.is_nan() || rand <= 0.0 {
        return "0.000000".to_owned();
    }
    if rand >= 1.0 {
        return "0.999999".to_owned();
    }
    // `Display` for f64 gives the shortest digits that identify the value, never an exponent.
    let shortest = rand.to_string();
    let decimals = shortest.split_once('.').map_or("", |(_, d)| d);
    let mut out = String::from("0.");
    out.extend(decimals.chars().chain(std::iter::repeat('0')).take(6));
    out
}

impl Serialize for DynamicSamplingContext {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for DynamicSamplingContext {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;

        impl<'de> Visitor<'de> for V {
            type Value = DynamicSamplingContext;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dynamic sampling context object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut dsc = DynamicSamplingContext::default();
                while let Some(key) = map.next_key::<String>()? {
                    let value = match map.next_value::<Value>()? {
                        Value::String(s) => s,
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null | Value::Array(_) | Value::Object(_) => continue,
                    };
                    dsc.set(key, value);
                }
                Ok(dsc)
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(DynamicSamplingContext::default())
            }
        }

        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The `trace` envelope header of the §3.5 example.
    const TRACE_HEADER: &str = r#"{"trace_id":"4c79f60c11214eb38604f4ae0781bfb2","public_key":"abc123","sample_rate":"0.25","sample_rand":"0.118302","sampled":"true","environment":"production","release":"shop@1.4.2"}"#;

    #[test]
    fn golden_envelope_trace_header() {
        let dsc: DynamicSamplingContext = serde_json::from_str(TRACE_HEADER).unwrap();
        assert_eq!(
            dsc.trace_id().unwrap().to_string(),
            "4c79f60c11214eb38604f4ae0781bfb2"
        );
        assert_eq!(dsc.public_key.as_deref(), Some("abc123"));
        assert_eq!(dsc.sample_rate(), Some(0.25));
        assert_eq!(dsc.sample_rand(), Some(0.118302));
        assert_eq!(dsc.sampled(), Some(true));
        assert_eq!(dsc.environment.as_deref(), Some("production"));
        assert_eq!(dsc.release.as_deref(), Some("shop@1.4.2"));
        assert_eq!(dsc.org_id, None);
        assert!(dsc.other.is_empty());
        let written = serde_json::to_value(&dsc).unwrap();
        assert_eq!(
            written,
            serde_json::from_str::<Value>(TRACE_HEADER).unwrap()
        );
    }

    #[test]
    fn writes_known_keys_in_canonical_order_then_others() {
        let mut dsc = DynamicSamplingContext::new();
        dsc.set("zeta", "z");
        dsc.set("transaction", "GET /cart/:id");
        dsc.set("alpha", "a");
        dsc.set("trace_id", "4c79f60c11214eb38604f4ae0781bfb2");
        // A known key slipped into `other` by hand is not written twice.
        dsc.other.insert("release".into(), "shadow".into());
        assert_eq!(
            serde_json::to_string(&dsc).unwrap(),
            r#"{"trace_id":"4c79f60c11214eb38604f4ae0781bfb2","transaction":"GET /cart/:id","alpha":"a","zeta":"z"}"#
        );
        assert_eq!(dsc.get("alpha"), Some("a"));
        assert_eq!(dsc.get("transaction"), Some("GET /cart/:id"));
        assert_eq!(dsc.remove("transaction").as_deref(), Some("GET /cart/:id"));
        assert_eq!(dsc.remove("zeta").as_deref(), Some("z"));
        assert_eq!(dsc.get("zeta"), None);
    }

    #[test]
    fn reads_leniently() {
        let dsc: DynamicSamplingContext = serde_json::from_value(json!({
            "trace_id": "4c79f60c11214eb38604f4ae0781bfb2",
            "sample_rate": 1,
            "sample_rand": 0.5,
            "sampled": false,
            "org_id": 42,
            "replay_id": null,
            "nested": {"a": 1},
            "list": [1],
            "custom": "x",
        }))
        .unwrap();
        assert_eq!(dsc.sample_rate.as_deref(), Some("1"));
        assert_eq!(dsc.sample_rate(), Some(1.0));
        assert_eq!(dsc.sample_rand(), Some(0.5));
        assert_eq!(dsc.sampled.as_deref(), Some("false"));
        assert_eq!(dsc.sampled(), Some(false));
        assert_eq!(dsc.org_id.as_deref(), Some("42"));
        assert_eq!(dsc.replay_id, None);
        assert_eq!(dsc.other, BTreeMap::from([("custom".into(), "x".into())]));
        let empty: DynamicSamplingContext = serde_json::from_str("null").unwrap();
        assert!(empty.is_empty());
        assert!(serde_json::from_str::<DynamicSamplingContext>("[1]").is_err());
    }

    #[test]
    fn typed_accessors_reject_invalid_values() {
        let mut dsc = DynamicSamplingContext::new();
        assert_eq!(
            (dsc.sampled(), dsc.sample_rate(), dsc.sample_rand()),
            (None, None, None)
        );
        dsc.sampled = Some("TRUE".into());
        assert_eq!(dsc.sampled(), Some(true));
        dsc.sampled = Some("yes".into());
        assert_eq!(dsc.sampled(), None);
        for bad in ["1.5", "-0.1", "NaN", "inf", "x"] {
            dsc.sample_rate = Some(bad.into());
            assert_eq!(dsc.sample_rate(), None, "{bad}");
        }
        dsc.sample_rand = Some("1.0".into());
        assert_eq!(dsc.sample_rand(), None);
        dsc.trace_id = Some("not-a-trace".into());
        assert_eq!(dsc.trace_id(), None);
        dsc.set_sampled(None);
        assert_eq!(dsc.sampled, None);
        dsc.set_sample_rate(1.0);
        assert_eq!(dsc.sample_rate.as_deref(), Some("1"));
    }

    #[test]
    fn sample_rand_is_cut_to_six_decimals() {
        assert_eq!(format_sample_rand(0.0), "0.000000");
        assert_eq!(format_sample_rand(-0.0), "0.000000");
        assert_eq!(format_sample_rand(f64::NAN), "0.000000");
        assert_eq!(format_sample_rand(-3.0), "0.000000");
        assert_eq!(format_sample_rand(0.9999999), "0.999999");
        assert_eq!(format_sample_rand(f64::INFINITY), "0.999999");
        assert_eq!(format_sample_rand(1e-7), "0.000000");
        assert_eq!(format_sample_rand(1e-6), "0.000001");
        assert_eq!(format_sample_rand(0.25), "0.250000");
        assert_eq!(format_sample_rand(0.2500004), "0.250000");
    }

    proptest::proptest! {
        #[test]
        fn formatted_sample_rand_keeps_comparisons(rand in 0.0f64..1.0, micros in 0u32..=1_000_000) {
            let s = format_sample_rand(rand);
            proptest::prop_assert_eq!(s.len(), 8);
            let parsed: f64 = s.parse().unwrap();
            proptest::prop_assert!((0.0..1.0).contains(&parsed));
            let rate = f64::from(micros) / 1e6;
            proptest::prop_assert_eq!(rand < rate, parsed < rate, "{} vs {}", s, rate);
        }
    }
}
