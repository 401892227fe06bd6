//! Property tests: any envelope the writer produces parses back to itself, byte for byte, and
//! the parser never panics.

use proptest::prelude::*;
use serde_json::{Map, Value};

use super::{Envelope, EnvelopeHeaders, Item, ItemHeaders, ItemType};
use crate::ids::EventId;

fn item_type() -> impl Strategy<Value = ItemType> {
    prop_oneof![
        Just(ItemType::Event),
        Just(ItemType::Transaction),
        Just(ItemType::Attachment),
        Just(ItemType::Session),
        Just(ItemType::ClientReport),
        Just(ItemType::Log),
        Just(ItemType::CheckIn),
        "[a-z_]{1,12}".prop_map(|s| s.parse().unwrap()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn extra_keys() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("x_[a-z]{1,6}", json_value(), 0..3)
        .prop_map(|m| m.into_iter().collect())
}

fn item() -> impl Strategy<Value = Item> {
    (
        item_type(),
        prop::option::of("[a-z]+/[a-z+.-]+"),
        prop::option::of("[^/\\\\]{1,12}"),
        prop::option::of(any::<u64>()),
        extra_keys(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |(ty, content_type, filename, item_count, other, payload)| Item {
                headers: ItemHeaders {
                    ty,
                    content_type,
                    filename,
                    attachment_type: None,
                    item_count,
                    platform: None,
                    other,
                },
                payload,
            },
        )
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (
        prop::option::of(any::<u128>()),
        prop::option::of(".{0,20}"),
        extra_keys(),
        prop::collection::vec(item(), 0..5),
    )
        .prop_map(|(id, dsn, other, items)| Envelope {
            headers: EnvelopeHeaders {
                event_id: id.map(|n| EventId::from(uuid::Uuid::from_u128(n))),
                dsn,
                other,
                ..EnvelopeHeaders::default()
            },
            items,
        })
}

proptest! {
    #[test]
    fn written_envelopes_parse_back_exactly(env in envelope()) {
        let bytes = env.to_bytes();
        prop_assert_eq!(bytes.last(), Some(&b'\n'));
        let parsed = Envelope::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &env);
        prop_assert_eq!(parsed.to_bytes(), bytes);
    }

    #[test]
    fn parser_never_panics(input in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(env) = Envelope::parse(&input) {
            let again = Envelope::parse(&env.to_bytes()).unwrap();
            prop_assert_eq!(again, env);
        }
    }

    #[test]
    fn damaged_envelopes_fail_cleanly(env in envelope(), cut in any::<prop::sample::Index>()) {
        let bytes = env.to_bytes();
        let cut = cut.index(bytes.len());
        // Any prefix either parses or reports an offset inside the input.
        match Envelope::parse(&bytes[..cut]) {
            Ok(_) => {}
            Err(e) => prop_assert!(e.offset <= cut),
        }
    }
}
