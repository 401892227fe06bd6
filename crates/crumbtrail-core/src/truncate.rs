//! Trimming over-long values on the client, before the server would (PROTOCOL.md §3.6), so
//! nothing is rejected and every cut is annotated in `_meta`.

use crumbtrail_protocol::limits::{MAX_MESSAGE_CHARS, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS};
use crumbtrail_protocol::{Breadcrumb, Context, Event, MetaNode, Remark, RemarkType};
use serde_json::{Map, Value};

/// Cuts `s` to at most `max` characters (on a char boundary), ending in `...` when cut.
/// Returns the original length in characters when it was cut.
pub(crate) fn trim(s: &mut String, max: usize) -> Option<usize> {
    if s.len() <= max {
        return None; // fast path: bytes >= chars
    }
    let chars = s.chars().count();
    if chars <= max {
        return None;
    }
    let keep = max.saturating_sub(3);
    let cut = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    s.truncate(cut);
    s.push_str("...");
    Some(chars)
}

fn note(event: &mut Event, path: &[&str], original: usize, max: usize) {
    event.meta.annotate(
        path,
        MetaNode::new()
            .with_len(original as u64)
            .with_remark(Remark::with_range(
                "!limit",
                RemarkType::Substituted,
                (max.saturating_sub(3)) as u64,
                max as u64,
            )),
    );
}

/// Where a cut was made, and the original length there.
type Cuts = Vec<(Vec<String>, usize)>;

/// Trims every string in `value`, nested ones too, to `max` characters, noting each cut
/// under its path.
fn trim_strings(value: &mut Value, max: usize, path: &mut Vec<String>, cuts: &mut Cuts) {
    match value {
        Value::String(s) => {
            if let Some(len) = trim(s, max) {
                cuts.push((path.clone(), len));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(i.to_string());
                trim_strings(item, max, path, cuts);
                path.pop();
            }
        }
        Value::Object(map) => trim_map(map, max, path, cuts),
        _ => {}
    }
}

fn trim_map(map: &mut Map<String, Value>, max: usize, path: &mut Vec<String>, cuts: &mut Cuts) {
    for (key, value) in map.iter_mut() {
        path.push(key.clone());
        trim_strings(value, max, path, cuts);
        path.pop();
    }
}

/// Shortens a breadcrumb's message and data strings to `max` characters: what a crumb too
/// large for the trail's byte budget becomes, rather than being dropped. (An event's crumbs
/// are trimmed, and the cuts noted, again by [`apply`].)
pub(crate) fn shorten_crumb(crumb: &mut Breadcrumb, max: usize) {
    if let Some(m) = &mut crumb.message {
        trim(m.to_mut(), max);
    }
    trim_map(&mut crumb.data, max, &mut Vec::new(), &mut Vec::new());
}

/// Trims the message, tags, exception values, breadcrumb messages, and every string in
/// `extra`, breadcrumb data and free-form contexts (a log line's fields end up there: one
/// large field would otherwise make the event too large for the server to take at all).
pub(crate) fn apply(event: &mut Event, max_value_length: usize) {
    let message_max = MAX_MESSAGE_CHARS.min(max_value_length.max(1));
    if let Some(m) = &mut event.message {
        if let Some(len) = trim(m, message_max) {
            note(event, &["message"], len, message_max);
        }
    }
    if event
        .tags
        .iter()
        .any(|(k, v)| k.len() > MAX_TAG_KEY_CHARS || v.len() > MAX_TAG_VALUE_CHARS)
    {
        let tags = std::mem::take(&mut event.tags);
        for (mut k, mut v) in tags {
            trim(&mut k, MAX_TAG_KEY_CHARS);
            if let Some(len) = trim(&mut v, MAX_TAG_VALUE_CHARS) {
                note(event, &["tags", k.as_str()], len, MAX_TAG_VALUE_CHARS);
            }
            event.tags.insert(k, v);
        }
    }
    let mut cuts = Vec::new();
    for (i, exc) in event
        .exception
        .iter_mut()
        .flat_map(|e| e.values.iter_mut())
        .enumerate()
    {
        if let Some(v) = &mut exc.value {
            if let Some(len) = trim(v, message_max) {
                cuts.push((
                    vec![
                        "exception".to_owned(),
                        "values".into(),
                        i.to_string(),
                        "value".into(),
                    ],
                    len,
                ));
            }
        }
    }
    for (i, crumb) in event
        .breadcrumbs
        .iter_mut()
        .flat_map(|b| b.values.iter_mut())
        .enumerate()
    {
        if let Some(m) = crumb
            .message
            .as_mut()
            .filter(|m| m.len() > max_value_length)
        {
            if let Some(len) = trim(m.to_mut(), max_value_length.max(1)) {
                cuts.push((
                    vec![
                        "breadcrumbs".to_owned(),
                        "values".into(),
                        i.to_string(),
                        "message".into(),
                    ],
                    len,
                ));
            }
        }
    }
    let max = max_value_length.max(1);
    trim_map(&mut event.extra, max, &mut vec!["extra".into()], &mut cuts);
    for (i, crumb) in event
        .breadcrumbs
        .iter_mut()
        .flat_map(|b| b.values.iter_mut())
        .enumerate()
    {
        let mut path = vec![
            "breadcrumbs".to_owned(),
            "values".into(),
            i.to_string(),
            "data".into(),
        ];
        trim_map(&mut crumb.data, max, &mut path, &mut cuts);
    }
    for (name, context) in event.contexts.0.iter_mut() {
        if let Context::Other(map) = context {
            let mut path = vec!["contexts".to_owned(), name.clone()];
            trim_map(map, max, &mut path, &mut cuts);
        }
    }
    for (path, len) in cuts {
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        note(event, &path, len, max_value_length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_on_char_boundaries_and_annotates() {
        let mut s = "é".repeat(10);
        assert_eq!(trim(&mut s, 5), Some(10));
        assert_eq!(s, "éé...");
        let mut short = "abc".to_owned();
        assert_eq!(trim(&mut short, 5), None);

        let mut e = Event::new();
        e.message = Some("x".repeat(2000));
        e.tags.insert("k".into(), "v".repeat(300));
        apply(&mut e, 1024);
        assert_eq!(e.message.as_ref().unwrap().chars().count(), 1024);
        assert_eq!(e.tags["k"].chars().count(), 200);
        let meta = serde_json::to_value(&e.meta).unwrap();
        assert_eq!(meta["message"][""]["len"], 2000);
        assert_eq!(meta["tags"]["k"][""]["len"], 300);
    }

    #[test]
    fn trims_strings_in_extra_crumb_data_and_contexts() {
        let big = "x".repeat(2_000_000);
        let mut e = Event::new();
        e.extra.insert("blob".into(), big.clone().into());
        e.extra.insert("n".into(), 7.into());
        e.extra
            .insert("nested".into(), serde_json::json!({"list": ["short", big]}));
        let mut crumb = Breadcrumb::new();
        crumb.data.insert("body".into(), big.clone().into());
        e.breadcrumbs = Some(vec![crumb].into());
        let mut tracing = Map::new();
        tracing.insert("field".into(), big.into());
        e.contexts.insert("tracing", Context::Other(tracing));

        apply(&mut e, 1024);
        assert_eq!(e.extra["blob"].as_str().unwrap().chars().count(), 1024);
        assert_eq!(e.extra["n"], 7);
        assert_eq!(e.extra["nested"]["list"][0], "short");
        assert!(
            e.extra["nested"]["list"][1]
                .as_str()
                .unwrap()
                .ends_with("...")
        );
        let crumbs = &e.breadcrumbs.as_ref().unwrap().values;
        assert_eq!(crumbs[0].data["body"].as_str().unwrap().len(), 1024);
        let Some(Context::Other(tracing)) = e.contexts.get("tracing") else {
            panic!("the tracing context")
        };
        assert_eq!(tracing["field"].as_str().unwrap().len(), 1024);
        assert!(serde_json::to_vec(&e).unwrap().len() < 64 * 1024);
        let meta = serde_json::to_value(&e.meta).unwrap();
        assert_eq!(meta["extra"]["blob"][""]["len"], 2_000_000);
        assert_eq!(meta["extra"]["nested"]["list"]["1"][""]["len"], 2_000_000);
        assert_eq!(
            meta["breadcrumbs"]["values"]["0"]["data"]["body"][""]["len"],
            2_000_000
        );
        assert_eq!(meta["contexts"]["tracing"]["field"][""]["len"], 2_000_000);
    }
}
