//! Recording breadcrumbs: the trail that leads up to an event.

use std::sync::Arc;

use crumbtrail_protocol::Breadcrumb;

use crate::hint::BreadcrumbHint;
use crate::hub;
use crate::scope::{CrumbEntry, CrumbProcessor, estimate_size};

/// What [`add_breadcrumb`] accepts: a crumb, an optional crumb, or a closure that makes one
/// and runs only when the SDK is enabled.
pub trait IntoBreadcrumb {
    /// The crumb to record, if any.
    fn into_breadcrumb(self) -> Option<Breadcrumb>;
}

impl IntoBreadcrumb for Breadcrumb {
    fn into_breadcrumb(self) -> Option<Breadcrumb> {
        Some(self)
    }
}

impl IntoBreadcrumb for Option<Breadcrumb> {
    fn into_breadcrumb(self) -> Option<Breadcrumb> {
        self
    }
}

impl<F: FnOnce() -> Breadcrumb> IntoBreadcrumb for F {
    fn into_breadcrumb(self) -> Option<Breadcrumb> {
        Some(self())
    }
}

/// Records a breadcrumb in the current unit of work's trail. Its timestamp defaults to now;
/// `before_breadcrumb` may change or drop it.
///
/// Pass a closure to build the crumb only when the SDK is enabled:
///
/// ```
/// use crumbtrail_core::{Breadcrumb, add_breadcrumb};
/// add_breadcrumb(Breadcrumb::new().with_category("cart").with_message("loaded"));
/// add_breadcrumb(|| Breadcrumb::new().with_message(format!("expensive {}", 42)));
/// ```
#[inline]
pub fn add_breadcrumb<B: IntoBreadcrumb>(crumb: B) {
    if hub::is_active() {
        record(crumb, &BreadcrumbHint::none(), None);
    }
}

/// [`add_breadcrumb`] with a hint for `before_breadcrumb` (integrations pass the log record,
/// the HTTP request and response, ...).
pub fn add_breadcrumb_with_hint<B: IntoBreadcrumb>(crumb: B, hint: &BreadcrumbHint<'_>) {
    if hub::is_active() {
        record(crumb, hint, None);
    }
}

/// [`add_breadcrumb`] with a processor that runs only if an event actually carries the crumb:
/// expensive work (formatting a body, resolving a name) is deferred until it is needed, and
/// runs on the background sender.
///
/// ```
/// use crumbtrail_core::{Breadcrumb, add_breadcrumb_with_processor};
/// add_breadcrumb_with_processor(Breadcrumb::new().with_category("db"), |crumb| {
///     crumb.message = Some("SELECT ... (formatted only when sent)".into());
/// });
/// ```
pub fn add_breadcrumb_with_processor<B: IntoBreadcrumb>(
    crumb: B,
    processor: impl Fn(&mut Breadcrumb) + Send + Sync + 'static,
) {
    if hub::is_active() {
        record(crumb, &BreadcrumbHint::none(), Some(Arc::new(processor)));
    }
}

/// [`add_breadcrumb_with_processor`] for a processor already behind an `Arc` (see
/// [`ProcessCrumb`](crate::ProcessCrumb)).
///
/// ```
/// use std::sync::Arc;
/// use crumbtrail_core::{Breadcrumb, ProcessCrumb, add_breadcrumb_with_shared_processor};
/// struct Query(String);
/// impl ProcessCrumb for Query {
///     fn process(&self, crumb: &mut Breadcrumb) {
///         crumb.message = Some(self.0.clone().into());
///     }
/// }
/// let query = Arc::new(Query("SELECT 1".into()));
/// add_breadcrumb_with_shared_processor(Breadcrumb::new().with_category("db"), query);
/// ```
pub fn add_breadcrumb_with_shared_processor<B: IntoBreadcrumb>(
    crumb: B,
    processor: CrumbProcessor,
) {
    if hub::is_active() {
        record(crumb, &BreadcrumbHint::none(), Some(processor));
    }
}

fn record<B: IntoBreadcrumb>(
    crumb: B,
    hint: &BreadcrumbHint<'_>,
    processor: Option<CrumbProcessor>,
) {
    // The closure borrows the crumb rather than capturing it: a crumb is ~150 bytes, and
    // moving it through each layer was the largest cost of recording one.
    let mut crumb = Some(crumb);
    hub::with_hub(|hub| {
        let Some(client) = hub::resolve_client(hub) else {
            return;
        };
        let options = &client.ctx.options;
        if !options.enable_breadcrumbs {
            return;
        }
        let (max, max_bytes) = (options.max_breadcrumbs, options.max_breadcrumb_bytes);
        let Some(mut crumb) = crumb.take().and_then(B::into_breadcrumb) else {
            return;
        };
        let recorded_at = crumb.timestamp.is_none().then(std::time::SystemTime::now);
        if let Some(before) = &options.before_breadcrumb {
            let before = Arc::clone(before);
            match crate::sdk_work(|| before(crumb, hint)) {
                Ok(Some(c)) => crumb = c,
                Ok(None) => return,
                Err(_) => {
                    if let Some(c) = hub.client_ref() {
                        c.ctx.debug(
                            "before_breadcrumb_panic",
                            format_args!("before_breadcrumb panicked; the crumb is dropped"),
                        );
                    }
                    return;
                }
            }
        }
        let mut size = estimate_size(&crumb);
        if size > max_bytes / 4 {
            // It would take a quarter of the trail's budget or more (a log line with a large
            // field, say): kept, shortened, rather than pushing the others out or being dropped.
            crate::truncate::shorten_crumb(&mut crumb, options.max_value_length.max(1));
            size = estimate_size(&crumb);
        }
        Arc::make_mut(hub).isolation.crumbs.push(
            CrumbEntry {
                crumb,
                recorded_at,
                size,
                processor,
            },
            max,
            max_bytes,
        );
    });
}
