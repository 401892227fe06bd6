//! The legacy `user_report` item payload (PROTOCOL.md §4.10).

use serde::{Deserialize, Serialize};

use crate::ids::EventId;

/// Legacy user feedback about an error event, sent in a `user_report` item alongside it.
/// New code should send a `feedback` item with a [`crate::FeedbackContext`] instead.
///
/// Missing strings read as empty; all four keys are always written.
///
/// ```
/// use crumbtrail_protocol::{EventId, UserReport};
/// let r = UserReport::new(EventId::nil(), "Ann", "a@b.c", "It broke");
/// let json = serde_json::to_string(&r).unwrap();
/// assert_eq!(
///     json,
///     r#"{"event_id":"00000000000000000000000000000000","name":"Ann","email":"a@b.c","comments":"It broke"}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserReport {
    /// The id of the error event this is about.
    pub event_id: EventId,
    /// The user's name.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::opt_string_or_empty"
    )]
    pub name: String,
    /// The user's email address.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::opt_string_or_empty"
    )]
    pub email: String,
    /// What the user said.
    #[serde(
        default,
        deserialize_with = "crate::event::lenient::opt_string_or_empty"
    )]
    pub comments: String,
}

impl UserReport {
    /// A report about `event_id`.
    pub fn new(
        event_id: EventId,
        name: impl Into<String>,
        email: impl Into<String>,
        comments: impl Into<String>,
    ) -> Self {
        UserReport {
            event_id,
            name: name.into(),
            email: email.into(),
            comments: comments.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_legacy_shape() {
        let json = r#"{"event_id":"5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b","name":"Ann","email":"a@b.c","comments":"Checkout hangs"}"#;
        let r: UserReport = serde_json::from_str(json).unwrap();
        assert_eq!(r.event_id.to_string(), "5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b");
        assert_eq!(r.comments, "Checkout hangs");
        assert_eq!(serde_json::to_string(&r).unwrap(), json);
    }

    #[test]
    fn missing_or_null_strings_read_as_empty_but_event_id_is_required() {
        let r: UserReport = serde_json::from_str(
            r#"{"event_id":"5d1b2e8c-4a0f-4f6e-9b7c-3a2d1e0f9a8b","name":null,"comments":"x"}"#,
        )
        .unwrap();
        assert_eq!((r.name.as_str(), r.email.as_str()), ("", ""));
        assert!(serde_json::from_str::<UserReport>(r#"{"comments":"x"}"#).is_err());
    }
}
