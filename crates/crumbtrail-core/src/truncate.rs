//! Trimming over-long values on the client, before the server would (PROTOCOL.md §3.6), so
//! nothing is rejected and every cut is annotated in `_meta`.

use crumbtrail_protocol::limits::{MAX_MESSAGE_CHARS, MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS};
use crumbtrail_protocol::{Event, MetaNode, Remark, RemarkType};

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

/// Trims the message, tags, exception values and breadcrumb messages.
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
}
