//! A scope: the data that every event captured inside it carries — tags, user, contexts,
//! breadcrumbs, processors, the trace it belongs to.
//!
//! Scopes are values with copy-on-write parts: cloning one (a fork for a spawned task, a
//! snapshot for a capture) copies a handful of pointers and never the data. A change made
//! through one clone is never seen by another.

mod crumbs;
mod propagation;
mod tags;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crumbtrail_protocol::{Breadcrumb, Context, Event, Level, User};
use serde_json::{Map, Value};

pub(crate) use crumbs::{CrumbEntry, CrumbList, estimate_size};
pub use crumbs::{CrumbProcessor, ProcessCrumb};
pub use propagation::{BAGGAGE_INLINE, PropagationContext};
pub(crate) use propagation::{HeadBaggage, head_dsc};

/// A processor that may change or drop an event (`None` drops it, counted as
/// `event_processor`).
pub type EventProcessor = Arc<dyn ProcessEvent>;

/// What an event processor does: any `Fn(Event) -> Option<Event>` closure is one. An
/// integration that already keeps its data behind an `Arc` can implement it on that data and
/// add the same `Arc` with [`Scope::add_shared_event_processor`], saving an allocation.
///
/// ```
/// use std::sync::Arc;
/// use crumbtrail_core::{Event, ProcessEvent, Scope};
/// struct Region(&'static str);
/// impl ProcessEvent for Region {
///     fn process(&self, mut event: Event) -> Option<Event> {
///         event.tags.insert("region".into(), self.0.into());
///         Some(event)
///     }
/// }
/// let mut scope = Scope::default();
/// scope.add_shared_event_processor(Arc::new(Region("eu")));
/// ```
pub trait ProcessEvent: Send + Sync + 'static {
    /// The event to send, changed or not; `None` drops it.
    fn process(&self, event: Event) -> Option<Event>;
}

impl<F: Fn(Event) -> Option<Event> + Send + Sync + 'static> ProcessEvent for F {
    fn process(&self, event: Event) -> Option<Event> {
        self(event)
    }
}

/// A file sent along with events captured in the scope.
///
/// ```
/// use crumbtrail_core::Attachment;
/// let a = Attachment::new("state.txt", b"cart=3".to_vec()).with_content_type("text/plain");
/// assert_eq!(a.filename, "state.txt");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// The file name, without directory.
    pub filename: String,
    /// The MIME type, if known.
    pub content_type: Option<String>,
    /// The contents.
    pub bytes: Arc<[u8]>,
}

impl Attachment {
    /// An attachment with a name and contents.
    pub fn new(filename: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Self {
        Attachment {
            filename: filename.into(),
            content_type: None,
            bytes: bytes.into(),
        }
    }

    /// Sets the MIME type.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }
}

/// The data applied to every event captured in a scope.
///
/// You get one through [`configure_scope`](crate::configure_scope) (the isolation scope of
/// the current unit of work) or [`with_scope`](crate::with_scope) (a layer that lasts for a
/// closure or a future).
///
/// ```
/// use crumbtrail_core::{Level, Scope};
/// let mut scope = Scope::default();
/// scope.set_tag("region", "eu");
/// scope.set_level(Some(Level::Warning));
/// assert_eq!(scope.tag("region"), Some("eu"));
/// ```
#[derive(Clone, Default)]
pub struct Scope {
    // Every part is optional and shared: an empty scope costs no allocation, and a copy costs a
    // few pointer copies. Writes copy a part only while another scope still shares it.
    pub(crate) level: Option<Level>,
    pub(crate) fingerprint: Option<Arc<[String]>>,
    pub(crate) transaction: Option<Arc<str>>,
    pub(crate) user: Option<Arc<User>>,
    pub(crate) tags: Option<Arc<tags::TagMap>>,
    pub(crate) extra: Option<Arc<Map<String, Value>>>,
    pub(crate) contexts: Option<Arc<BTreeMap<String, Context>>>,
    pub(crate) attachments: Option<Arc<Vec<Attachment>>>,
    pub(crate) event_processors: Option<Processors>,
    pub(crate) error_processors: Option<Processors>,
    pub(crate) crumbs: CrumbList,
    /// Inline: a unit of work's scope is allocated anyway, and its trace with it.
    pub(crate) propagation: Option<PropagationContext>,
}

/// Changes the part behind `slot`: built fresh if absent (no reference-count traffic on
/// this common path), else copied first if another scope shares it.
fn edit<T: Default + Clone>(slot: &mut Option<Arc<T>>, f: impl FnOnce(&mut T)) {
    match slot {
        Some(part) => f(Arc::make_mut(part)),
        None => {
            let mut part = T::default();
            f(&mut part);
            *slot = Some(Arc::new(part));
        }
    }
}

/// A scope's processors. The first is held as is: a web integration adds one per request,
/// and it costs no allocation beyond its own.
#[derive(Clone)]
pub(crate) enum Processors {
    One(EventProcessor),
    Many(Arc<Vec<EventProcessor>>),
}

impl Processors {
    /// In the order they were added.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, EventProcessor> {
        match self {
            Processors::One(first) => std::slice::from_ref(first).iter(),
            Processors::Many(all) => all.iter(),
        }
    }
}

fn append(slot: &mut Option<Processors>, processor: EventProcessor) {
    match slot {
        None => *slot = Some(Processors::One(processor)),
        Some(Processors::One(first)) => {
            *slot = Some(Processors::Many(Arc::new(vec![first.clone(), processor])));
        }
        Some(Processors::Many(all)) => Arc::make_mut(all).push(processor),
    }
}

impl Scope {
    /// Sets a tag (string key and value; the protocol trims both to 200 characters). A literal
    /// key is stored without an allocation.
    pub fn set_tag(&mut self, key: impl Into<Cow<'static, str>>, value: impl ToString) {
        edit(&mut self.tags, |part| {
            part.insert(key.into(), value.to_string());
        });
    }

    /// Removes a tag.
    pub fn remove_tag(&mut self, key: &str) {
        if self.tag(key).is_some() {
            edit(&mut self.tags, |part| {
                part.remove(key);
            });
        }
    }

    /// A tag's value.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.as_ref()?.get(key)
    }

    /// Sets an extra value (arbitrary JSON; prefer contexts for structured data).
    pub fn set_extra(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        edit(&mut self.extra, |part| {
            part.insert(key.into(), value.into());
        });
    }

    /// Removes an extra value.
    pub fn remove_extra(&mut self, key: &str) {
        if self.extra.as_ref().is_some_and(|e| e.contains_key(key)) {
            edit(&mut self.extra, |part| {
                part.remove(key);
            });
        }
    }

    /// Sets a context (`os`, `runtime`, a custom name, ...).
    pub fn set_context(&mut self, key: impl Into<String>, context: impl Into<Context>) {
        edit(&mut self.contexts, |part| {
            part.insert(key.into(), context.into());
        });
    }

    /// Removes a context.
    pub fn remove_context(&mut self, key: &str) {
        if self.contexts.as_ref().is_some_and(|c| c.contains_key(key)) {
            edit(&mut self.contexts, |part| {
                part.remove(key);
            });
        }
    }

    /// Sets (or clears) the user. Values set explicitly are sent even without
    /// `send_default_pii`, except `ip_address`.
    pub fn set_user(&mut self, user: Option<User>) {
        self.user = user.map(Arc::new);
    }

    /// The user, if set.
    pub fn user(&self) -> Option<&User> {
        self.user.as_deref()
    }

    /// Overrides the level of captured events (`None`: keep each event's own).
    pub fn set_level(&mut self, level: Option<Level>) {
        self.level = level;
    }

    /// Overrides the grouping fingerprint (`None`: default grouping).
    pub fn set_fingerprint(&mut self, fingerprint: Option<&[&str]>) {
        self.fingerprint = fingerprint.map(|f| f.iter().map(|s| (*s).to_owned()).collect());
    }

    /// Sets the transaction name events carry (the route or task that was running).
    pub fn set_transaction(&mut self, transaction: Option<&str>) {
        self.transaction = transaction.map(Arc::from);
    }

    /// Adds an attachment sent with every event captured in the scope.
    pub fn add_attachment(&mut self, attachment: Attachment) {
        edit(&mut self.attachments, |part| {
            part.push(attachment);
        });
    }

    /// Removes every attachment.
    pub fn clear_attachments(&mut self) {
        self.attachments = None;
    }

    /// Adds a processor that runs on every event captured in the scope (after the scope's data
    /// is applied, before `before_send`). Returning `None` drops the event.
    pub fn add_event_processor(
        &mut self,
        processor: impl Fn(Event) -> Option<Event> + Send + Sync + 'static,
    ) {
        append(&mut self.event_processors, Arc::new(processor));
    }

    /// [`add_event_processor`](Self::add_event_processor) for a processor already behind an
    /// `Arc` (see [`ProcessEvent`]).
    pub fn add_shared_event_processor(&mut self, processor: EventProcessor) {
        append(&mut self.event_processors, processor);
    }

    /// Adds a processor that runs only on error events (events with an exception), before the
    /// event processors. Returning `None` drops the event.
    pub fn add_error_processor(
        &mut self,
        processor: impl Fn(Event) -> Option<Event> + Send + Sync + 'static,
    ) {
        append(&mut self.error_processors, Arc::new(processor));
    }

    /// Records a breadcrumb in this scope directly: no `before_breadcrumb`, and the default
    /// limit of 100 crumbs. Prefer [`add_breadcrumb`](crate::add_breadcrumb), which applies the
    /// client's options.
    pub fn add_breadcrumb(&mut self, mut crumb: Breadcrumb) {
        if crumb.timestamp.is_none() {
            crumb.timestamp = Some(crumbtrail_protocol::timestamp::now());
        }
        let size = estimate_size(&crumb);
        self.crumbs.push(
            CrumbEntry {
                crumb,
                recorded_at: None,
                size,
                processor: None,
            },
            crumbtrail_protocol::limits::DEFAULT_MAX_BREADCRUMBS,
            usize::MAX,
        );
    }

    /// Forgets every breadcrumb.
    pub fn clear_breadcrumbs(&mut self) {
        self.crumbs.clear();
    }

    /// The trace this scope belongs to, if one was set or continued.
    pub fn propagation_context(&self) -> Option<&PropagationContext> {
        self.propagation.as_ref()
    }

    /// Sets the trace this scope belongs to (integrations continue incoming traces with it).
    pub fn set_propagation_context(&mut self, ctx: PropagationContext) {
        self.propagation = Some(ctx);
    }

    /// Resets everything except the trace.
    pub fn clear(&mut self) {
        let propagation = self.propagation.take();
        *self = Scope {
            propagation,
            ..Scope::default()
        };
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("level", &self.level)
            .field("transaction", &self.transaction)
            .field("tags", &self.tags)
            .field("user", &self.user)
            .field("breadcrumbs", &!self.crumbs.is_empty())
            .field("propagation", &self.propagation)
            .finish_non_exhaustive()
    }
}
