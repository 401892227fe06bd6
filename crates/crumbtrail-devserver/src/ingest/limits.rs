//! What an envelope may hold (PROTOCOL.md §3.4, §3.6): item sizes (413), item counts and
//! mixing rules (400), the required `event_id`, and payloads that must decode (400).
//!
//! The devserver is deliberately strict where Relay would silently drop an item: an SDK under
//! test should hear about every item a real server would not ingest.

use crumbtrail_protocol::limits::{
    MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_ENVELOPE, MAX_CHECK_IN_BYTES, MAX_CONTAINER_BYTES,
};
use crumbtrail_protocol::{Envelope, ItemType};

use crate::server::response::ApiError;

/// The size limit of one item of this type, if it has one.
fn item_limit(ty: &ItemType, max_event_bytes: usize) -> Option<usize> {
    match ty {
        ItemType::Event | ItemType::Transaction | ItemType::Feedback => Some(max_event_bytes),
        ItemType::CheckIn => Some(MAX_CHECK_IN_BYTES),
        ItemType::Log | ItemType::Span | ItemType::TraceMetric => Some(MAX_CONTAINER_BYTES),
        ItemType::Attachment => Some(MAX_ATTACHMENT_BYTES),
        _ => None,
    }
}

/// Item types allowed at most once per envelope.
const SINGLETONS: &[ItemType] = &[
    ItemType::Event,
    ItemType::Transaction,
    ItemType::Feedback,
    ItemType::Log,
    ItemType::CheckIn,
    ItemType::Span,
    ItemType::TraceMetric,
];

/// Checks an envelope before it is stored.
pub(crate) fn check_envelope(envelope: &Envelope, max_event_bytes: usize) -> Result<(), ApiError> {
    for (i, item) in envelope.items.iter().enumerate() {
        let ty = item.ty();
        if let Some(limit) = item_limit(ty, max_event_bytes)
            && item.payload.len() > limit
        {
            return Err(ApiError::too_large(format!(
                "item {i} (`{ty}`) is {} bytes, over the limit of {limit} bytes for `{ty}` items",
                item.payload.len()
            )));
        }
    }
    let count = |ty: &ItemType| envelope.items.iter().filter(|i| i.ty() == ty).count();
    let attachments = count(&ItemType::Attachment);
    if attachments > MAX_ATTACHMENTS_PER_ENVELOPE {
        return Err(ApiError::too_large(format!(
            "the envelope has {attachments} attachments, over the limit of \
             {MAX_ATTACHMENTS_PER_ENVELOPE}"
        )));
    }
    for ty in SINGLETONS {
        let n = count(ty);
        if n > 1 {
            return Err(ApiError::bad_request(format!(
                "duplicate item: the envelope has {n} `{ty}` items, at most 1 is allowed"
            )));
        }
    }
    if count(&ItemType::Transaction) > 0
        && (count(&ItemType::Event) > 0 || count(&ItemType::Feedback) > 0)
    {
        return Err(ApiError::bad_request(
            "a `transaction` item may not share an envelope with an `event` or `feedback` item",
        ));
    }
    let needs_id = [
        ItemType::Event,
        ItemType::Transaction,
        ItemType::Feedback,
        ItemType::UserReport,
    ];
    if envelope.headers.event_id.is_none()
        && let Some(item) = envelope.items.iter().find(|i| needs_id.contains(i.ty()))
    {
        return Err(ApiError::bad_request(format!(
            "the envelope header has no `event_id`, which is required with a `{}` item \
             (PROTOCOL.md §3.2)",
            item.ty()
        )));
    }
    for (i, item) in envelope.items.iter().enumerate() {
        if let Err(e) = item.decode() {
            return Err(ApiError::bad_request(format!(
                "item {i} (`{}`) has an invalid payload: {e}",
                item.ty()
            ))
            .with_cause(e.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crumbtrail_protocol::{Event, Item};

    #[test]
    fn accepts_an_ordinary_event_envelope() {
        let env = Envelope::from_event(&Event::new())
            .unwrap()
            .with_item(Item::attachment("a.txt", None, b"x\ny".to_vec()));
        assert!(check_envelope(&env, 1024).is_ok());
        assert!(check_envelope(&Envelope::new(), 1024).is_ok());
    }

    #[test]
    fn oversized_event_items_are_413() {
        let env = Envelope::from_event(&Event::new()).unwrap();
        let len = env.items[0].payload.len();
        assert!(check_envelope(&env, len).is_ok());
        let err = check_envelope(&env, len - 1).unwrap_err();
        assert_eq!(err.status, 413);
        assert!(err.detail.starts_with("item 0 (`event`)"), "{}", err.detail);
    }

    #[test]
    fn structural_problems_are_400() {
        let event = Event::new();
        let twice = Envelope::from_event(&event)
            .unwrap()
            .with_item(event.to_item().unwrap());
        assert!(
            check_envelope(&twice, 1 << 20)
                .unwrap_err()
                .detail
                .contains("duplicate")
        );

        let mut no_id = Envelope::from_event(&event).unwrap();
        no_id.headers.event_id = None;
        assert!(
            check_envelope(&no_id, 1 << 20)
                .unwrap_err()
                .detail
                .contains("event_id")
        );

        let mut bad = Envelope::new().with_item(Item::new(ItemType::Event, b"[1]".to_vec()));
        bad.headers.event_id = Some(event.event_id);
        let err = check_envelope(&bad, 1 << 20).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.detail.contains("invalid payload"), "{}", err.detail);
        assert_eq!(err.causes.len(), 1);

        let report = Envelope::new().with_item(Item::new(
            ItemType::ClientReport,
            b"{\"discarded_events\":7}".to_vec(),
        ));
        assert_eq!(check_envelope(&report, 1 << 20).unwrap_err().status, 400);
    }
}
