//! Typed payloads: turning protocol types into items and items back into protocol types.

use serde_json::Value;

use super::{Envelope, Item, ItemType};
use crate::check_in::CheckIn;
use crate::client_report::ClientReport;
use crate::event::{Event, UserReport};
use crate::log::LogContainer;
use crate::session::{SessionAggregates, SessionUpdate};
use crate::tracing::Transaction;

/// The decoded payload of an item, by its type.
///
/// ```
/// use crumbtrail_protocol::{Event, ItemPayload};
/// let item = Event::new().to_item().unwrap();
/// assert!(matches!(item.decode().unwrap(), ItemPayload::Event(_)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum ItemPayload<'a> {
    /// An error or message event.
    Event(Box<Event>),
    /// A transaction.
    Transaction(Box<Transaction>),
    /// Attachment bytes.
    Attachment(&'a [u8]),
    /// One session update.
    Session(SessionUpdate),
    /// Session aggregates.
    Sessions(SessionAggregates),
    /// A client report.
    ClientReport(ClientReport),
    /// A container of log records.
    Log(LogContainer),
    /// A cron check-in.
    CheckIn(CheckIn),
    /// User feedback (an event carrying `contexts.feedback`).
    Feedback(Box<Event>),
    /// Legacy user feedback.
    UserReport(UserReport),
    /// A span or trace-metric container, or a profile or replay event: JSON crumbtrail reads
    /// but does not model.
    Json(Value),
    /// Any other item type: the raw payload.
    Raw(&'a [u8]),
}

impl Item {
    /// Decodes the payload according to the item type. Attachments, replay recordings and
    /// unknown types are returned as raw bytes; JSON errors say what did not match.
    pub fn decode(&self) -> Result<ItemPayload<'_>, serde_json::Error> {
        let p = &self.payload;
        Ok(match self.ty() {
            ItemType::Event => ItemPayload::Event(Box::new(serde_json::from_slice(p)?)),
            ItemType::Transaction => ItemPayload::Transaction(Box::new(serde_json::from_slice(p)?)),
            ItemType::Attachment => ItemPayload::Attachment(p),
            ItemType::Session => ItemPayload::Session(serde_json::from_slice(p)?),
            ItemType::Sessions => ItemPayload::Sessions(serde_json::from_slice(p)?),
            ItemType::ClientReport => ItemPayload::ClientReport(serde_json::from_slice(p)?),
            ItemType::Log => ItemPayload::Log(serde_json::from_slice(p)?),
            ItemType::CheckIn => ItemPayload::CheckIn(serde_json::from_slice(p)?),
            ItemType::Feedback => ItemPayload::Feedback(Box::new(serde_json::from_slice(p)?)),
            ItemType::UserReport => ItemPayload::UserReport(serde_json::from_slice(p)?),
            ItemType::Span
            | ItemType::TraceMetric
            | ItemType::Profile
            | ItemType::ProfileChunk
            | ItemType::ReplayEvent => ItemPayload::Json(serde_json::from_slice(p)?),
            ItemType::ReplayRecording | ItemType::Unknown(_) => ItemPayload::Raw(p),
        })
    }

    /// An `attachment` item.
    ///
    /// ```
    /// use crumbtrail_protocol::Item;
    /// let item = Item::attachment("state.txt", Some("text/plain"), b"cart=3;ok=0".to_vec());
    /// assert_eq!(item.headers.filename.as_deref(), Some("state.txt"));
    /// ```
    pub fn attachment(filename: &str, content_type: Option<&str>, bytes: Vec<u8>) -> Item {
        let mut item = Item::new(ItemType::Attachment, bytes);
        item.headers.filename = Some(filename.to_owned());
        item.headers.content_type = content_type.map(str::to_owned);
        item
    }
}

macro_rules! to_item {
    ($ty:ty, $item:expr, $doc:literal) => {
        impl $ty {
            #[doc = $doc]
            pub fn to_item(&self) -> Result<Item, serde_json::Error> {
                Item::json($item, self)
            }
        }
    };
}

to_item!(Event, ItemType::Event, "The event as an `event` item.");
to_item!(
    Transaction,
    ItemType::Transaction,
    "The transaction as a `transaction` item."
);
to_item!(
    SessionUpdate,
    ItemType::Session,
    "The update as a `session` item."
);
to_item!(
    SessionAggregates,
    ItemType::Sessions,
    "The aggregates as a `sessions` item."
);
to_item!(
    CheckIn,
    ItemType::CheckIn,
    "The check-in as a `check_in` item."
);
to_item!(
    UserReport,
    ItemType::UserReport,
    "The report as a legacy `user_report` item."
);

impl Event {
    /// The event as a `feedback` item (the event should carry `contexts.feedback`).
    pub fn to_feedback_item(&self) -> Result<Item, serde_json::Error> {
        Item::json(ItemType::Feedback, self)
    }
}

impl Envelope {
    /// An envelope holding one event, with `event_id` set in its headers.
    ///
    /// ```
    /// use crumbtrail_protocol::{Envelope, Event};
    /// let event = Event::new();
    /// let envelope = Envelope::from_event(&event).unwrap();
    /// assert_eq!(envelope.headers.event_id, Some(event.event_id));
    /// ```
    pub fn from_event(event: &Event) -> Result<Envelope, serde_json::Error> {
        let mut env = Envelope::new().with_item(event.to_item()?);
        env.headers.event_id = Some(event.event_id);
        Ok(env)
    }

    /// An envelope holding one transaction, with `event_id` set in its headers.
    pub fn from_transaction(tx: &Transaction) -> Result<Envelope, serde_json::Error> {
        let mut env = Envelope::new().with_item(tx.to_item()?);
        env.headers.event_id = Some(tx.event_id);
        Ok(env)
    }

    /// The event id the envelope is about: the header's, else the first event, transaction
    /// or feedback item's.
    pub fn event_id(&self) -> Option<crate::ids::EventId> {
        self.headers.event_id.or_else(|| {
            self.items.iter().find_map(|i| match i.decode() {
                Ok(ItemPayload::Event(e) | ItemPayload::Feedback(e)) => Some(e.event_id),
                Ok(ItemPayload::Transaction(t)) => Some(t.event_id),
                _ => None,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::TraceContext;
    use crate::ids::{SpanId, TraceId};

    #[test]
    fn every_typed_item_decodes_back() {
        let event = Event::new();
        let tx = Transaction::new(
            "GET /",
            TraceContext::new(TraceId::random(), SpanId::random()),
        );
        let session = SessionUpdate::new("shop@1.0");
        let report = ClientReport::default();
        let env = Envelope::from_event(&event)
            .unwrap()
            .with_item(Item::attachment("a.txt", None, b"x".to_vec()))
            .with_item(session.to_item().unwrap())
            .with_item(report.to_item().unwrap())
            .with_item(tx.to_item().unwrap());
        let parsed = Envelope::parse(&env.to_bytes()).unwrap();
        let decoded: Vec<_> = parsed.items.iter().map(|i| i.decode().unwrap()).collect();
        assert_eq!(decoded[0], ItemPayload::Event(Box::new(event.clone())));
        assert_eq!(decoded[1], ItemPayload::Attachment(b"x"));
        assert_eq!(decoded[2], ItemPayload::Session(session));
        assert_eq!(decoded[3], ItemPayload::ClientReport(report));
        assert_eq!(decoded[4], ItemPayload::Transaction(Box::new(tx)));
        assert_eq!(parsed.event_id(), Some(event.event_id));
    }

    #[test]
    fn unknown_items_stay_raw_and_bad_json_is_an_error() {
        let raw = Item::new(ItemType::Unknown("x".into()), b"\xff".to_vec());
        assert_eq!(raw.decode().unwrap(), ItemPayload::Raw(b"\xff"));
        let bad = Item::new(ItemType::Event, b"{\"level\":1}".to_vec());
        assert!(bad.decode().is_err());
    }
}
