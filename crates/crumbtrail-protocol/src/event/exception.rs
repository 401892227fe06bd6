//! The exception interface and its mechanism (PROTOCOL.md §4.3).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::{Stacktrace, ThreadId};

/// How an exception was caught, and where it sits in a chain or group.
///
/// ```
/// use crumbtrail_protocol::Mechanism;
/// let m = Mechanism { handled: Some(false), ..Mechanism::new("auto.panic") };
/// assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"type":"auto.panic","handled":false}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mechanism {
    /// `generic` for user calls; origin-style names such as `auto.panic` for SDK handlers.
    /// Read as `generic` when missing.
    #[serde(rename = "type", default = "generic")]
    pub ty: String,
    /// `false` for panics and uncaught failures (marks the session crashed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled: Option<bool>,
    /// Set when the exception was made up only to carry a stack trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synthetic: Option<bool>,
    /// The id of this exception in its chain or group; the newest (root) is `0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception_id: Option<u64>,
    /// The `exception_id` of the parent; set on every element but the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<u64>,
    /// Whether this node is an aggregate of several errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_exception_group: Option<bool>,
    /// How this exception was reached from its parent, e.g. `source`, `errors[0]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A human description of the mechanism.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A link to documentation about the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help_link: Option<String>,
    /// Arbitrary extra data.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
    /// OS error codes: `signal`, `errno`, `mach_exception`, …
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub meta: Map<String, Value>,
}

fn generic() -> String {
    "generic".to_owned()
}

impl Mechanism {
    /// A mechanism of the given type with every other key unset.
    pub fn new(ty: impl Into<String>) -> Self {
        Mechanism {
            ty: ty.into(),
            handled: None,
            synthetic: None,
            exception_id: None,
            parent_id: None,
            is_exception_group: None,
            source: None,
            description: None,
            help_link: None,
            data: Map::new(),
            meta: Map::new(),
        }
    }
}

/// One exception (error) of an event. At least one of `ty` and `value` should be set.
///
/// ```
/// use crumbtrail_protocol::Exception;
/// let e = Exception::new("std::io::Error", "file not found");
/// assert_eq!(
///     serde_json::to_string(&e).unwrap(),
///     r#"{"type":"std::io::Error","value":"file not found"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Exception {
    /// The error type, e.g. `std::io::Error`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// The error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The module or crate path of the type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The thread it happened on, linking into the event's `threads`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    /// Where it happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacktrace: Option<Stacktrace>,
    /// How it was caught.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<Mechanism>,
}

impl Exception {
    /// An exception with a type and a message.
    pub fn new(ty: impl Into<String>, value: impl Into<String>) -> Self {
        Exception {
            ty: Some(ty.into()),
            value: Some(value.into()),
            ..Exception::default()
        }
    }

    /// Turns an error chain into the exception list of §4.3.
    ///
    /// `newest_first` is the chain in the order `Error::source()` walks it: the error that
    /// was raised or caught first, then its source, then that one's source, down to the root
    /// cause. The result runs **oldest first** (root cause first, raised error last), as the
    /// event's `exception.values` must. Every mechanism gets its ids: the raised error (last
    /// in the result) is `exception_id: 0`, its source `1`, and so on; each element but the
    /// last gets `parent_id` (the id of the error that wrapped it) and `source: "source"`.
    ///
    /// An exception without a mechanism gets one: `generic` for the raised error, `chained`
    /// for its sources. Existing mechanisms keep their type and other keys.
    ///
    /// ```
    /// use crumbtrail_protocol::Exception;
    /// let list = Exception::chain(vec![
    ///     Exception::new("LoadError", "cannot load config"),
    ///     Exception::new("std::io::Error", "file not found"),
    /// ]);
    /// assert_eq!(list[0].ty.as_deref(), Some("std::io::Error"));
    /// let m = list[0].mechanism.as_ref().unwrap();
    /// assert_eq!((m.exception_id, m.parent_id), (Some(1), Some(0)));
    /// ```
    pub fn chain(newest_first: Vec<Exception>) -> Vec<Exception> {
        let mut out = newest_first;
        for (depth, exc) in out.iter_mut().enumerate() {
            let id = depth as u64;
            let is_root = depth == 0;
            let mechanism = exc
                .mechanism
                .get_or_insert_with(|| Mechanism::new(if is_root { "generic" } else { "chained" }));
            mechanism.exception_id = Some(id);
            if is_root {
                mechanism.parent_id = None;
            } else {
                mechanism.parent_id = Some(id - 1);
                mechanism.source = Some("source".to_owned());
            }
        }
        out.reverse();
        out
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn chain_orders_oldest_first_and_assigns_ids() {
        let mut top = Exception::new("AppError", "checkout failed");
        let mut m = Mechanism::new("auto.panic");
        m.handled = Some(false);
        m.parent_id = Some(9); // stale, must be cleared on the root
        top.mechanism = Some(m);
        let list = Exception::chain(vec![
            top,
            Exception::new("DbError", "query failed"),
            Exception::new("std::io::Error", "connection reset"),
        ]);
        let got: Vec<_> = list
            .iter()
            .map(|e| {
                let m = e.mechanism.as_ref().unwrap();
                (
                    e.ty.as_deref().unwrap(),
                    m.ty.as_str(),
                    m.exception_id,
                    m.parent_id,
                    m.source.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "std::io::Error",
                    "chained",
                    Some(2),
                    Some(1),
                    Some("source")
                ),
                ("DbError", "chained", Some(1), Some(0), Some("source")),
                ("AppError", "auto.panic", Some(0), None, None),
            ]
        );
        assert_eq!(list[2].mechanism.as_ref().unwrap().handled, Some(false));
    }

    #[test]
    fn chain_of_one_is_the_root() {
        let list = Exception::chain(vec![Exception::new("E", "x")]);
        let m = list[0].mechanism.as_ref().unwrap();
        assert_eq!(m.ty, "generic");
        assert_eq!(
            (m.exception_id, m.parent_id, m.source.as_deref()),
            (Some(0), None, None)
        );
        assert!(Exception::chain(Vec::new()).is_empty());
    }

    #[test]
    fn full_exception_round_trips() {
        let json = json!({
            "type": "std::io::Error", "value": "denied", "module": "std::io", "thread_id": 3,
            "stacktrace": {"frames": [{"function": "main"}]},
            "mechanism": {"type": "generic", "handled": true, "synthetic": false,
                "exception_id": 1, "parent_id": 0, "is_exception_group": false,
                "source": "errors[0]", "description": "d", "help_link": "https://h",
                "data": {"k": 1}, "meta": {"errno": {"number": 13}}}
        });
        let e: Exception = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(e.thread_id, Some(ThreadId::Int(3)));
        assert_eq!(e.mechanism.as_ref().unwrap().meta["errno"]["number"], 13);
        assert_eq!(serde_json::to_value(&e).unwrap(), json);
    }

    #[test]
    fn mechanism_without_type_reads_as_generic() {
        let m: Mechanism = serde_json::from_str(r#"{"handled":false}"#).unwrap();
        assert_eq!(m.ty, "generic");
        assert_eq!(m.handled, Some(false));
    }
}
