//! The event payload itself (PROTOCOL.md §4.1).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::breadcrumb::Breadcrumb;
use crate::event::{
    ClientSdkInfo, Contexts, DebugMeta, Exception, LogEntry, Meta, Request, Thread, User,
};
use crate::ids::EventId;
use crate::level::Level;
use crate::values::Values;

fn default_level() -> Level {
    Level::Error
}

/// An error or message event: the payload of an `event` item (and of a `feedback` item).
///
/// Every attribute of §4.1 is here; keys outside that table are ignored on read and never
/// written. Empty collections and unset options are not written; `platform` and `level`
/// always are. Reading is lenient: `platform` defaults to `native`, `level` to `error`,
/// `tags`/`modules` may be pairs with non-string values, `message` may be a logentry object.
///
/// ```
/// use crumbtrail_protocol::{Event, Exception, Level};
/// let mut event = Event::new();
/// event.level = Level::Fatal;
/// event.exception = Some(vec![Exception::new("std::io::Error", "disk full")].into());
/// event.tags.insert("region".into(), "eu".into());
///
/// let json = serde_json::to_string(&event).unwrap();
/// let back: Event = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, event);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The event id (required).
    pub event_id: EventId,
    /// When the event was captured (required); written as float seconds.
    #[serde(with = "crate::timestamp::float")]
    pub timestamp: OffsetDateTime,
    /// The platform; crumbtrail uses `native`.
    #[serde(default = "crate::event::lenient::default_platform")]
    pub platform: String,
    /// The severity; `error` when absent.
    #[serde(default = "default_level")]
    pub level: Level,
    /// The logger name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    /// The route or task in effect when the event happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// The host name (PII on client platforms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// The release, e.g. `shop@1.4.2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The build variant of the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dist: Option<String>,
    /// The environment, e.g. `production`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Tags (≤200 chars per key and per value).
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub tags: BTreeMap<String, String>,
    /// Arbitrary extra data (legacy; prefer contexts).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
    /// A grouping override; `{{ default }}` includes the default grouping.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::string_vec",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub fingerprint: Vec<String>,
    /// Dependencies: name → version.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub modules: BTreeMap<String, String>,
    /// The SDK that sent the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<ClientSdkInfo>,
    /// The exceptions, oldest (root cause) first; see [`Exception::chain`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Values<Exception>>,
    /// The threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<Values<Thread>>,
    /// A plain message.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::message",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<String>,
    /// A parameterized message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logentry: Option<LogEntry>,
    /// Breadcrumbs, oldest first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breadcrumbs: Option<Values<Breadcrumb>>,
    /// The HTTP request being handled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// The affected user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Contexts; every event should carry `trace`.
    #[serde(default, skip_serializing_if = "Contexts::is_empty")]
    pub contexts: Contexts,
    /// Images for server-side symbolication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_meta: Option<DebugMeta>,
    /// Processing errors (normally set by the server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Value>,
    /// `event` or absent for errors.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<String>,
    /// Annotations about SDK-side modification.
    #[serde(rename = "_meta", default, skip_serializing_if = "Meta::is_empty")]
    pub meta: Meta,
}

impl Event {
    /// An event with a random id, stamped now, platform `native`, level `error`, and nothing
    /// else.
    pub fn new() -> Self {
        Event {
            event_id: EventId::new(),
            timestamp: crate::timestamp::now(),
            platform: crate::event::lenient::default_platform(),
            level: Level::Error,
            logger: None,
            transaction: None,
            server_name: None,
            release: None,
            dist: None,
            environment: None,
            tags: BTreeMap::new(),
            extra: Map::new(),
            fingerprint: Vec::new(),
            modules: BTreeMap::new(),
            sdk: None,
            exception: None,
            threads: None,
            message: None,
            logentry: None,
            breadcrumbs: None,
            request: None,
            user: None,
            contexts: Contexts::new(),
            debug_meta: None,
            errors: Vec::new(),
            ty: None,
            meta: Meta::new(),
        }
    }
}

impl Default for Event {
    /// Same as [`Event::new`].
    fn default() -> Self {
        Event::new()
    }
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
