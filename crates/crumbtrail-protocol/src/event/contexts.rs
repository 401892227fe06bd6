//! The `contexts` map and its typed entries (PROTOCOL.md §4.8).

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::event::{
    AppContext, DeviceContext, FeedbackContext, OsContext, ResponseContext, RuntimeContext,
    TraceContext,
};

/// One entry of [`Contexts`].
///
/// The variant comes from the entry's `type` field, or from its key when there is none. An
/// entry that is not valid for its typed variant (say a `trace` without `span_id`) is kept as
/// [`Context::Other`], so reading never loses data.
#[derive(Debug, Clone, PartialEq)]
pub enum Context {
    /// `os`.
    Os(OsContext),
    /// `runtime`.
    Runtime(RuntimeContext),
    /// `device`.
    Device(DeviceContext),
    /// `app`.
    App(AppContext),
    /// `trace`.
    Trace(TraceContext),
    /// `response`.
    Response(ResponseContext),
    /// `feedback`.
    Feedback(FeedbackContext),
    /// Any other context, as a JSON object. Its `type` key, if any, is kept unless it equals
    /// the entry's key.
    Other(Map<String, Value>),
}

impl Context {
    /// The context type: the typed variant's name, or an `Other`'s `type` key if it has one.
    pub fn type_name(&self) -> Option<&str> {
        Some(match self {
            Context::Os(_) => "os",
            Context::Runtime(_) => "runtime",
            Context::Device(_) => "device",
            Context::App(_) => "app",
            Context::Trace(_) => "trace",
            Context::Response(_) => "response",
            Context::Feedback(_) => "feedback",
            Context::Other(map) => return map.get("type").and_then(Value::as_str),
        })
    }

    /// Reads the entry stored under `key`. Never fails: see [`Context`].
    fn from_entry(key: &str, mut map: Map<String, Value>) -> Context {
        let ty = map.remove("type");
        let name = match &ty {
            Some(Value::String(s)) => s.as_str(),
            _ => key,
        };
        let value = Value::Object(map);
        let typed = match name {
            "os" => OsContext::deserialize(&value).map(Context::Os),
            "runtime" => RuntimeContext::deserialize(&value).map(Context::Runtime),
            "device" => DeviceContext::deserialize(&value).map(Context::Device),
            "app" => AppContext::deserialize(&value).map(Context::App),
            "trace" => TraceContext::deserialize(&value).map(Context::Trace),
            "response" => ResponseContext::deserialize(&value).map(Context::Response),
            "feedback" => FeedbackContext::deserialize(&value).map(Context::Feedback),
            _ => Err(serde::de::Error::custom("not a typed context")),
        };
        if let Ok(ctx) = typed {
            return ctx;
        }
        let mut map = match value {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        match ty {
            Some(Value::String(s)) if s == key => {}
            Some(ty) => {
                map.insert("type".to_owned(), ty);
            }
            None => {}
        }
        Context::Other(map)
    }
}

macro_rules! context_from {
    ($($ty:ident => $variant:ident,)*) => {$(
        impl From<$ty> for Context {
            fn from(c: $ty) -> Self {
                Context::$variant(c)
            }
        }
    )*};
}

context_from! {
    OsContext => Os,
    RuntimeContext => Runtime,
    DeviceContext => Device,
    AppContext => App,
    TraceContext => Trace,
    ResponseContext => Response,
    FeedbackContext => Feedback,
}

impl From<Map<String, Value>> for Context {
    fn from(map: Map<String, Value>) -> Self {
        Context::Other(map)
    }
}

/// The event's `contexts`: context name → [`Context`].
///
/// Written with `type` only where it differs from the key, so `{"trace": {...}}` stays as it
/// was read. Entries whose value is not an object are skipped on read.
///
/// ```
/// use crumbtrail_protocol::{Contexts, OsContext, SpanId, TraceContext, TraceId};
/// let mut contexts = Contexts::new();
/// contexts.insert("trace", TraceContext::new(TraceId::random(), SpanId::random()));
/// contexts.insert("host_os", OsContext { name: Some("Linux".into()), ..Default::default() });
/// let json = serde_json::to_value(&contexts).unwrap();
/// assert!(json["trace"].get("type").is_none());
/// assert_eq!(json["host_os"]["type"], "os");
/// assert!(contexts.trace().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contexts(pub BTreeMap<String, Context>);

impl Contexts {
    /// No contexts.
    pub fn new() -> Self {
        Contexts(BTreeMap::new())
    }

    /// Whether there are no contexts.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of contexts.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Sets the context under `key`, returning the one it replaces.
    pub fn insert(&mut self, key: impl Into<String>, ctx: impl Into<Context>) -> Option<Context> {
        self.0.insert(key.into(), ctx.into())
    }

    /// The context under `key`.
    pub fn get(&self, key: &str) -> Option<&Context> {
        self.0.get(key)
    }

    /// The context under `key`, mutably.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Context> {
        self.0.get_mut(key)
    }

    /// Removes the context under `key`.
    pub fn remove(&mut self, key: &str) -> Option<Context> {
        self.0.remove(key)
    }

    /// The typed `trace` context, if present and valid.
    pub fn trace(&self) -> Option<&TraceContext> {
        match self.0.get("trace") {
            Some(Context::Trace(t)) => Some(t),
            _ => None,
        }
    }

    /// The typed `trace` context, mutably.
    pub fn trace_mut(&mut self) -> Option<&mut TraceContext> {
        match self.0.get_mut("trace") {
            Some(Context::Trace(t)) => Some(t),
            _ => None,
        }
    }

    /// The typed `feedback` context, if present and valid.
    pub fn feedback(&self) -> Option<&FeedbackContext> {
        match self.0.get("feedback") {
            Some(Context::Feedback(f)) => Some(f),
            _ => None,
        }
    }

    /// Iterates over the contexts in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Context)> {
        self.0.iter()
    }
}

impl<K: Into<String>, C: Into<Context>> FromIterator<(K, C)> for Contexts {
    fn from_iter<I: IntoIterator<Item = (K, C)>>(iter: I) -> Self {
        Contexts(
            iter.into_iter()
                .map(|(k, c)| (k.into(), c.into()))
                .collect(),
        )
    }
}

/// A typed context written with an optional `type` key in front.
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    ty: Option<&'a str>,
    #[serde(flatten)]
    inner: &'a T,
}

/// One context written under `key`.
struct Entry<'a> {
    key: &'a str,
    ctx: &'a Context,
}

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ty = self.ctx.type_name().filter(|t| *t != self.key);
        match self.ctx {
            Context::Os(c) => Tagged { ty, inner: c }.serialize(s),
            Context::Runtime(c) => Tagged { ty, inner: c }.serialize(s),
            Context::Device(c) => Tagged { ty, inner: c }.serialize(s),
            Context::App(c) => Tagged { ty, inner: c }.serialize(s),
            Context::Trace(c) => Tagged { ty, inner: c }.serialize(s),
            Context::Response(c) => Tagged { ty, inner: c }.serialize(s),
            Context::Feedback(c) => Tagged { ty, inner: c }.serialize(s),
            Context::Other(map) => s.collect_map(
                map.iter()
                    .filter(|(k, v)| !(k.as_str() == "type" && v.as_str() == Some(self.key))),
            ),
        }
    }
}

impl Serialize for Contexts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (key, ctx) in &self.0 {
            map.serialize_entry(key, &Entry { key, ctx })?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Contexts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Option::<Map<String, Value>>::deserialize(d)?.unwrap_or_default();
        Ok(Contexts(
            raw.into_iter()
                .filter_map(|(key, v)| match v {
                    Value::Object(map) => {
                        let ctx = Context::from_entry(&key, map);
                        Some((key, ctx))
                    }
                    _ => None,
                })
                .collect(),
        ))
    }
}

#[cfg(test)]
#[path = "contexts_tests.rs"]
mod tests;
