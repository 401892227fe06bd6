//! The terminal view: one plain-text block per event, with the breadcrumb trail that led to it.
//!
//! These are pure functions (no colours, no I/O), so the quickstart can print the same blocks
//! and tests can compare exact output. Times are UTC. Control characters in any text are
//! escaped (`\n`, `\u{1b}`, ...) so a hostile message can neither break the layout nor send
//! escape sequences to the terminal.

use crumbtrail_protocol::{Breadcrumb, Envelope, Event};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

/// The one-line title of an event: `type: value` of the newest exception (the last one in
/// `exception.values`), else the message, else the log entry, else `<no message>`.
///
/// ```
/// use crumbtrail_devserver::view_terminal::event_title;
/// use crumbtrail_protocol::{Event, Exception};
/// let mut event = Event::new();
/// event.message = Some("cart is empty".into());
/// assert_eq!(event_title(&event), "cart is empty");
/// event.exception = Some(vec![Exception::new("std::io::Error", "disk full")].into());
/// assert_eq!(event_title(&event), "std::io::Error: disk full");
/// ```
pub fn event_title(event: &Event) -> String {
    if let Some(newest) = event.exception.as_ref().and_then(|e| e.values.last()) {
        let title = exception_text(newest.ty.as_deref(), newest.value.as_deref());
        if !title.is_empty() {
            return title;
        }
    }
    let logentry = event
        .logentry
        .as_ref()
        .and_then(|l| l.formatted.as_ref().or(l.message.as_ref()));
    match event.message.as_ref().or(logentry) {
        Some(m) if !m.is_empty() => m.clone(),
        _ => "<no message>".to_owned(),
    }
}

fn exception_text(ty: Option<&str>, value: Option<&str>) -> String {
    match (ty, value) {
        (Some(t), Some(v)) => format!("{t}: {v}"),
        (Some(s), None) | (None, Some(s)) => s.to_owned(),
        (None, None) => String::new(),
    }
}

/// Escapes control characters so the text stays on one line and sends no escape sequences.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// `HH:MM:SS.mmm` in UTC.
pub(crate) fn clock(t: OffsetDateTime) -> String {
    let fmt = format_description!("[hour]:[minute]:[second].[subsecond digits:3]");
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| "??:??:??.???".to_owned())
}

/// `YYYY-MM-DD HH:MM:SS.mmm UTC`.
pub(crate) fn date_time(t: OffsetDateTime) -> String {
    let fmt =
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]");
    let text = t
        .to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| "????-??-?? ??:??:??.???".to_owned());
    format!("{text} UTC")
}

fn data_str<'a>(crumb: &'a Breadcrumb, key: &str) -> Option<&'a str> {
    crumb.data.get(key).and_then(Value::as_str)
}

/// What a breadcrumb says: its message, plus `METHOD URL → status` for HTTP data and
/// `from → to` for navigation data.
pub fn breadcrumb_text(crumb: &Breadcrumb) -> String {
    let method = data_str(crumb, "method");
    let url = data_str(crumb, "url");
    let detail = if method.is_some() || url.is_some() {
        let mut s = [method, url]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        match crumb.data.get("status_code") {
            Some(Value::Number(n)) => s.push_str(&format!(" → {n}")),
            Some(Value::String(code)) => s.push_str(&format!(" → {code}")),
            _ => {}
        }
        Some(s)
    } else if let (Some(from), Some(to)) = (data_str(crumb, "from"), data_str(crumb, "to")) {
        Some(format!("{from} → {to}"))
    } else {
        None
    };
    let text = match (crumb.message.as_deref().filter(|m| !m.is_empty()), detail) {
        (Some(m), Some(d)) => format!("{m} ({d})"),
        (Some(m), None) => m.to_owned(),
        (None, Some(d)) => d,
        (None, None) => String::new(),
    };
    one_line(&text)
}

/// The category shown for a breadcrumb: its category, else its type.
pub(crate) fn breadcrumb_category(crumb: &Breadcrumb) -> String {
    one_line(crumb.category.as_deref().unwrap_or(&crumb.ty))
}

/// Renders one event as a block of lines (each ending in `\n`): level and title, the older
/// exceptions of the chain, event id and time, transaction, release, environment, tags, then
/// the breadcrumbs oldest first, one aligned line each.
///
/// ```
/// use crumbtrail_devserver::view_terminal::render_event;
/// use crumbtrail_protocol::{Breadcrumb, Event, EventId, Level};
/// use time::macros::datetime;
///
/// let mut event = Event::new();
/// event.event_id = "5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b".parse::<EventId>().unwrap();
/// event.timestamp = datetime!(2026-03-01 12:00:00.5 UTC);
/// event.message = Some("checkout failed".into());
/// event.environment = Some("production".into());
/// event.breadcrumbs = Some(vec![
///     Breadcrumb::new()
///         .with_category("auth")
///         .with_message("user logged in")
///         .with_timestamp(datetime!(2026-03-01 12:00:00.1 UTC)),
///     Breadcrumb::http("POST", "https://api.example.com/v1/cart", Some(503))
///         .with_timestamp(datetime!(2026-03-01 12:00:00.25 UTC)),
/// ].into());
///
/// assert_eq!(render_event(&event), "\
/// [ERROR] checkout failed
///   event:       5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b at 2026-03-01 12:00:00.500 UTC
///   environment: production
///   breadcrumbs: 2, oldest first
///     12:00:00.100  info   auth  user logged in
///     12:00:00.250  error  http  POST https://api.example.com/v1/cart → 503
/// ");
/// ```
pub fn render_event(event: &Event) -> String {
    let mut out = format!(
        "[{}] {}\n",
        event.level.as_str().to_ascii_uppercase(),
        one_line(&event_title(event))
    );
    if let Some(exceptions) = &event.exception {
        let older = exceptions.values.len().saturating_sub(1);
        for e in exceptions.values[..older].iter().rev() {
            let text = exception_text(e.ty.as_deref(), e.value.as_deref());
            out.push_str(&format!("  caused by:   {}\n", one_line(&text)));
        }
    }
    out.push_str(&format!(
        "  event:       {} at {}\n",
        event.event_id,
        date_time(event.timestamp)
    ));
    let fields = [
        ("transaction", event.transaction.as_deref()),
        ("release", event.release.as_deref()),
        ("environment", event.environment.as_deref()),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            out.push_str(&format!("  {:<13}{}\n", format!("{name}:"), one_line(v)));
        }
    }
    if !event.tags.is_empty() {
        let tags: Vec<String> = event.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push_str(&format!("  tags:        {}\n", one_line(&tags.join(", "))));
    }
    let crumbs = event
        .breadcrumbs
        .as_ref()
        .map_or(&[][..], |b| &b.values[..]);
    if crumbs.is_empty() {
        out.push_str("  breadcrumbs: none\n");
        return out;
    }
    out.push_str(&format!("  breadcrumbs: {}, oldest first\n", crumbs.len()));
    let rows: Vec<(String, &str, String, String)> = crumbs
        .iter()
        .map(|c| {
            let time = c.timestamp.map_or_else(|| "--:--:--.---".to_owned(), clock);
            (
                time,
                c.level.as_str(),
                breadcrumb_category(c),
                breadcrumb_text(c),
            )
        })
        .collect();
    let level_w = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    let cat_w = rows.iter().map(|r| r.2.chars().count()).max().unwrap_or(0);
    for (time, level, category, text) in rows {
        let line = format!("    {time}  {level:<level_w$}  {category:<cat_w$}  {text}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// One line for an envelope without events: `[envelope #3] client_report, session`.
pub fn render_envelope_summary(seq: u64, envelope: &Envelope) -> String {
    let types: Vec<&str> = envelope.items.iter().map(|i| i.ty().as_str()).collect();
    if types.is_empty() {
        format!("[envelope #{seq}] no items")
    } else {
        format!("[envelope #{seq}] {}", one_line(&types.join(", ")))
    }
}

#[cfg(test)]
#[path = "view_terminal_tests.rs"]
mod tests;
