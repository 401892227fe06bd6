//! `_meta`: annotations about SDK-side modification of the payload (PROTOCOL.md §4.11).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// What a remark says happened to a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemarkType {
    /// `a`: annotated, left as is.
    Annotated,
    /// `x`: removed (or trimmed).
    Removed,
    /// `s`: substituted, e.g. by `[Filtered]`.
    Substituted,
    /// `m`: masked.
    Masked,
    /// `p`: pseudonymized.
    Pseudonymized,
    /// `e`: encrypted.
    Encrypted,
}

impl RemarkType {
    /// The one-letter wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RemarkType::Annotated => "a",
            RemarkType::Removed => "x",
            RemarkType::Substituted => "s",
            RemarkType::Masked => "m",
            RemarkType::Pseudonymized => "p",
            RemarkType::Encrypted => "e",
        }
    }

    /// Parses the one-letter name (or the long name, e.g. `removed`).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "a" | "annotated" => RemarkType::Annotated,
            "x" | "removed" => RemarkType::Removed,
            "s" | "substituted" => RemarkType::Substituted,
            "m" | "masked" => RemarkType::Masked,
            "p" | "pseudonymized" => RemarkType::Pseudonymized,
            "e" | "encrypted" => RemarkType::Encrypted,
            _ => return None,
        })
    }
}

impl Serialize for RemarkType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RemarkType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        RemarkType::parse(&s).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown remark type {s:?}: expected one of a x s m p e"
            ))
        })
    }
}

/// One remark: `[rule_id, type]`, or `[rule_id, type, start, end]` for a range of a string.
///
/// ```
/// use crumbtrail_protocol::{Remark, RemarkType};
/// let r = Remark::with_range("!limit", RemarkType::Removed, 1021, 1024);
/// assert_eq!(serde_json::to_string(&r).unwrap(), r#"["!limit","x",1021,1024]"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remark {
    /// The rule that applied: `!limit`, `!config`, `!raw`, …
    pub rule_id: String,
    /// What was done.
    pub ty: RemarkType,
    /// The affected `(start, end)` range of the new value, if any.
    pub range: Option<(u64, u64)>,
}

impl Remark {
    /// A remark about the whole value.
    pub fn new(rule_id: impl Into<String>, ty: RemarkType) -> Self {
        Remark {
            rule_id: rule_id.into(),
            ty,
            range: None,
        }
    }

    /// A remark about the range `start..end` of the value.
    pub fn with_range(rule_id: impl Into<String>, ty: RemarkType, start: u64, end: u64) -> Self {
        Remark {
            range: Some((start, end)),
            ..Remark::new(rule_id, ty)
        }
    }
}

impl Serialize for Remark {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(if self.range.is_some() { 4 } else { 2 }))?;
        seq.serialize_element(&self.rule_id)?;
        seq.serialize_element(&self.ty)?;
        if let Some((start, end)) = self.range {
            seq.serialize_element(&start)?;
            seq.serialize_element(&end)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Remark {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Remark;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a remark [rule_id, type] or [rule_id, type, start, end]")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Remark, A::Error> {
                let rule_id: String = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let ty: RemarkType = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                let start = seq.next_element::<Option<u64>>()?.flatten();
                let end = seq.next_element::<Option<u64>>()?.flatten();
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                let range = start.zip(end);
                Ok(Remark { rule_id, ty, range })
            }
        }
        d.deserialize_seq(V)
    }
}

/// The annotation of one node (the value under the key `""`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MetaNode {
    /// The original length (string length or collection size) before trimming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub len: Option<u64>,
    /// What was done to the value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rem: Vec<Remark>,
    /// Processing errors (normally server-written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub err: Vec<Value>,
}

impl MetaNode {
    /// An empty annotation.
    pub fn new() -> Self {
        MetaNode::default()
    }

    /// Sets the original length (builder style).
    pub fn with_len(mut self, len: u64) -> Self {
        self.len = Some(len);
        self
    }

    /// Adds a remark (builder style).
    pub fn with_remark(mut self, remark: Remark) -> Self {
        self.rem.push(remark);
        self
    }

    /// Whether the annotation says nothing.
    pub fn is_empty(&self) -> bool {
        self.len.is_none() && self.rem.is_empty() && self.err.is_empty()
    }

    /// Merges `other` in: its remarks and errors are appended; `len` is kept if already set
    /// (the first recorded length is the original one).
    pub fn merge(&mut self, other: MetaNode) {
        self.len = self.len.or(other.len);
        self.rem.extend(other.rem);
        self.err.extend(other.err);
    }
}

/// A `_meta` tree: it mirrors the payload, and the key `""` of a node holds its [`MetaNode`].
///
/// Reading is lenient: an annotation or child that is not valid is dropped, as are empty
/// children. Writing omits empty nodes.
///
/// ```
/// use crumbtrail_protocol::{Meta, MetaNode, Remark, RemarkType};
/// let mut meta = Meta::new();
/// let filtered = MetaNode::new().with_remark(Remark::new("!config", RemarkType::Substituted));
/// meta.annotate(&["request", "headers", "Authorization"], filtered);
/// assert_eq!(
///     serde_json::to_string(&meta).unwrap(),
///     r#"{"request":{"headers":{"Authorization":{"":{"rem":[["!config","s"]]}}}}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Meta {
    /// This node's own annotation.
    pub annotation: Option<MetaNode>,
    /// Annotations further down, by payload key (array elements by index, as a string).
    pub children: BTreeMap<String, Meta>,
}

impl Meta {
    /// An empty tree.
    pub fn new() -> Self {
        Meta::default()
    }

    /// Whether the tree holds no annotation at all.
    pub fn is_empty(&self) -> bool {
        self.annotation.as_ref().is_none_or(MetaNode::is_empty)
            && self.children.values().all(Meta::is_empty)
    }

    /// Annotates the value at `path` (keys from the payload root), merging with any
    /// annotation already there (see [`MetaNode::merge`]).
    pub fn annotate(&mut self, path: &[&str], node: MetaNode) {
        let mut cur = self;
        for key in path {
            cur = cur.children.entry((*key).to_owned()).or_default();
        }
        match &mut cur.annotation {
            Some(existing) => existing.merge(node),
            None => cur.annotation = Some(node),
        }
    }

    /// The annotation at `path`, if any.
    pub fn get(&self, path: &[&str]) -> Option<&MetaNode> {
        let mut cur = self;
        for key in path {
            cur = cur.children.get(*key)?;
        }
        cur.annotation.as_ref()
    }

    fn from_map(map: Map<String, Value>) -> Meta {
        let mut meta = Meta::new();
        for (key, value) in map {
            if key.is_empty() {
                meta.annotation = MetaNode::deserialize(&value)
                    .ok()
                    .filter(|node| !node.is_empty());
            } else if let Value::Object(child) = value {
                let child = Meta::from_map(child);
                if !child.is_empty() {
                    meta.children.insert(key, child);
                }
            }
        }
        meta
    }
}

impl Serialize for Meta {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(node) = self.annotation.as_ref().filter(|n| !n.is_empty()) {
            map.serialize_entry("", node)?;
        }
        for (key, child) in &self.children {
            if !child.is_empty() {
                map.serialize_entry(key, child)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Meta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Option::<Map<String, Value>>::deserialize(d)?.unwrap_or_default();
        Ok(Meta::from_map(map))
    }
}

#[cfg(test)]
#[path = "meta_tests.rs"]
mod tests;
