//! The threads interface (PROTOCOL.md §4.5).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::event::Stacktrace;

/// A thread id: a number, or a string for platforms that name threads.
///
/// ```
/// use crumbtrail_protocol::ThreadId;
/// let id: ThreadId = serde_json::from_str("7").unwrap();
/// assert_eq!(id, ThreadId::Int(7));
/// assert_eq!(ThreadId::from("worker-1").to_string(), "worker-1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ThreadId {
    /// A numeric id.
    Int(u64),
    /// A string id.
    String(String),
}

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThreadId::Int(n) => write!(f, "{n}"),
            ThreadId::String(s) => f.write_str(s),
        }
    }
}

impl From<u64> for ThreadId {
    fn from(n: u64) -> Self {
        ThreadId::Int(n)
    }
}

impl From<&str> for ThreadId {
    fn from(s: &str) -> Self {
        ThreadId::String(s.to_owned())
    }
}

impl From<String> for ThreadId {
    fn from(s: String) -> Self {
        ThreadId::String(s)
    }
}

impl Serialize for ThreadId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ThreadId::Int(n) => s.serialize_u64(*n),
            ThreadId::String(v) => s.serialize_str(v),
        }
    }
}

impl<'de> Deserialize<'de> for ThreadId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ThreadId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a thread id: a non-negative integer or a string")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ThreadId, E> {
                Ok(ThreadId::Int(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ThreadId, E> {
                // A negative id is kept, as a string, rather than rejecting the event.
                Ok(
                    u64::try_from(v)
                        .map_or_else(|_| ThreadId::String(v.to_string()), ThreadId::Int),
                )
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ThreadId, E> {
                Ok(ThreadId::String(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One thread of the process at the time of the event.
///
/// ```
/// use crumbtrail_protocol::{Thread, ThreadId};
/// let t = Thread { id: Some(ThreadId::Int(1)), name: Some("main".into()), ..Thread::default() };
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"id":1,"name":"main"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Thread {
    /// The thread id; exceptions link to it through `thread_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ThreadId>,
    /// The thread name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether this thread crashed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crashed: Option<bool>,
    /// Whether this thread was running when the event was captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
    /// Whether this is the main thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main: Option<bool>,
    /// The thread's stack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacktrace: Option<Stacktrace>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::testutil::assert_golden;
    use crate::{Addr, Event};

    #[test]
    fn golden_threads_in_an_event() {
        // §4.5 verbatim, with its `{...}` placeholder filled in with a real stack trace.
        let threads = r#""threads": {"values":[{"id":1,"name":"main","crashed":true,"current":true,"main":true,"stacktrace":{...}}]}"#
            .replace(
                "{...}",
                r#"{"frames":[{"function":"main","instruction_addr":"0x1000"}]}"#,
            );
        let json = format!(
            r#"{{"event_id":"5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b","timestamp":1772366400.5,"platform":"native","level":"error",{threads}}}"#
        );
        let event: Event = assert_golden(&json);
        let threads = event.threads.unwrap();
        let t = &threads.values[0];
        assert_eq!(t.id, Some(ThreadId::Int(1)));
        assert_eq!(t.name.as_deref(), Some("main"));
        assert_eq!(
            (t.crashed, t.current, t.main),
            (Some(true), Some(true), Some(true))
        );
        let frame = &t.stacktrace.as_ref().unwrap().frames[0];
        assert_eq!(frame.instruction_addr, Some(Addr(0x1000)));
    }

    #[test]
    fn thread_ids_may_be_strings_and_bare_arrays_are_accepted() {
        let event: Event = serde_json::from_str(
            r#"{"event_id":"5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b","timestamp":0,
                "threads":[{"id":"worker-2"},{"id":-3}]}"#,
        )
        .unwrap();
        let threads = event.threads.unwrap().values;
        assert_eq!(threads[0].id, Some(ThreadId::from("worker-2")));
        assert_eq!(threads[1].id, Some(ThreadId::from("-3")));
        assert!(serde_json::from_str::<ThreadId>("1.5").is_err());
        assert!(serde_json::from_str::<ThreadId>("true").is_err());
    }
}
