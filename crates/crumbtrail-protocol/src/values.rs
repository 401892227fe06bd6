//! The `{"values": [...]}` wrapper used by the exception, thread and breadcrumb interfaces.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// A list written as `{"values": [...]}`. Reading also accepts a bare array, as the server does.
///
/// ```
/// use crumbtrail_protocol::Values;
/// let v: Values<u32> = serde_json::from_str("[1,2]").unwrap();
/// assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"values":[1,2]}"#);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Values<T> {
    /// The items, in wire order.
    pub values: Vec<T>,
}

impl<T> Values<T> {
    /// An empty list.
    pub const fn new() -> Self {
        Values { values: Vec::new() }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.values.len()
    }
}

impl<T> Default for Values<T> {
    fn default() -> Self {
        Values::new()
    }
}

impl<T> From<Vec<T>> for Values<T> {
    fn from(values: Vec<T>) -> Self {
        Values { values }
    }
}

impl<T> FromIterator<T> for Values<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Values {
            values: iter.into_iter().collect(),
        }
    }
}

impl<T: Serialize> Serialize for Values<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("values", &self.values)?;
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Values<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Values<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"{"values": [...]} or an array"#)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                let values = Vec::<T>::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(Values { values })
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut values = None;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    if key == "values" {
                        values = Some(map.next_value::<Option<Vec<T>>>()?.unwrap_or_default());
                    } else {
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                Ok(Values {
                    values: values.unwrap_or_default(),
                })
            }
        }

        d.deserialize_any(V(PhantomData))
    }
}
