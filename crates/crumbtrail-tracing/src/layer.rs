//! The layer: the builder, the per-layer filter, and the processing of events and spans.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crumbtrail_core::{
    Breadcrumb, BreadcrumbHint, Client, Event as CrumbEvent, EventHint, add_breadcrumb_with_hint,
    capture_event_with_hint, current_client, in_sdk_work, sdk_work,
};
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record as SpanRecord};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::layer::{Context, Filter, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::fields::FieldVisitor;
use crate::record::{Handling, Record, TracingHint};
use crate::rules::{self, Action, Rules, is_internal, is_log_bridge};

/// The most spans (innermost first) whose fields an event carries.
const MAX_SPANS: usize = 16;

/// The name of the event context the layer fills.
pub(crate) const CONTEXT: &str = "tracing";

/// A `tracing_subscriber` layer that turns `tracing` events into crumbtrail breadcrumbs and
/// events, in the unit of work (isolation scope) that emitted them.
///
/// - Events at or above the breadcrumb level (default `INFO`) become breadcrumbs: category =
///   target, message = the `message` field, data = the other fields, level mapped with
///   [`crumbtrail_level`], type `default` (`error` for `ERROR`).
/// - Events at or above the event level (default `ERROR`) are captured as events carrying the
///   trail (see the [crate docs](crate) for what they contain), and then recorded as a
///   breadcrumb, so the next event of the same unit of work shows them.
/// - Targets can be ignored (with their children), given a handler of their own, and global
///   handlers can look at every record first.
///
/// With no client for the current unit of work it does nothing. Records of crumbtrail's own
/// targets (`crumbtrail`, `crumbtrail::*`, `crumbtrail_*`) are never recorded.
///
/// ```
/// use tracing_subscriber::prelude::*;
/// use crumbtrail_tracing::Handling;
///
/// let layer = crumbtrail_tracing::layer()
///     .breadcrumb_level(tracing::Level::DEBUG)
///     .ignore("hyper") // and hyper::*
///     .ignore_with_allow_level("h2", tracing::Level::WARN) // h2 warnings and errors still count
///     .target_handler("audit", |_record| {
///         // audit records are sent elsewhere; crumbtrail does nothing more with them
///         Handling::Handled
///     });
/// let subscriber = tracing_subscriber::registry().with(layer.filtered());
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(order = 981, "cart loaded");
/// });
/// ```
#[derive(Clone, Default)]
pub struct CrumbtrailLayer {
    rules: Arc<Rules>,
}

/// A new [`CrumbtrailLayer`] with the default settings (same as [`CrumbtrailLayer::new`]).
pub fn layer() -> CrumbtrailLayer {
    CrumbtrailLayer::new()
}

/// The crumbtrail level for a `tracing` level: `TRACE` and `DEBUG` → `debug`, `INFO` →
/// `info`, `WARN` → `warning`, `ERROR` → `error`.
///
/// ```
/// use crumbtrail_tracing::crumbtrail_level;
/// assert_eq!(crumbtrail_level(&tracing::Level::WARN), crumbtrail_core::Level::Warning);
/// ```
pub fn crumbtrail_level(level: &Level) -> crumbtrail_core::Level {
    match *level {
        Level::TRACE | Level::DEBUG => crumbtrail_core::Level::Debug,
        Level::INFO => crumbtrail_core::Level::Info,
        Level::WARN => crumbtrail_core::Level::Warning,
        _ => crumbtrail_core::Level::Error,
    }
}

impl CrumbtrailLayer {
    /// A layer with the defaults: breadcrumbs from `INFO`, events from `ERROR`, span fields
    /// on events, no ignored targets, no handlers.
    pub fn new() -> Self {
        CrumbtrailLayer::default()
    }

    fn rules_mut(&mut self) -> &mut Rules {
        Arc::make_mut(&mut self.rules)
    }

    /// Events at or above this level become breadcrumbs (default `INFO`).
    /// `LevelFilter::OFF` records none.
    pub fn breadcrumb_level(mut self, level: impl Into<LevelFilter>) -> Self {
        self.rules_mut().breadcrumb_level = level.into();
        self
    }

    /// Events at or above this level are captured as events (default `ERROR`, the highest);
    /// `LevelFilter::OFF` captures none (errors then become breadcrumbs of type `error`).
    pub fn event_level(mut self, level: impl Into<LevelFilter>) -> Self {
        self.rules_mut().event_level = level.into();
        self
    }

    /// Ignores a target and its children: `ignore("hyper")` ignores `hyper` and
    /// `hyper::proto::h1`, not `hyperx`. Handlers still see the records (the ignore applies
    /// to the default processing). The most specific rule for a target wins; ignoring a
    /// target again replaces its rule.
    pub fn ignore(mut self, target: &str) -> Self {
        self.rules_mut().ignore(target, LevelFilter::OFF);
        self
    }

    /// [`ignore`](Self::ignore), except records at or above `allow_level` are still recorded
    /// (as breadcrumbs or events, by the usual thresholds).
    pub fn ignore_with_allow_level(mut self, target: &str, allow_level: Level) -> Self {
        self.rules_mut().ignore(target, allow_level.into());
        self
    }

    /// Gives a target (and its children) a handler of its own, which sees every record of
    /// that target, at any level, after the global handlers. Returning
    /// [`Handling::Handled`] skips the default processing. A target has at most one handler
    /// (the last registered); for a record, the handler of the most specific target applies.
    pub fn target_handler(
        mut self,
        target: &str,
        handler: impl Fn(&Record<'_>) -> Handling + Send + Sync + 'static,
    ) -> Self {
        self.rules_mut()
            .target_handler(target, rules::handler(handler));
        self
    }

    /// Adds a handler that sees every record at or above the breadcrumb or event level
    /// (ignored targets included), before any target handler and the default processing.
    /// Handlers run in the order they were added; the first to return
    /// [`Handling::Handled`] ends the processing of that record.
    pub fn global_handler(
        mut self,
        handler: impl Fn(&Record<'_>) -> Handling + Send + Sync + 'static,
    ) -> Self {
        self.rules_mut().global_handler(rules::handler(handler));
        self
    }

    /// Whether events carry the fields of the spans they happen in (default on). The fields
    /// of spans at or above the breadcrumb or event level are recorded when the span is
    /// created; turn this off to skip that work.
    pub fn span_fields(mut self, enabled: bool) -> Self {
        self.rules_mut().span_fields = enabled;
        self
    }

    /// The per-layer filter matching this layer's settings (see [`filtered`](Self::filtered)).
    pub fn filter(&self) -> CrumbtrailFilter {
        CrumbtrailFilter {
            rules: Arc::clone(&self.rules),
        }
    }

    /// This layer with its own per-layer filter: the recommended way to add it to a
    /// [`Registry`](tracing_subscriber::Registry).
    ///
    /// Callsites the layer has no use for (below both thresholds, ignored, `crumbtrail`
    /// itself) are then switched off for this layer alone, once per callsite: a `debug!`
    /// below the breadcrumb level costs the caller about a nanosecond, and other layers
    /// (a `fmt` layer logging at `DEBUG`, say) still get everything they ask for.
    ///
    /// The unfiltered layer is correct too, and works on any subscriber with span lookup,
    /// but it sees every event the rest of the stack enables and drops the unwanted ones
    /// itself (a few nanoseconds each, no formatting). It cannot filter through
    /// `Layer::enabled` / `register_callsite` / `event_enabled` instead: in
    /// `tracing-subscriber` those decide for the whole stack, so refusing a `DEBUG` event
    /// there would hide it from every other layer too.
    pub fn filtered<S>(self) -> Filtered<Self, CrumbtrailFilter, S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let filter = self.filter();
        self.with_filter(filter)
    }
}

impl fmt::Debug for CrumbtrailLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrumbtrailLayer")
            .field("breadcrumb_level", &self.rules.breadcrumb_level)
            .field("event_level", &self.rules.event_level)
            .finish_non_exhaustive()
    }
}

/// The per-layer filter of a [`CrumbtrailLayer`] (made by
/// [`CrumbtrailLayer::filter`] / [`CrumbtrailLayer::filtered`]): it enables, for that layer
/// only, the callsites the layer's settings can use.
#[derive(Clone)]
pub struct CrumbtrailFilter {
    rules: Arc<Rules>,
}

impl fmt::Debug for CrumbtrailFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrumbtrailFilter").finish_non_exhaustive()
    }
}

impl<S> Filter<S> for CrumbtrailFilter {
    fn enabled(&self, meta: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        // A bridged `log` record is asked about with its real target first (tracing-log
        // calls `enabled` with it), so the target rules apply to it here too.
        is_log_bridge(meta) || self.rules.wants(meta.target(), meta)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if is_log_bridge(meta) {
            Interest::sometimes()
        } else if self.rules.wants(meta.target(), meta) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.rules.max_level()
    }
}

/// The fields of a span, kept in its extensions for the events inside it.
struct SpanFields(Map<String, Value>);

fn span_fields_of(visitor: FieldVisitor) -> Map<String, Value> {
    let mut fields = visitor.data;
    if let Some(message) = visitor.message {
        fields.insert("message".to_owned(), Value::String(message));
    }
    fields
}

/// Reads just the `log.target` field of a bridged `log` record.
struct LogTarget(Option<String>);

impl Visit for LogTarget {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "log.target" {
            self.0 = Some(value.to_owned());
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn fmt::Debug) {}
}

fn debug_note(client: &Client, what: fmt::Arguments<'_>) {
    // Straight to stderr, like core's diagnostics: never through `tracing`.
    if client.options().debug {
        eprintln!("[crumbtrail] {what}");
    }
}

impl<S> Layer<S> for CrumbtrailLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let meta = attrs.metadata();
        if !self.rules.wants(meta.target(), meta) || in_sdk_work() || current_client().is_none() {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let recorded = sdk_work(|| {
            let mut visitor = FieldVisitor::new(false);
            attrs.record(&mut visitor);
            span_fields_of(visitor)
        });
        if let Ok(fields) = recorded {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &SpanRecord<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if in_sdk_work() || span.extensions().get::<SpanFields>().is_none() {
            return; // the SDK's own work, or a span the layer does not record
        }
        // Formatted before taking the lock: a field's Debug impl may do anything.
        let recorded = sdk_work(|| {
            let mut visitor = FieldVisitor::new(false);
            values.record(&mut visitor);
            span_fields_of(visitor)
        });
        if let (Ok(more), Some(SpanFields(fields))) =
            (recorded, span.extensions_mut().get_mut::<SpanFields>())
        {
            fields.extend(more);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let log = is_log_bridge(meta);
        // Cheap rejections first: no formatting, no client look-up.
        if !log && !self.rules.wants(meta.target(), meta) {
            return;
        }
        // Not on the sender's threads, and not from inside the layer's own handling of a record
        // (a handler, a `before_breadcrumb` hook or a field's Debug impl that logs): those
        // would loop.
        if in_sdk_work() {
            return;
        }
        let Some(client) = current_client() else {
            return;
        };
        // Nothing below may unwind into the code that logged (a field's Debug impl, say).
        let outcome = sdk_work(|| self.process(event, log, &client, &ctx));
        if outcome.is_err() {
            debug_note(
                &client,
                format_args!("formatting a tracing event panicked; it is not recorded"),
            );
        }
    }
}

impl CrumbtrailLayer {
    fn process<S>(&self, event: &Event<'_>, log: bool, client: &Client, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let meta = event.metadata();
        let target: Cow<'static, str> = if log {
            let mut found = LogTarget(None);
            event.record(&mut found);
            let Some(target) = found.0 else { return };
            if !self.rules.wants(&target, meta) {
                return;
            }
            Cow::Owned(target)
        } else {
            Cow::Borrowed(meta.target())
        };
        if is_internal(&target) {
            return;
        }

        let record = Record::new(event, &target);
        let handling = self.rules.run_handlers(&record, || {
            debug_note(
                client,
                format_args!("a crumbtrail-tracing handler panicked; the record goes on"),
            )
        });
        if handling == Handling::Handled {
            return;
        }
        match self.rules.action(&target, meta.level()) {
            Action::Skip => {}
            Action::Breadcrumb => {
                let mut fields = FieldVisitor::new(false);
                event.record(&mut fields);
                let crumb = breadcrumb(
                    client,
                    meta.level(),
                    target.clone(),
                    fields.message,
                    fields.data,
                );
                if client.options().before_breadcrumb.is_none() {
                    // The hint is for that hook alone.
                    add_breadcrumb_with_hint(crumb, &BreadcrumbHint::none());
                } else {
                    let hint = TracingHint::new(meta, target);
                    add_breadcrumb_with_hint(crumb, &BreadcrumbHint::new(&hint));
                }
            }
            Action::Event => self.capture(event, target, client, ctx),
        }
    }

    /// Captures an event for `event`, then records it as a breadcrumb.
    fn capture<S>(
        &self,
        event: &Event<'_>,
        target: Cow<'static, str>,
        client: &Client,
        ctx: &Context<'_, S>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let meta = event.metadata();
        let mut fields = FieldVisitor::new(true);
        event.record(&mut fields);

        let mut context = Map::new();
        context.insert("target".into(), Value::String(target.to_string()));
        let module_path = fields
            .log
            .module_path
            .take()
            .or(meta.module_path().map(Into::into));
        let file = fields.log.file.take().or(meta.file().map(Into::into));
        let line = fields.log.line.or(meta.line().map(u64::from));
        if let Some(module_path) = module_path {
            context.insert("module_path".into(), Value::String(module_path));
        }
        if let Some(file) = file {
            context.insert("file".into(), Value::String(file));
        }
        if let Some(line) = line {
            context.insert("line".into(), line.into());
        }
        if self.rules.span_fields {
            let spans = spans_of(event, ctx);
            if !spans.is_empty() {
                context.insert("spans".into(), Value::Array(spans));
            }
        }

        let mut captured = CrumbEvent::new();
        captured.level = crumbtrail_level(meta.level());
        captured.logger = Some(target.to_string());
        captured.message = match (&fields.message, &fields.exception) {
            (Some(message), _) => Some(message.clone()),
            (None, Some(_)) => None, // the exception says it
            (None, None) => Some(meta.name().to_owned()),
        };
        captured.exception = fields.exception.take().map(Into::into);
        captured.extra = fields.data.clone();
        captured.contexts.insert(CONTEXT, context);
        let hint = TracingHint::new(meta, target);
        let id = capture_event_with_hint(captured, EventHint::with_data(hint.clone()));

        // After the capture, so the event does not carry itself; later events show it.
        let message = fields.message.or(fields.error_text);
        let mut data = fields.data;
        if let Some(id) = id {
            data.insert("event_id".into(), Value::String(id.to_string()));
        }
        let crumb = breadcrumb(client, meta.level(), hint.target_cow(), message, data);
        add_breadcrumb_with_hint(crumb, &BreadcrumbHint::new(&hint));
    }
}

fn breadcrumb(
    client: &Client,
    level: &Level,
    target: Cow<'static, str>,
    message: Option<String>,
    data: Map<String, Value>,
) -> Breadcrumb {
    Breadcrumb {
        ty: if *level == Level::ERROR {
            "error"
        } else {
            "default"
        }
        .into(),
        category: Some(target),
        message: message.map(Cow::Owned),
        level: crumbtrail_level(level),
        // Without a `before_breadcrumb` hook nothing reads the crumb before an event carries
        // it: the core stamps it when it records it and converts the time only for the crumbs
        // events carry.
        timestamp: client
            .options()
            .before_breadcrumb
            .is_some()
            .then(crumbtrail_core::protocol::timestamp::now),
        data,
        origin: None,
    }
}

/// The recorded spans around `event`, outermost first: `{"name", "target", "fields"}`.
fn spans_of<S>(event: &Event<'_>, ctx: &Context<'_, S>) -> Vec<Value>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(scope) = ctx.event_scope(event) else {
        return Vec::new();
    };
    let mut spans: Vec<Value> = scope
        .filter_map(|span| {
            let extensions = span.extensions();
            let SpanFields(fields) = extensions.get::<SpanFields>()?;
            let mut entry = Map::new();
            entry.insert("name".into(), Value::String(span.name().to_owned()));
            entry.insert(
                "target".into(),
                Value::String(span.metadata().target().to_owned()),
            );
            if !fields.is_empty() {
                entry.insert("fields".into(), Value::Object(fields.clone()));
            }
            Some(Value::Object(entry))
        })
        .take(MAX_SPANS)
        .collect();
    spans.reverse();
    spans
}
