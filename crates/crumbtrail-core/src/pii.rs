//! Personal data and secrets (PROTOCOL.md §12): the always-on key denylist, and what
//! `send_default_pii = false` (the default) leaves out.

use crumbtrail_protocol::{
    Breadcrumb, Event, Exception, Meta, MetaNode, Remark, RemarkType, Request, Span, Transaction,
    User, Values,
};
use serde_json::{Map, Value};

use crate::options::ClientOptions;

/// The value that replaces a filtered one.
pub const FILTERED: &str = "[Filtered]";

/// Keys whose values are always replaced by `[Filtered]` (exact key, any case).
pub const DEFAULT_DENYLIST: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "api_key",
    "apikey",
    "auth",
    "credentials",
    "mysql_pwd",
    "privatekey",
    "private_key",
    "token",
    "session",
    "csrftoken",
    "sessionid",
    "x_csrftoken",
    "x_forwarded_for",
    "set_cookie",
    "cookie",
    "authorization",
    "proxy-authorization",
    "x_api_key",
    "aiohttp_session",
    "connect.sid",
    "csrf_token",
    "csrf",
    "_csrf",
    "_csrf_token",
    "phpsessid",
    "_session",
    "symfony",
    "user_session",
    "_xsrf",
    "xsrf-token",
];

/// Keys added to the denylist when personal data is not allowed.
pub const PII_DENYLIST: &[&str] = &["x_forwarded_for", "x_real_ip", "ip_address", "remote_addr"];

/// Header names (upper case, `-` → `_`) whose values are dropped without PII consent.
const SENSITIVE_HEADERS: &[&str] = &[
    "SET_COOKIE",
    "COOKIE",
    "AUTHORIZATION",
    "PROXY_AUTHORIZATION",
    "X_API_KEY",
    "X_FORWARDED_FOR",
    "X_REAL_IP",
    "REMOTE_ADDR",
];

/// The key denylist applied to request headers, cookies and data, `extra`, `user.data`,
/// breadcrumb data and frame variables.
///
/// ```
/// use crumbtrail_core::EventScrubber;
/// let scrubber = EventScrubber::default().with_keys(["card_number"]);
/// assert!(scrubber.is_denied("Card_Number"));
/// assert!(scrubber.is_denied("password"));
/// ```
#[derive(Debug, Clone)]
pub struct EventScrubber {
    denylist: Vec<String>,
    /// Whether nested objects are scrubbed too (default true).
    pub recursive: bool,
}

impl Default for EventScrubber {
    fn default() -> Self {
        EventScrubber {
            denylist: DEFAULT_DENYLIST.iter().map(|s| (*s).to_owned()).collect(),
            recursive: true,
        }
    }
}

impl EventScrubber {
    /// Adds keys to the denylist.
    pub fn with_keys<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, keys: I) -> Self {
        self.denylist
            .extend(keys.into_iter().map(|k| k.as_ref().to_ascii_lowercase()));
        self
    }

    /// Whether a key's value is filtered.
    pub fn is_denied(&self, key: &str) -> bool {
        self.denylist.iter().any(|d| d.eq_ignore_ascii_case(key))
    }
}

fn filtered_meta() -> MetaNode {
    MetaNode::new().with_remark(Remark::new("!config", RemarkType::Substituted))
}

fn removed_meta() -> MetaNode {
    MetaNode::new().with_remark(Remark::new("!config", RemarkType::Removed))
}

/// The parts of an event or a transaction the PII policy and the scrubber look at.
struct Payload<'a> {
    user: &'a mut Option<User>,
    request: &'a mut Option<Request>,
    extra: &'a mut Map<String, Value>,
    breadcrumbs: &'a mut Option<Values<Breadcrumb>>,
    /// An event's exceptions (their frames' variables).
    exception: Option<&'a mut Option<Values<Exception>>>,
    /// A transaction's child spans (their data).
    spans: &'a mut [Span],
    meta: &'a mut Meta,
}

/// Applies the PII policy and the scrubber to an event.
pub(crate) fn apply(event: &mut Event, options: &ClientOptions) {
    apply_to(
        Payload {
            user: &mut event.user,
            request: &mut event.request,
            extra: &mut event.extra,
            breadcrumbs: &mut event.breadcrumbs,
            exception: Some(&mut event.exception),
            spans: &mut [],
            meta: &mut event.meta,
        },
        options,
    );
}

/// Applies the PII policy and the scrubber to a transaction, as to an event: its request
/// interface carries the same headers an error in the same request would.
pub(crate) fn apply_to_transaction(tx: &mut Transaction, options: &ClientOptions) {
    apply_to(
        Payload {
            user: &mut tx.user,
            request: &mut tx.request,
            extra: &mut tx.extra,
            breadcrumbs: &mut tx.breadcrumbs,
            exception: None,
            spans: &mut tx.spans,
            meta: &mut tx.meta,
        },
        options,
    );
}

fn apply_to(payload: Payload<'_>, options: &ClientOptions) {
    let Payload {
        user,
        request,
        extra,
        breadcrumbs,
        exception,
        spans,
        meta,
    } = payload;
    let pii = options.send_default_pii;
    if !pii {
        if let Some(user) = user {
            if user.ip_address.take().is_some() {
                meta.annotate(&["user", "ip_address"], removed_meta());
            }
        }
        if let Some(req) = request {
            if req.cookies.take().is_some() {
                meta.annotate(&["request", "cookies"], removed_meta());
            }
            for (name, value) in req.headers.iter_mut() {
                let norm = name.to_ascii_uppercase().replace('-', "_");
                if SENSITIVE_HEADERS.contains(&norm.as_str()) && !value.is_empty() {
                    value.clear();
                    meta.annotate(&["request", "headers", name.as_str()], removed_meta());
                }
            }
            if req.env.remove("REMOTE_ADDR").is_some() {
                meta.annotate(&["request", "env", "REMOTE_ADDR"], removed_meta());
            }
        }
    }
    let Some(scrubber) = &options.event_scrubber else {
        return;
    };
    let denied = |key: &str| {
        scrubber.is_denied(key)
            || (!pii && PII_DENYLIST.iter().any(|d| d.eq_ignore_ascii_case(key)))
    };
    let mut marks: Vec<Vec<String>> = Vec::new();
    if let Some(req) = request {
        for (name, value) in req.headers.iter_mut() {
            let norm = name.to_ascii_lowercase().replace('-', "_");
            if (denied(name) || denied(&norm)) && value != FILTERED && !value.is_empty() {
                *value = FILTERED.to_owned();
                marks.push(vec!["request".into(), "headers".into(), name.clone()]);
            }
        }
        if let Some(Value::Object(data)) = &mut req.data {
            scrub_map(
                data,
                &denied,
                scrubber.recursive,
                &mut vec!["request".into(), "data".into()],
                &mut marks,
            );
        }
    }
    scrub_map(
        extra,
        &denied,
        scrubber.recursive,
        &mut vec!["extra".into()],
        &mut marks,
    );
    if let Some(user) = user {
        scrub_map(
            &mut user.data,
            &denied,
            scrubber.recursive,
            &mut vec!["user".into(), "data".into()],
            &mut marks,
        );
    }
    if let Some(crumbs) = breadcrumbs {
        for (i, crumb) in crumbs.values.iter_mut().enumerate() {
            let mut path = vec![
                "breadcrumbs".into(),
                "values".into(),
                i.to_string(),
                "data".into(),
            ];
            scrub_map(
                &mut crumb.data,
                &denied,
                scrubber.recursive,
                &mut path,
                &mut marks,
            );
        }
    }
    for (ei, exc) in exception
        .into_iter()
        .flat_map(|e| e.iter_mut())
        .flat_map(|e| e.values.iter_mut())
        .enumerate()
    {
        for (fi, frame) in exc
            .stacktrace
            .iter_mut()
            .flat_map(|s| s.frames.iter_mut())
            .enumerate()
        {
            let mut path = vec![
                "exception".into(),
                "values".into(),
                ei.to_string(),
                "stacktrace".into(),
                "frames".into(),
                fi.to_string(),
                "vars".into(),
            ];
            scrub_map(
                &mut frame.vars,
                &denied,
                scrubber.recursive,
                &mut path,
                &mut marks,
            );
        }
    }
    for (i, span) in spans.iter_mut().enumerate() {
        let mut path = vec!["spans".into(), i.to_string(), "data".into()];
        scrub_map(
            &mut span.data,
            &denied,
            scrubber.recursive,
            &mut path,
            &mut marks,
        );
    }
    for path in marks {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        meta.annotate(&path, filtered_meta());
    }
}

fn scrub_map(
    map: &mut Map<String, Value>,
    denied: &dyn Fn(&str) -> bool,
    recursive: bool,
    path: &mut Vec<String>,
    marks: &mut Vec<Vec<String>>,
) {
    for (key, value) in map.iter_mut() {
        path.push(key.clone());
        if denied(key) {
            if !matches!(value, Value::Null) && value.as_str() != Some(FILTERED) {
                *value = Value::String(FILTERED.to_owned());
                marks.push(path.clone());
            }
        } else if recursive {
            match value {
                Value::Object(inner) => scrub_map(inner, denied, recursive, path, marks),
                Value::Array(items) => {
                    for (i, item) in items.iter_mut().enumerate() {
                        if let Value::Object(inner) = item {
                            path.push(i.to_string());
                            scrub_map(inner, denied, recursive, path, marks);
                            path.pop();
                        }
                    }
                }
                _ => {}
            }
        }
        path.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crumbtrail_protocol::{Breadcrumb, Request, User};
    use serde_json::json;

    fn event() -> Event {
        let mut e = Event::new();
        e.user = Some(User {
            id: Some("42".into()),
            ip_address: Some("10.0.0.1".into()),
            ..Default::default()
        });
        e.request = Some(Request {
            cookies: Some("sid=abc".into()),
            headers: [
                ("Authorization".to_owned(), "Bearer x".to_owned()),
                ("X-Request-Id".to_owned(), "r1".to_owned()),
                ("X-Csrftoken".to_owned(), "t".to_owned()),
            ]
            .into(),
            data: Some(json!({"password": "hunter2", "item": {"token": "t", "qty": 2}})),
            ..Default::default()
        });
        e.extra.insert("api_key".into(), json!("k"));
        let mut crumb = Breadcrumb::new();
        crumb.data.insert("Authorization".into(), json!("Bearer y"));
        e.breadcrumbs = Some(vec![crumb].into());
        e
    }

    #[test]
    fn transactions_are_scrubbed_as_events_are() {
        use crumbtrail_protocol::{SpanId, TraceContext, TraceId};
        let e = event();
        let (trace, root) = (TraceId::random(), SpanId::random());
        let mut tx = Transaction::new("GET /login", TraceContext::new(trace, root));
        tx.user = e.user;
        tx.request = e.request;
        tx.extra = e.extra;
        // Underscore spellings are the same headers once normalised (§12.2).
        let headers = &mut tx.request.as_mut().unwrap().headers;
        headers.insert("proxy_authorization".into(), "Basic p".into());
        headers.insert("x_api_key".into(), "k".into());
        let mut span = Span::new(trace, SpanId::random(), "db.query");
        span.data.insert("password".into(), json!("hunter2"));
        span.data.insert("rows".into(), json!(3));
        tx.spans.push(span);

        apply_to_transaction(&mut tx, &ClientOptions::default());
        assert_eq!(tx.user.as_ref().unwrap().ip_address, None);
        let req = tx.request.as_ref().unwrap();
        assert_eq!(req.cookies, None);
        assert_eq!(req.headers["Authorization"], "");
        assert_eq!(req.headers["proxy_authorization"], "");
        assert_eq!(req.headers["x_api_key"], "");
        assert_eq!(req.headers["X-Csrftoken"], FILTERED);
        assert_eq!(req.headers["X-Request-Id"], "r1");
        assert_eq!(req.data.as_ref().unwrap()["password"], FILTERED);
        assert_eq!(tx.extra["api_key"], FILTERED);
        assert_eq!(tx.spans[0].data["password"], FILTERED);
        assert_eq!(tx.spans[0].data["rows"], 3);
        let meta = serde_json::to_value(&tx.meta).unwrap();
        assert_eq!(
            meta["request"]["headers"]["X-Csrftoken"][""]["rem"],
            json!([["!config", "s"]])
        );
        assert_eq!(
            meta["spans"]["0"]["data"]["password"][""]["rem"],
            json!([["!config", "s"]])
        );
    }

    #[test]
    fn defaults_drop_pii_and_filter_secrets() {
        let mut e = event();
        apply(&mut e, &ClientOptions::default());
        let user = e.user.as_ref().unwrap();
        assert_eq!(user.ip_address, None);
        assert_eq!(user.id.as_deref(), Some("42"), "explicit user data is kept");
        let req = e.request.as_ref().unwrap();
        assert_eq!(req.cookies, None);
        assert_eq!(req.headers["Authorization"], "");
        assert_eq!(req.headers["X-Request-Id"], "r1");
        assert_eq!(req.headers["X-Csrftoken"], FILTERED);
        assert_eq!(req.data.as_ref().unwrap()["password"], FILTERED);
        assert_eq!(req.data.as_ref().unwrap()["item"]["token"], FILTERED);
        assert_eq!(req.data.as_ref().unwrap()["item"]["qty"], 2);
        assert_eq!(e.extra["api_key"], FILTERED);
        assert_eq!(
            e.breadcrumbs.as_ref().unwrap().values[0].data["Authorization"],
            FILTERED
        );
        let meta = serde_json::to_value(&e.meta).unwrap();
        assert_eq!(
            meta["extra"]["api_key"][""]["rem"],
            json!([["!config", "s"]])
        );
        assert_eq!(
            meta["user"]["ip_address"][""]["rem"],
            json!([["!config", "x"]])
        );
    }

    #[test]
    fn pii_consent_keeps_ip_and_cookies_but_still_filters_secrets() {
        let mut e = event();
        apply(
            &mut e,
            &ClientOptions {
                send_default_pii: true,
                ..Default::default()
            },
        );
        assert_eq!(
            e.user.as_ref().unwrap().ip_address.as_deref(),
            Some("10.0.0.1")
        );
        let req = e.request.as_ref().unwrap();
        assert_eq!(req.cookies.as_deref(), Some("sid=abc"));
        assert_eq!(req.headers["Authorization"], FILTERED);
        assert_eq!(e.extra["api_key"], FILTERED);
    }
}
