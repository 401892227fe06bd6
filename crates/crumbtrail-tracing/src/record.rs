//! What handlers and hooks see: the record being processed, the handlers' verdict, and the
//! typed hint attached to every breadcrumb and event the layer makes.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value};
use tracing::{Event, Level, Metadata};

use crate::fields::FieldVisitor;

/// A handler's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// The handler did not take the record: the next handler, then the default processing
    /// (breadcrumb or event), runs.
    Continue,
    /// The handler took the record over: nothing else runs for it.
    Handled,
}

/// A target or global handler, as stored by the layer.
pub type Handler = Arc<dyn Fn(&Record<'_>) -> Handling + Send + Sync>;

/// A `tracing` event (or a `log` record bridged by `tracing-log`) as a handler sees it.
///
/// Nothing is formatted until you ask: [`target`](Record::target) and
/// [`level`](Record::level) are free, [`fields`](Record::fields) formats the fields.
///
/// ```
/// use crumbtrail_tracing::{Handling, Record};
/// // A handler that takes over slow-query records and leaves the rest alone.
/// let handler = |record: &Record<'_>| {
///     if record.has_field("elapsed_ms") {
///         let fields = record.fields();
///         crumbtrail_core::add_breadcrumb(
///             crumbtrail_core::Breadcrumb::new()
///                 .with_type("query")
///                 .with_category("db")
///                 .with_message(fields.message.unwrap_or_default()),
///         );
///         return Handling::Handled;
///     }
///     Handling::Continue
/// };
/// # let _ = handler;
/// ```
pub struct Record<'a> {
    event: &'a Event<'a>,
    target: &'a str,
}

impl<'a> Record<'a> {
    pub(crate) fn new(event: &'a Event<'a>, target: &'a str) -> Self {
        Record { event, target }
    }

    /// The target (the logger name): the event's target, or the `log` record's target when
    /// the event was bridged from the `log` crate.
    pub fn target(&self) -> &str {
        self.target
    }

    /// The level.
    pub fn level(&self) -> Level {
        *self.event.metadata().level()
    }

    /// The event's name (`event src/main.rs:12` for events from the macros).
    pub fn name(&self) -> &'static str {
        self.event.metadata().name()
    }

    /// The event's metadata (for a bridged `log` record, the target here is `log`; use
    /// [`target`](Record::target)).
    pub fn metadata(&self) -> &'static Metadata<'static> {
        self.event.metadata()
    }

    /// The event itself, to visit its fields with a visitor of your own.
    pub fn event(&self) -> &'a Event<'a> {
        self.event
    }

    /// Whether the event has a field of this name (free: a look-up in the callsite's
    /// field names).
    pub fn has_field(&self, name: &str) -> bool {
        self.event.metadata().fields().field(name).is_some()
    }

    /// The message and the other fields, formatted (see [`Fields`]).
    pub fn fields(&self) -> Fields {
        let mut visitor = FieldVisitor::new(false);
        self.event.record(&mut visitor);
        Fields {
            message: visitor.message,
            data: visitor.data,
        }
    }
}

impl std::fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("target", &self.target)
            .field("level", &self.level())
            .field("name", &self.name())
            .finish()
    }
}

/// An event's fields, formatted: the `message` field as text, the others as JSON values
/// (integers, floats and booleans as numbers and booleans, strings as strings, anything
/// recorded with `?` or `%` as its `Debug` / `Display` text, errors as their `Display` text).
/// The `log.*` fields of a bridged `log` record are not included.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields {
    /// The `message` field.
    pub message: Option<String>,
    /// Every other field, by name.
    pub data: Map<String, Value>,
}

/// The hint the layer attaches to each breadcrumb (for `before_breadcrumb`, as a
/// [`BreadcrumbHint`](crumbtrail_core::BreadcrumbHint)) and each event (for `before_send` and
/// processors, as [`EventHint`](crumbtrail_core::EventHint) data) it makes.
///
/// ```
/// use std::sync::Arc;
/// use crumbtrail_core::ClientOptions;
/// use crumbtrail_tracing::TracingHint;
///
/// let options = ClientOptions {
///     // Drop crumbs logged from one file, whatever their target.
///     before_breadcrumb: Some(Arc::new(|crumb, hint| {
///         match hint.get::<TracingHint>() {
///             Some(t) if t.metadata().file() == Some("src/noisy.rs") => None,
///             _ => Some(crumb),
///         }
///     })),
///     ..Default::default()
/// };
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct TracingHint {
    metadata: &'static Metadata<'static>,
    target: Cow<'static, str>,
}

impl TracingHint {
    pub(crate) fn new(metadata: &'static Metadata<'static>, target: Cow<'static, str>) -> Self {
        TracingHint { metadata, target }
    }

    /// The event's metadata: callsite, level, file, line, module path, field names. For a
    /// bridged `log` record it is `tracing-log`'s (target `log`); see
    /// [`target`](TracingHint::target).
    pub fn metadata(&self) -> &'static Metadata<'static> {
        self.metadata
    }

    /// The target (the `log` record's target for a bridged record).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The target, without copying a `&'static` one.
    pub(crate) fn target_cow(&self) -> Cow<'static, str> {
        self.target.clone()
    }

    /// The level.
    pub fn level(&self) -> Level {
        *self.metadata.level()
    }
}
