//! Test helpers shared by the event, breadcrumb and transaction tests.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Reads `json` into `T`, writes it back, and asserts the result equals `json` as a JSON
/// value (key order aside). Also checks that reading the output again gives the same `T`.
pub(crate) fn assert_golden<T>(json: &str) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let want: Value = serde_json::from_str(json).expect("golden example is valid JSON");
    let parsed: T = serde_json::from_str(json).expect("golden example deserializes");
    let written = serde_json::to_string(&parsed).expect("serializes");
    let got: Value = serde_json::from_str(&written).expect("output is valid JSON");
    assert_eq!(
        got, want,
        "re-serialized golden example differs:\n{written}"
    );
    let again: T = serde_json::from_str(&written).expect("output deserializes");
    assert_eq!(again, parsed);
    parsed
}

/// Writes `x`, reads it back, and asserts equality.
pub(crate) fn assert_round_trip<T>(x: &T)
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let json = serde_json::to_string(x).expect("serializes");
    let back: T = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(&back, x, "round trip through {json}");
}
