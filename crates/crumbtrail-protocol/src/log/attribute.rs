//! Typed log attribute values, written as `{"value": v, "type": t}` (PROTOCOL.md §10.2).

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A homogeneous list of primitive values (the `array` attribute type).
///
/// The wire form does not name the element type, so an empty list always reads back as
/// [`LogAttributeArray::String`].
#[derive(Debug, Clone, PartialEq)]
pub enum LogAttributeArray {
    /// A list of strings.
    String(Vec<String>),
    /// A list of 64-bit integers.
    Integer(Vec<i64>),
    /// A list of doubles. If any is not finite, the whole list is written as a string.
    Double(Vec<f64>),
    /// A list of booleans.
    Boolean(Vec<bool>),
}

impl LogAttributeArray {
    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            LogAttributeArray::String(v) => v.len(),
            LogAttributeArray::Integer(v) => v.len(),
            LogAttributeArray::Double(v) => v.len(),
            LogAttributeArray::Boolean(v) => v.len(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A typed list from JSON values, or `None` when they are not all strings, all booleans
    /// or all numbers. Integers mixed with decimals give a list of doubles.
    fn from_values(values: &[Value]) -> Option<Self> {
        if values.iter().all(Value::is_string) {
            let v = values.iter().filter_map(|v| v.as_str().map(str::to_owned));
            return Some(LogAttributeArray::String(v.collect()));
        }
        if values.iter().all(Value::is_boolean) {
            return Some(LogAttributeArray::Boolean(
                values.iter().filter_map(Value::as_bool).collect(),
            ));
        }
        if values.iter().all(Value::is_i64) {
            return Some(LogAttributeArray::Integer(
                values.iter().filter_map(Value::as_i64).collect(),
            ));
        }
        if values.iter().all(Value::is_number) {
            let doubles: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
            return (doubles.len() == values.len()).then_some(LogAttributeArray::Double(doubles));
        }
        None
    }
}

/// The value of a log attribute: a string, a 64-bit integer, a double, a boolean, or a
/// homogeneous array of those.
///
/// Anything else a user hands over (objects, mixed arrays, `null`) becomes a string holding
/// its JSON text ([`LogAttribute::from_json`]). Reading never fails: an unknown `type`, or a
/// value that does not match its `type`, is kept as a string.
///
/// ```
/// use crumbtrail_protocol::LogAttribute;
///
/// let total = LogAttribute::from(412.5);
/// assert_eq!(serde_json::to_string(&total).unwrap(), r#"{"value":412.5,"type":"double"}"#);
///
/// let odd = LogAttribute::from(f64::NAN);
/// assert_eq!(serde_json::to_string(&odd).unwrap(), r#"{"value":"NaN","type":"string"}"#);
///
/// let read: LogAttribute = serde_json::from_str(r#"{"value":"12","type":"integer"}"#).unwrap();
/// assert_eq!(read, LogAttribute::from("12")); // mismatched: kept as a string
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum LogAttribute {
    /// A string (`type: string`).
    String(String),
    /// A 64-bit integer (`type: integer`).
    Integer(i64),
    /// A double (`type: double`). A non-finite value is written as a string.
    Double(f64),
    /// A boolean (`type: boolean`).
    Boolean(bool),
    /// A homogeneous list of primitives (`type: array`).
    Array(LogAttributeArray),
}

impl LogAttribute {
    /// The attribute for an arbitrary JSON value: strings, booleans, numbers and homogeneous
    /// arrays map to their typed forms; integers beyond `i64` keep their digits as a string;
    /// objects, mixed arrays and `null` become their JSON text.
    pub fn from_json(value: Value) -> Self {
        match value {
            Value::String(s) => LogAttribute::String(s),
            Value::Bool(b) => LogAttribute::Boolean(b),
            Value::Number(n) => match (n.as_i64(), n.is_f64(), n.as_f64()) {
                (Some(i), _, _) => LogAttribute::Integer(i),
                (None, true, Some(f)) => LogAttribute::Double(f),
                _ => LogAttribute::String(n.to_string()),
            },
            Value::Array(items) => match LogAttributeArray::from_values(&items) {
                Some(array) => LogAttribute::Array(array),
                None => LogAttribute::String(Value::Array(items).to_string()),
            },
            other => LogAttribute::String(other.to_string()),
        }
    }

    /// The attribute's `type` name (`string`, `integer`, `double`, `boolean`, `array`).
    /// A non-finite double still says `double` here, though it is written as a string.
    pub fn type_name(&self) -> &'static str {
        match self {
            LogAttribute::String(_) => "string",
            LogAttribute::Integer(_) => "integer",
            LogAttribute::Double(_) => "double",
            LogAttribute::Boolean(_) => "boolean",
            LogAttribute::Array(_) => "array",
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            LogAttribute::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            LogAttribute::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The number, if this is a double or an integer.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            LogAttribute::Double(f) => Some(*f),
            LogAttribute::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            LogAttribute::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// Reads the wire form leniently: never fails.
    fn from_wire(value: Value) -> Self {
        let Value::Object(mut map) = value else {
            // A bare value, as a careless sender might write it.
            return LogAttribute::from_json(value);
        };
        let ty = map.get("type").and_then(Value::as_str).map(str::to_owned);
        let Some(value) = map.remove("value") else {
            return LogAttribute::String(Value::Object(map).to_string());
        };
        match (ty.as_deref(), value) {
            (Some("string"), Value::String(s)) => LogAttribute::String(s),
            (Some("boolean"), Value::Bool(b)) => LogAttribute::Boolean(b),
            (Some("integer"), Value::Number(n)) if n.is_i64() => {
                LogAttribute::Integer(n.as_i64().unwrap_or_default())
            }
            (Some("double"), Value::Number(n)) if n.as_f64().is_some() => {
                LogAttribute::Double(n.as_f64().unwrap_or_default())
            }
            (Some("array"), Value::Array(items)) => match LogAttributeArray::from_values(&items) {
                Some(array) => LogAttribute::Array(array),
                None => LogAttribute::String(Value::Array(items).to_string()),
            },
            (_, Value::String(s)) => LogAttribute::String(s),
            (_, other) => LogAttribute::String(other.to_string()),
        }
    }
}

/// `[1.5,NaN,inf]`: finite values as JSON writes them, the others as Rust displays them.
fn doubles_as_text(values: &[f64]) -> String {
    let parts: Vec<String> = values
        .iter()
        .map(|f| match f.is_finite() {
            true => serde_json::to_string(f).unwrap_or_else(|_| f.to_string()),
            false => f.to_string(),
        })
        .collect();
    format!("[{}]", parts.join(","))
}

impl Serialize for LogAttribute {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        match self {
            LogAttribute::String(v) => {
                map.serialize_entry("value", v)?;
                map.serialize_entry("type", "string")?;
            }
            LogAttribute::Integer(v) => {
                map.serialize_entry("value", v)?;
                map.serialize_entry("type", "integer")?;
            }
            LogAttribute::Double(v) if v.is_finite() => {
                map.serialize_entry("value", v)?;
                map.serialize_entry("type", "double")?;
            }
            LogAttribute::Double(v) => {
                map.serialize_entry("value", &v.to_string())?;
                map.serialize_entry("type", "string")?;
            }
            LogAttribute::Boolean(v) => {
                map.serialize_entry("value", v)?;
                map.serialize_entry("type", "boolean")?;
            }
            LogAttribute::Array(LogAttributeArray::Double(v))
                if !v.iter().all(|f| f.is_finite()) =>
            {
                map.serialize_entry("value", &doubles_as_text(v))?;
                map.serialize_entry("type", "string")?;
            }
            LogAttribute::Array(array) => {
                match array {
                    LogAttributeArray::String(v) => map.serialize_entry("value", v)?,
                    LogAttributeArray::Integer(v) => map.serialize_entry("value", v)?,
                    LogAttributeArray::Double(v) => map.serialize_entry("value", v)?,
                    LogAttributeArray::Boolean(v) => map.serialize_entry("value", v)?,
                }
                map.serialize_entry("type", "array")?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for LogAttribute {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Value::deserialize(d).map(LogAttribute::from_wire)
    }
}

macro_rules! from_impls {
    ($($ty:ty => |$v:ident| $make:expr;)*) => {
        $(impl From<$ty> for LogAttribute {
            fn from($v: $ty) -> Self {
                $make
            }
        })*
    };
}

from_impls! {
    &str => |v| LogAttribute::String(v.to_owned());
    String => |v| LogAttribute::String(v);
    i64 => |v| LogAttribute::Integer(v);
    i32 => |v| LogAttribute::Integer(i64::from(v));
    u32 => |v| LogAttribute::Integer(i64::from(v));
    f64 => |v| LogAttribute::Double(v);
    f32 => |v| LogAttribute::Double(f64::from(v));
    bool => |v| LogAttribute::Boolean(v);
    Vec<String> => |v| LogAttribute::Array(LogAttributeArray::String(v));
    Vec<&str> => |v| LogAttribute::Array(LogAttributeArray::String(
        v.into_iter().map(str::to_owned).collect(),
    ));
    Vec<i64> => |v| LogAttribute::Array(LogAttributeArray::Integer(v));
    Vec<f64> => |v| LogAttribute::Array(LogAttributeArray::Double(v));
    Vec<bool> => |v| LogAttribute::Array(LogAttributeArray::Boolean(v));
    LogAttributeArray => |v| LogAttribute::Array(v);
    Value => |v| LogAttribute::from_json(v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn written(attr: impl Into<LogAttribute>) -> Value {
        serde_json::to_value(attr.into()).unwrap()
    }

    fn read(v: Value) -> LogAttribute {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn writes_value_and_type() {
        assert_eq!(written("a"), json!({"value": "a", "type": "string"}));
        assert_eq!(written(-3i64), json!({"value": -3, "type": "integer"}));
        assert_eq!(written(7u32), json!({"value": 7, "type": "integer"}));
        assert_eq!(written(0.25), json!({"value": 0.25, "type": "double"}));
        assert_eq!(written(true), json!({"value": true, "type": "boolean"}));
        assert_eq!(
            written(vec!["a", "b"]),
            json!({"value": ["a", "b"], "type": "array"})
        );
        assert_eq!(
            written(vec![1i64, 2]),
            json!({"value": [1, 2], "type": "array"})
        );
    }

    #[test]
    fn non_finite_doubles_go_as_strings() {
        assert_eq!(
            written(f64::INFINITY),
            json!({"value": "inf", "type": "string"})
        );
        assert_eq!(
            written(f64::NEG_INFINITY),
            json!({"value": "-inf", "type": "string"})
        );
        assert_eq!(
            written(vec![1.5, f64::NAN]),
            json!({"value": "[1.5,NaN]", "type": "string"})
        );
        assert_eq!(
            written(vec![1.5, 3.0]),
            json!({"value": [1.5, 3.0], "type": "array"})
        );
    }

    #[test]
    fn user_json_values_are_typed_or_stringified() {
        let cases = [
            (json!("x"), LogAttribute::from("x")),
            (json!(5), LogAttribute::Integer(5)),
            (json!(2.5), LogAttribute::Double(2.5)),
            (json!(u64::MAX), LogAttribute::from("18446744073709551615")),
            (json!(false), LogAttribute::Boolean(false)),
            (json!(null), LogAttribute::from("null")),
            (json!({"a": 1}), LogAttribute::from(r#"{"a":1}"#)),
            (json!([1, "a"]), LogAttribute::from(r#"[1,"a"]"#)),
            (json!([[1]]), LogAttribute::from("[[1]]")),
            (json!([1, 2.5]), LogAttribute::from(vec![1.0, 2.5])),
            (json!([true]), LogAttribute::from(vec![true])),
        ];
        for (input, want) in cases {
            assert_eq!(LogAttribute::from(input.clone()), want, "{input}");
        }
    }

    #[test]
    fn reads_every_type() {
        assert_eq!(read(json!({"type": "string", "value": "s"})), "s".into());
        assert_eq!(read(json!({"type": "integer", "value": 9})), 9i64.into());
        assert_eq!(read(json!({"type": "double", "value": 9})), 9.0.into());
        assert_eq!(read(json!({"type": "boolean", "value": true})), true.into());
        assert_eq!(
            read(json!({"type": "array", "value": ["a"]})),
            vec!["a"].into()
        );
        assert_eq!(
            read(json!({"type": "array", "value": []})),
            LogAttribute::Array(LogAttributeArray::String(vec![]))
        );
    }

    #[test]
    fn unknown_or_mismatched_values_are_kept_as_strings() {
        let cases = [
            (json!({"type": "integer", "value": "12"}), "12"),
            (json!({"type": "integer", "value": 1.5}), "1.5"),
            (json!({"type": "boolean", "value": 1}), "1"),
            (json!({"type": "double", "value": "NaN"}), "NaN"),
            (json!({"type": "uuid", "value": "abc"}), "abc"),
            (json!({"type": "map", "value": {"k": [1]}}), r#"{"k":[1]}"#),
            (json!({"value": 3}), "3"),
            (json!({"type": "array", "value": [1, "x"]}), r#"[1,"x"]"#),
            (json!({"type": "string"}), r#"{"type":"string"}"#),
        ];
        for (input, want) in cases {
            assert_eq!(read(input.clone()), LogAttribute::from(want), "{input}");
        }
        // Bare values are typed as a user's would be.
        assert_eq!(read(json!(4)), LogAttribute::Integer(4));
    }

    #[test]
    fn accessors() {
        assert_eq!(LogAttribute::from("a").as_str(), Some("a"));
        assert_eq!(LogAttribute::from(3i64).as_f64(), Some(3.0));
        assert_eq!(LogAttribute::from(3i64).as_i64(), Some(3));
        assert_eq!(LogAttribute::from(true).as_bool(), Some(true));
        assert_eq!(LogAttribute::from(true).as_str(), None);
        assert_eq!(LogAttribute::from(vec![1i64]).type_name(), "array");
        assert_eq!(LogAttributeArray::Boolean(vec![]).len(), 0);
        assert!(LogAttributeArray::Double(vec![]).is_empty());
    }
}
