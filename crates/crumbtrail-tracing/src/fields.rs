//! Turning `tracing` fields into JSON: the message, the other fields, an error's `source()`
//! chain, and the `log.*` fields of records bridged from the `log` crate.

use std::error::Error;
use std::fmt;

use crumbtrail_core::protocol::{Exception, Mechanism};
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};

/// The mechanism of exceptions made from `error` fields (PROTOCOL.md §4.3).
pub(crate) const MECHANISM: &str = "auto.tracing";

/// The longest `source()` chain followed (a guard against cycles).
const MAX_CHAIN: usize = 32;

/// What `tracing-log` puts in the fields of a bridged `log` record.
#[derive(Debug, Default)]
pub(crate) struct LogMeta {
    pub(crate) target: Option<String>,
    pub(crate) module_path: Option<String>,
    pub(crate) file: Option<String>,
    pub(crate) line: Option<u64>,
}

/// Collects an event's (or a span's) fields.
#[derive(Debug, Default)]
pub(crate) struct FieldVisitor {
    /// Whether an error field becomes an exception chain (events) rather than text (crumbs).
    capture_error: bool,
    pub(crate) message: Option<String>,
    pub(crate) data: Map<String, Value>,
    /// The exception chain of the error field, oldest first, when `capture_error`.
    pub(crate) exception: Option<Vec<Exception>>,
    /// The `Display` text of that error.
    pub(crate) error_text: Option<String>,
    /// The name of the field the exception came from.
    error_field: Option<&'static str>,
    pub(crate) log: LogMeta,
}

impl FieldVisitor {
    pub(crate) fn new(capture_error: bool) -> Self {
        FieldVisitor {
            capture_error,
            ..Default::default()
        }
    }

    fn put(&mut self, field: &Field, value: Value) {
        self.data.insert(field.name().to_owned(), value);
    }

    /// Handles the `log.*` fields of a bridged record; `true` if `field` was one.
    fn log_field(&mut self, field: &Field, value: &str) -> bool {
        let slot = match field.name() {
            "log.target" => &mut self.log.target,
            "log.module_path" => &mut self.log.module_path,
            "log.file" => &mut self.log.file,
            _ => return false,
        };
        *slot = Some(value.to_owned());
        true
    }
}

impl Visit for FieldVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        match field.name() {
            "message" => self.message = Some(text),
            name if name.starts_with("log.") && self.log_field(field, &text) => {}
            "log.line" => self.log.line = text.parse().ok(),
            _ => self.put(field, Value::String(text)),
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = Some(value.to_owned()),
            name if name.starts_with("log.") && self.log_field(field, value) => {}
            _ => self.put(field, Value::String(value.to_owned())),
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "log.line" {
            self.log.line = Some(value);
        } else {
            self.put(field, value.into());
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // NaN and infinities have no JSON number: keep their text.
        let value = serde_json::Number::from_f64(value)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(value.to_string()));
        self.put(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let value = i64::try_from(value)
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(value.to_string()));
        self.put(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let value = u64::try_from(value)
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(value.to_string()));
        self.put(field, value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        let name = field.name();
        // The first error field becomes the exception, unless a later one is named `error`.
        let take = self.capture_error
            && (self.exception.is_none() || (name == "error" && self.error_field != Some("error")));
        if take {
            if let Some(previous) = self.error_field.take() {
                // Demote the earlier one to a plain field.
                if let Some(text) = self.error_text.take() {
                    self.data.insert(previous.to_owned(), Value::String(text));
                }
            }
            self.exception = Some(exception_chain(value));
            self.error_text = Some(value.to_string());
            self.error_field = Some(name);
        } else {
            self.put(field, Value::String(value.to_string()));
        }
    }
}

/// One exception per link of the error's `source()` chain, oldest first (the order events
/// carry them in), with the chain's mechanism ids; the outermost error has mechanism
/// `auto.tracing`, `handled: true`.
///
/// `crumbtrail_core::event_from_error` is not used: for a `dyn Error` its type name would be
/// `dyn core::error::Error`. The type of each link here is the head of its `Debug` text, as
/// core does for sources (`ParseIntError { .. }` → `ParseIntError`).
pub(crate) fn exception_chain(error: &(dyn Error + 'static)) -> Vec<Exception> {
    let mut newest_first = Vec::new();
    let mut next = Some(error);
    while let Some(err) = next {
        if newest_first.len() == MAX_CHAIN {
            break;
        }
        newest_first.push(Exception::new(debug_type_name(err), err.to_string()));
        next = err.source();
    }
    if let Some(top) = newest_first.first_mut() {
        let mut mechanism = Mechanism::new(MECHANISM);
        mechanism.handled = Some(true);
        top.mechanism = Some(mechanism);
    }
    Exception::chain(newest_first)
}

/// The head of an error's `Debug` text: `ParseIntError { kind: .. }` → `ParseIntError`,
/// `Custom { .. }` → `Custom`; `Error` when that is not a type-like name.
fn debug_type_name(err: &dyn Error) -> String {
    let debug = format!("{err:?}");
    let head: String = debug
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    if head.is_empty() || head.starts_with(|c: char| c.is_lowercase() || c.is_numeric()) {
        "Error".to_owned()
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::num::ParseIntError);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("bad quantity")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    fn outer() -> Outer {
        Outer("x".parse::<u32>().unwrap_err())
    }

    #[test]
    fn an_error_chain_becomes_exceptions_oldest_first() {
        let err = outer();
        let chain = exception_chain(&err);
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].ty.as_deref(), Some("ParseIntError"));
        assert_eq!(
            chain[0].value.as_deref(),
            Some("invalid digit found in string")
        );
        assert_eq!(chain[1].ty.as_deref(), Some("Outer"));
        assert_eq!(chain[1].value.as_deref(), Some("bad quantity"));
        let top = chain[1].mechanism.as_ref().unwrap();
        assert_eq!(top.ty, "auto.tracing");
        assert_eq!((top.handled, top.exception_id), (Some(true), Some(0)));
        let cause = chain[0].mechanism.as_ref().unwrap();
        assert_eq!((cause.exception_id, cause.parent_id), (Some(1), Some(0)));
        assert_eq!(cause.source.as_deref(), Some("source"));
    }

    #[test]
    fn type_names_fall_back_to_error() {
        assert_eq!(debug_type_name(&std::fmt::Error), "Error");
        let io = std::io::Error::other("x");
        assert_eq!(debug_type_name(&io), "Custom");
    }
}
