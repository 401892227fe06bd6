//! Hints: typed extra information that hooks receive next to a breadcrumb or an event.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// What an integration knows about a breadcrumb it records: the log record, the HTTP request
/// and response, ... `before_breadcrumb` can look at it by type.
///
/// ```
/// use crumbtrail_core::BreadcrumbHint;
/// struct Status(u16);
/// let status = Status(503);
/// let hint = BreadcrumbHint::new(&status);
/// assert_eq!(hint.get::<Status>().map(|s| s.0), Some(503));
/// assert!(hint.get::<String>().is_none());
/// ```
#[derive(Clone, Copy, Default)]
pub struct BreadcrumbHint<'a> {
    value: Option<&'a dyn Any>,
}

impl<'a> BreadcrumbHint<'a> {
    /// A hint carrying `value`.
    pub fn new<T: Any>(value: &'a T) -> Self {
        BreadcrumbHint { value: Some(value) }
    }

    /// No hint.
    pub const fn none() -> Self {
        BreadcrumbHint { value: None }
    }

    /// The hint's value, if it is a `T`.
    pub fn get<T: Any>(&self) -> Option<&'a T> {
        self.value.and_then(|v| v.downcast_ref())
    }
}

impl fmt::Debug for BreadcrumbHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.value.is_some() {
            "BreadcrumbHint(..)"
        } else {
            "BreadcrumbHint(none)"
        })
    }
}

/// What `before_send` and event processors may want to know beyond the event itself.
///
/// Hooks run on the background sender, so the hint owns its data.
#[derive(Clone, Default)]
pub struct EventHint {
    /// The type name of the captured error, when the event came from `capture_error`.
    pub error_type: Option<&'static str>,
    /// Whatever the caller attached.
    pub data: Option<Arc<dyn Any + Send + Sync>>,
}

impl EventHint {
    /// A hint carrying a value.
    pub fn with_data<T: Any + Send + Sync>(value: T) -> Self {
        EventHint {
            error_type: None,
            data: Some(Arc::new(value)),
        }
    }

    /// The attached value, if it is a `T`.
    pub fn get<T: Any>(&self) -> Option<&T> {
        self.data.as_deref().and_then(|d| d.downcast_ref())
    }
}

impl fmt::Debug for EventHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventHint")
            .field("error_type", &self.error_type)
            .field("data", &self.data.is_some())
            .finish()
    }
}
