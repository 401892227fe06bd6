use serde_json::json;

use super::*;
use crate::Event;
use crate::event::testutil::assert_golden;

const GOLDEN_META: &str = r#""_meta":{"extra":{"blob":{"":{"len":20480,"rem":[["!limit","x",1021,1024]]}}},
         "request":{"headers":{"Authorization":{"":{"rem":[["!config","s"]]}}}}}"#;

#[test]
fn golden_meta_in_an_event() {
    let json = format!(
        r#"{{"event_id":"5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b","timestamp":1772366400.5,"platform":"native","level":"error",{GOLDEN_META}}}"#
    );
    let event: Event = assert_golden(&json);
    let blob = event.meta.get(&["extra", "blob"]).unwrap();
    assert_eq!(blob.len, Some(20480));
    assert_eq!(
        blob.rem,
        [Remark::with_range(
            "!limit",
            RemarkType::Removed,
            1021,
            1024
        )]
    );
    let auth = event
        .meta
        .get(&["request", "headers", "Authorization"])
        .unwrap();
    assert_eq!(auth.len, None);
    assert_eq!(auth.rem, [Remark::new("!config", RemarkType::Substituted)]);
    assert!(event.meta.get(&["request"]).is_none());
    assert!(event.meta.get(&["nope", "x"]).is_none());
}

#[test]
fn annotate_builds_the_golden_tree() {
    let mut meta = Meta::new();
    meta.annotate(
        &["extra", "blob"],
        MetaNode::new()
            .with_len(20480)
            .with_remark(Remark::with_range(
                "!limit",
                RemarkType::Removed,
                1021,
                1024,
            )),
    );
    meta.annotate(
        &["request", "headers", "Authorization"],
        MetaNode::new().with_remark(Remark::new("!config", RemarkType::Substituted)),
    );
    let golden: Value = serde_json::from_str(&format!("{{{GOLDEN_META}}}")).unwrap();
    assert_eq!(serde_json::to_value(&meta).unwrap(), golden["_meta"]);
}

#[test]
fn annotating_twice_merges() {
    let mut meta = Meta::new();
    meta.annotate(&["breadcrumbs"], MetaNode::new().with_len(150));
    meta.annotate(
        &["breadcrumbs"],
        MetaNode::new()
            .with_len(120)
            .with_remark(Remark::new("!limit", RemarkType::Removed)),
    );
    assert_eq!(
        serde_json::to_value(&meta).unwrap(),
        json!({"breadcrumbs": {"": {"len": 150, "rem": [["!limit", "x"]]}}})
    );
    // The root itself may be annotated too.
    meta.annotate(&[], MetaNode::new().with_len(1));
    assert_eq!(meta.get(&[]).unwrap().len, Some(1));
}

#[test]
fn remarks_read_every_shape() {
    let r: Remark = serde_json::from_str(r#"["!raw","a"]"#).unwrap();
    assert_eq!(r, Remark::new("!raw", RemarkType::Annotated));
    let r: Remark = serde_json::from_str(r#"["r","masked",1,2,"extra"]"#).unwrap();
    assert_eq!(r, Remark::with_range("r", RemarkType::Masked, 1, 2));
    let r: Remark = serde_json::from_str(r#"["r","p",null,null]"#).unwrap();
    assert_eq!(r.range, None);
    for (letter, ty) in [
        ("a", RemarkType::Annotated),
        ("x", RemarkType::Removed),
        ("s", RemarkType::Substituted),
        ("m", RemarkType::Masked),
        ("p", RemarkType::Pseudonymized),
        ("e", RemarkType::Encrypted),
    ] {
        assert_eq!(RemarkType::parse(letter), Some(ty));
        assert_eq!(ty.as_str(), letter);
    }
    let err = serde_json::from_str::<Remark>(r#"["r","q"]"#).unwrap_err();
    assert!(
        err.to_string().contains("unknown remark type \"q\""),
        "{err}"
    );
    assert!(serde_json::from_str::<Remark>(r#"["r"]"#).is_err());
    assert!(serde_json::from_str::<Remark>(r#"{"r":1}"#).is_err());
}

#[test]
fn reading_drops_invalid_and_empty_nodes() {
    let meta: Meta = serde_json::from_value(json!({
        "a": {"": {"rem": [["r", "bogus"]]}},
        "b": {"c": {}},
        "d": 5,
        "e": {"": {"err": ["invalid_data"]}}
    }))
    .unwrap();
    assert_eq!(
        serde_json::to_value(&meta).unwrap(),
        json!({"e": {"": {"err": ["invalid_data"]}}})
    );
    assert!(serde_json::from_str::<Meta>("null").unwrap().is_empty());
    let mut empty = Meta::new();
    empty.annotate(&["x"], MetaNode::new());
    assert!(empty.is_empty());
    assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
}
