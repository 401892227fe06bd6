//! The web view: server-rendered HTML, no JavaScript. `/` lists the events (newest first, the
//! page refreshes itself every 5 s); `/events/{id}` shows one event: its exception chain,
//! breadcrumb timeline (`<ol id="breadcrumbs">` of `<li class="crumb">`), tags and contexts.
//! Every piece of event text goes through [`escape`].

use std::fmt::Write;
use std::sync::Arc;

use crumbtrail_protocol::{EventId, Exception};
use http::StatusCode;

use crate::server::response::{Resp, html};
use crate::server::shared::{Shared, lock};
use crate::storage::ReceivedEvent;
use crate::view_terminal::{breadcrumb_category, breadcrumb_text, clock, date_time, event_title};

/// Escapes text for HTML element content and quoted attribute values.
///
/// ```
/// use crumbtrail_devserver::view_html::escape;
/// assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
/// ```
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}\
table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left;vertical-align:top}\
tr:nth-child(even){background:#f4f4f4}pre,code,.crumb{font-family:ui-monospace,monospace}\
.level-fatal,.level-error{color:#b00}.level-warning{color:#a60}.level-debug{color:#777}\
.crumb{padding:.15rem 0}.crumb span{margin-right:.8rem}dt{font-weight:bold}";

fn page(title: &str, head_extra: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{head_extra}\
         <title>{} · crumbtrail devserver</title><style>{STYLE}</style></head>\
         <body>\n{body}\n</body></html>\n",
        escape(title)
    )
}

/// The event list page.
pub fn render_index(events: &[Arc<ReceivedEvent>]) -> String {
    let mut body = String::from("<h1>crumbtrail devserver</h1>\n");
    if events.is_empty() {
        body.push_str(
            "<p id=\"no-events\">No events yet. This page refreshes every 5 seconds.</p>",
        );
        return page(
            "events",
            "<meta http-equiv=\"refresh\" content=\"5\">",
            &body,
        );
    }
    let _ = write!(
        body,
        "<p>{} events, newest first.</p>\n<table id=\"events\"><tr><th>time</th><th>level</th>\
         <th>title</th><th>release</th><th>environment</th></tr>\n",
        events.len()
    );
    for e in events.iter().rev() {
        let ev = &e.event;
        let level = ev.level.as_str();
        let _ = writeln!(
            body,
            "<tr class=\"event level-{level}\"><td>{}</td><td>{level}</td>\
             <td><a href=\"/events/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
            escape(&date_time(ev.timestamp)),
            ev.event_id,
            escape(&event_title(ev)),
            escape(ev.release.as_deref().unwrap_or("")),
            escape(ev.environment.as_deref().unwrap_or("")),
        );
    }
    body.push_str("</table>");
    page(
        "events",
        "<meta http-equiv=\"refresh\" content=\"5\">",
        &body,
    )
}

fn exception_html(out: &mut String, e: &Exception) {
    let _ = write!(
        out,
        "<li class=\"exception\"><strong>{}</strong>{}{}",
        escape(e.ty.as_deref().unwrap_or("")),
        if e.ty.is_some() && e.value.is_some() {
            ": "
        } else {
            ""
        },
        escape(e.value.as_deref().unwrap_or(""))
    );
    if let Some(m) = &e.mechanism {
        let handled = match m.handled {
            Some(true) => ", handled",
            Some(false) => ", unhandled",
            None => "",
        };
        let _ = write!(out, " <em>({}{handled})</em>", escape(&m.ty));
    }
    if let Some(st) = e.stacktrace.as_ref().filter(|s| !s.frames.is_empty()) {
        out.push_str("\n<pre class=\"frames\">");
        for f in &st.frames {
            let place = match (&f.filename, f.lineno) {
                (Some(file), Some(line)) => format!(" at {file}:{line}"),
                (Some(file), None) => format!(" at {file}"),
                _ => String::new(),
            };
            let func = f.function.as_deref().unwrap_or("<unknown>");
            let _ = writeln!(out, "{}", escape(&format!("{func}{place}")));
        }
        out.push_str("</pre>");
    }
    out.push_str("</li>\n");
}

/// The page of one event.
pub fn render_event_page(received: &ReceivedEvent) -> String {
    let ev = &received.event;
    let title = event_title(ev);
    let level = ev.level.as_str();
    let mut body = format!(
        "<p><a href=\"/\">← all events</a></p>\n<h1 class=\"level-{level}\">[{}] {}</h1>\n<dl id=\"meta\">",
        level.to_ascii_uppercase(),
        escape(&title)
    );
    let received_at = date_time(received.received_at);
    let when = date_time(ev.timestamp);
    let id = ev.event_id.to_string();
    let fields = [
        ("event id", Some(id.as_str())),
        ("time", Some(when.as_str())),
        ("received", Some(received_at.as_str())),
        ("item type", Some(received.item_type.as_str())),
        ("platform", Some(ev.platform.as_str())),
        ("transaction", ev.transaction.as_deref()),
        ("release", ev.release.as_deref()),
        ("environment", ev.environment.as_deref()),
        ("server", ev.server_name.as_deref()),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            let _ = write!(body, "<dt>{name}</dt><dd>{}</dd>", escape(v));
        }
    }
    body.push_str("</dl>\n");
    if let Some(ex) = ev.exception.as_ref().filter(|e| !e.values.is_empty()) {
        body.push_str("<h2>Exception chain (newest first)</h2>\n<ol id=\"exceptions\">\n");
        for e in ex.values.iter().rev() {
            exception_html(&mut body, e);
        }
        body.push_str("</ol>\n");
    }
    let crumbs = ev.breadcrumbs.as_ref().map_or(&[][..], |b| &b.values[..]);
    let _ = writeln!(
        body,
        "<h2>Breadcrumbs ({}, oldest first)</h2>\n<ol id=\"breadcrumbs\">",
        crumbs.len()
    );
    for c in crumbs {
        let level = c.level.as_str();
        let time = c.timestamp.map_or_else(|| "--:--:--.---".to_owned(), clock);
        let _ = writeln!(
            body,
            "<li class=\"crumb level-{level}\"><span class=\"time\">{time}</span>\
             <span class=\"level\">{level}</span><span class=\"category\">{}</span>\
             <span class=\"message\">{}</span></li>",
            escape(&breadcrumb_category(c)),
            escape(&breadcrumb_text(c)),
        );
    }
    body.push_str("</ol>\n");
    if !ev.tags.is_empty() {
        body.push_str("<h2>Tags</h2>\n<table id=\"tags\">\n");
        for (k, v) in &ev.tags {
            let _ = writeln!(
                body,
                "<tr><th>{}</th><td>{}</td></tr>",
                escape(k),
                escape(v)
            );
        }
        body.push_str("</table>\n");
    }
    if !ev.contexts.is_empty() {
        body.push_str("<h2>Contexts</h2>\n<div id=\"contexts\">\n");
        let all = serde_json::to_value(&ev.contexts).unwrap_or_default();
        for (name, ctx) in all.as_object().into_iter().flatten() {
            let json = serde_json::to_string_pretty(ctx).unwrap_or_default();
            let _ = writeln!(
                body,
                "<h3>{}</h3><pre>{}</pre>",
                escape(name),
                escape(&json)
            );
        }
        body.push_str("</div>\n");
    }
    let _ = write!(body, "<p><a href=\"/api/0/events/{id}\">raw JSON</a></p>");
    page(&title, "", &body)
}

/// `GET /`.
pub(crate) fn index_response(shared: &Shared) -> Resp {
    let events = lock(&shared.received).events().to_vec();
    html(StatusCode::OK, render_index(&events))
}

/// `GET /events/{id}`.
pub(crate) fn event_response(shared: &Shared, id: &str) -> Resp {
    let found = id
        .parse::<EventId>()
        .ok()
        .and_then(|id| lock(&shared.received).event(&id).cloned());
    match found {
        Some(e) => html(StatusCode::OK, render_event_page(&e)),
        None => html(
            StatusCode::NOT_FOUND,
            page(
                "not found",
                "",
                &format!(
                    "<h1>No such event</h1><p>No event <code>{}</code> has arrived. \
                     <a href=\"/\">All events</a></p>",
                    escape(id)
                ),
            ),
        ),
    }
}

#[cfg(test)]
#[path = "view_html_tests.rs"]
mod tests;
