//! Breadcrumbs: the trail of events that led up to an error (PROTOCOL.md §5).

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::level::Level;

fn default_type() -> Cow<'static, str> {
    Cow::Borrowed("default")
}

fn default_level() -> Level {
    Level::Info
}

/// One breadcrumb. `type` and `level` are always written (`default` and `info` when read
/// without them).
///
/// The text fields are `Cow<'static, str>`: a literal (`"auth"`) or a `&'static str` such as a
/// `tracing` target is stored without an allocation, a `String` is moved in. Recording a crumb
/// sits on every request's hot path, so this matters.
///
/// ```
/// use crumbtrail_protocol::{Breadcrumb, Level};
/// let crumb = Breadcrumb::new()
///     .with_category("auth")
///     .with_message("user logged in")
///     .with_data("user_id", 42);
/// assert_eq!(crumb.level, Level::Info);
/// assert_eq!(crumb.data["user_id"], 42);
///
/// let http = Breadcrumb::http("POST", "https://api.example.com/v1/cart", Some(404));
/// assert_eq!(http.level, Level::Warning);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breadcrumb {
    /// `default`, `debug`, `error`, `info`, `user`, `navigation`, `http`, `query`,
    /// `transaction` or `ui`.
    #[serde(rename = "type", default = "default_type")]
    pub ty: Cow<'static, str>,
    /// A dotted category, e.g. `http`, `query`, `ui.click`, `navigation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Cow<'static, str>>,
    /// Human text (whitespace preserved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Cow<'static, str>>,
    /// The severity; `info` when absent.
    #[serde(default = "default_level")]
    pub level: Level,
    /// When it happened; written as float seconds.
    #[serde(
        default,
        with = "crate::timestamp::option_float",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<OffsetDateTime>,
    /// Type-specific data (see the table in §5).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
    /// A marker of what recorded the crumb.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Cow<'static, str>>,
}

impl Breadcrumb {
    /// A `default`-type, `info`-level breadcrumb stamped now.
    pub fn new() -> Self {
        Breadcrumb {
            ty: default_type(),
            category: None,
            message: None,
            level: Level::Info,
            timestamp: Some(crate::timestamp::now()),
            data: Map::new(),
            origin: None,
        }
    }

    /// The level an HTTP-client breadcrumb gets from its response status: `error` for 5xx,
    /// `warning` for 4xx, `info` otherwise.
    pub const fn level_for_http_status(status_code: u16) -> Level {
        match status_code {
            500..=599 => Level::Error,
            400..=499 => Level::Warning,
            _ => Level::Info,
        }
    }

    /// An outgoing-HTTP breadcrumb: type and category `http`, `data.method`, `data.url` and,
    /// when there was a response, `data.status_code` with the level it implies.
    ///
    /// Strip credentials (and, without PII consent, the query string) from `url` first.
    pub fn http(
        method: impl Into<String>,
        url: impl Into<String>,
        status_code: Option<u16>,
    ) -> Self {
        let mut crumb = Breadcrumb::new()
            .with_type("http")
            .with_category("http")
            .with_data("url", url.into())
            .with_data("method", method.into());
        if let Some(code) = status_code {
            crumb.level = Self::level_for_http_status(code);
            crumb.data.insert("status_code".to_owned(), code.into());
        }
        crumb
    }

    /// A `navigation` breadcrumb from one location to another.
    pub fn navigation(from: impl Into<String>, to: impl Into<String>) -> Self {
        Breadcrumb::new()
            .with_type("navigation")
            .with_category("navigation")
            .with_data("from", from.into())
            .with_data("to", to.into())
    }

    /// Sets the type (builder style).
    pub fn with_type(mut self, ty: impl Into<Cow<'static, str>>) -> Self {
        self.ty = ty.into();
        self
    }

    /// Sets the category (builder style).
    pub fn with_category(mut self, category: impl Into<Cow<'static, str>>) -> Self {
        self.category = Some(category.into());
        self
    }

    /// Sets the message (builder style).
    pub fn with_message(mut self, message: impl Into<Cow<'static, str>>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the level (builder style).
    pub fn with_level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Sets the timestamp (builder style).
    pub fn with_timestamp(mut self, timestamp: OffsetDateTime) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Sets one `data` entry (builder style).
    pub fn with_data(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.data.insert(key.into(), value.into());
        self
    }

    /// Sets the origin (builder style).
    pub fn with_origin(mut self, origin: impl Into<Cow<'static, str>>) -> Self {
        self.origin = Some(origin.into());
        self
    }
}

impl Default for Breadcrumb {
    /// Same as [`Breadcrumb::new`].
    fn default() -> Self {
        Breadcrumb::new()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;
    use crate::event::testutil::{assert_golden, assert_round_trip};

    #[test]
    fn golden_http_breadcrumb() {
        let crumb: Breadcrumb = assert_golden(
            r#"{"type":"http","category":"http","level":"warning","timestamp":1772366399.801,
 "data":{"url":"https://api.example.com/v1/cart","method":"POST","status_code":404,
         "reason":"Not Found","request_body_size":87,"response_body_size":41}}"#,
        );
        assert_eq!(crumb.ty, "http");
        assert_eq!(crumb.level, Level::Warning);
        assert_eq!(
            crumb.timestamp,
            Some(datetime!(2026-03-01 11:59:59.801 UTC))
        );
        assert_eq!(crumb.data["status_code"], 404);
    }

    #[test]
    fn http_helper_matches_the_golden_shape() {
        let crumb = Breadcrumb::http("POST", "https://api.example.com/v1/cart", Some(404))
            .with_timestamp(datetime!(2026-03-01 11:59:59.801 UTC))
            .with_data("reason", "Not Found")
            .with_data("request_body_size", 87)
            .with_data("response_body_size", 41);
        let golden: Value = serde_json::from_str(
            r#"{"type":"http","category":"http","level":"warning","timestamp":1772366399.801,
 "data":{"url":"https://api.example.com/v1/cart","method":"POST","status_code":404,
         "reason":"Not Found","request_body_size":87,"response_body_size":41}}"#,
        )
        .unwrap();
        assert_eq!(serde_json::to_value(&crumb).unwrap(), golden);
    }

    #[test]
    fn http_levels_follow_the_status() {
        let level = |code| Breadcrumb::http("GET", "u", Some(code)).level;
        assert_eq!(level(200), Level::Info);
        assert_eq!(level(302), Level::Info);
        assert_eq!(level(400), Level::Warning);
        assert_eq!(level(499), Level::Warning);
        assert_eq!(level(500), Level::Error);
        assert_eq!(level(599), Level::Error);
        let no_response = Breadcrumb::http("GET", "u", None);
        assert_eq!(no_response.level, Level::Info);
        assert!(!no_response.data.contains_key("status_code"));
    }

    #[test]
    fn defaults_when_reading_a_bare_crumb() {
        let crumb: Breadcrumb = serde_json::from_str(r#"{"message":"hi"}"#).unwrap();
        assert_eq!(crumb.ty, "default");
        assert_eq!(crumb.level, Level::Info);
        assert_eq!(crumb.timestamp, None);
        assert_eq!(
            serde_json::to_value(&crumb).unwrap(),
            json!({"type": "default", "level": "info", "message": "hi"})
        );
        let crumb: Breadcrumb =
            serde_json::from_str(r#"{"level":"critical","timestamp":"2026-03-01T12:00:00Z"}"#)
                .unwrap();
        assert_eq!(crumb.level, Level::Fatal);
        assert_eq!(crumb.timestamp, Some(datetime!(2026-03-01 12:00:00 UTC)));
    }

    #[test]
    fn builders_set_every_field_and_round_trip() {
        let crumb = Breadcrumb::navigation("/cart", "/checkout")
            .with_message("go")
            .with_level(Level::Debug)
            .with_origin("auto.navigation");
        assert_eq!(crumb.data["from"], "/cart");
        assert_eq!(crumb.data["to"], "/checkout");
        assert!(crumb.timestamp.is_some());
        assert_round_trip(&crumb);
        let d = Breadcrumb::default();
        assert_eq!((&*d.ty, d.level), ("default", Level::Info));
    }
}
