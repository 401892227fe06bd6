//! `anyhow::Error`s arrive with their whole context chain, oldest first.

use crumbtrail::test;

#[tokio::test]
async fn anyhow_chains_become_exception_lists() {
    let events = test::capture_events(async {
        let io = std::io::Error::other("connection reset");
        let err = anyhow::Error::new(io)
            .context("charging the card")
            .context("checkout failed");
        crumbtrail::capture_anyhow(&err);
    })
    .await;
    let values = &events[0].exception.as_ref().unwrap().values;
    let texts: Vec<_> = values.iter().map(|v| v.value.clone().unwrap()).collect();
    assert_eq!(
        texts,
        ["connection reset", "charging the card", "checkout failed"]
    );
    assert_eq!(values[0].ty.as_deref(), Some("std::io::error::Error"));
    let top = values[2].mechanism.as_ref().unwrap();
    assert_eq!((top.exception_id, top.handled), (Some(0), Some(true)));
}
