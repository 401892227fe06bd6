//! Persistence: envelopes survive a restart; a torn last record is skipped.

use std::io::Write;

use crumbtrail_devserver::DevServerConfig;
use crumbtrail_protocol::{Envelope, Item};

use crate::common::*;

#[tokio::test]
async fn events_survive_a_restart() {
    let dir = temp_dir("restart");
    let config = DevServerConfig::default().with_data_dir(&dir);
    let event = sample_event("persisted");
    let binary = (0..=255u8).chain(*b"\n\n{}\n").collect::<Vec<u8>>();
    let with_attachment = Envelope::from_event(&event)
        .unwrap()
        .with_item(Item::attachment("blob.bin", None, binary.clone()))
        .to_bytes();

    let first = start_with(config.clone()).await;
    assert_eq!(
        post_envelope(&first, with_attachment.clone()).await.status,
        200
    );
    assert_eq!(
        post_envelope(&first, event_envelope(&sample_event("two")))
            .await
            .status,
        200
    );
    first.shutdown().await;

    let second = start_with(config.clone()).await;
    assert!(
        second.load_warnings().is_empty(),
        "{:?}",
        second.load_warnings()
    );
    assert_eq!(second.events().len(), 2);
    assert_eq!(second.events()[0].event, event);
    assert_eq!(&second.envelopes()[0].raw[..], &with_attachment[..]);
    assert_eq!(second.envelopes()[0].envelope.items[1].payload, binary);
    let listed = get(&second, "/api/0/events").await.json();
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["events"][0]["event_id"], event.event_id.to_string());
    assert_eq!(second.requests(), 0, "requests are not persisted");

    // A third start sees what the second one added too.
    assert_eq!(
        post_envelope(&second, event_envelope(&sample_event("three")))
            .await
            .status,
        200
    );
    second.shutdown().await;
    let third = start_with(config).await;
    assert_eq!(third.events().len(), 3);
    third.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_torn_last_record_is_skipped_with_a_warning() {
    let dir = temp_dir("torn");
    let config = DevServerConfig::default().with_data_dir(&dir);
    let kept = sample_event("kept");
    let first = start_with(config.clone()).await;
    assert_eq!(
        post_envelope(&first, event_envelope(&kept)).await.status,
        200
    );
    first.shutdown().await;

    // Simulate a crash in the middle of writing a second record.
    let log = dir.join("envelopes.log");
    let whole = event_envelope(&sample_event("torn"));
    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    writeln!(
        file,
        "{{\"received_at\":\"2026-03-01T12:00:00.000000Z\",\"len\":{}}}",
        whole.len()
    )
    .unwrap();
    file.write_all(&whole[..whole.len() / 2]).unwrap();
    drop(file);

    let second = start_with(config.clone()).await;
    assert_eq!(second.events().len(), 1);
    assert_eq!(second.events()[0].event, kept);
    let warnings = second.load_warnings().join("\n");
    assert!(warnings.contains("torn record"), "{warnings}");
    assert!(warnings.contains("skipped-"), "{warnings}");

    // The log was cut back, so new records append cleanly and load next time.
    let after = sample_event("after");
    assert_eq!(
        post_envelope(&second, event_envelope(&after)).await.status,
        200
    );
    second.shutdown().await;
    let third = start_with(config).await;
    assert!(
        third.load_warnings().is_empty(),
        "{:?}",
        third.load_warnings()
    );
    let ids: Vec<_> = third.events().iter().map(|e| e.event.event_id).collect();
    assert_eq!(ids, [kept.event_id, after.event_id]);
    third.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_posts_are_all_kept_in_one_order_on_disk_and_in_memory() {
    let dir = temp_dir("concurrent");
    let config = DevServerConfig::default().with_data_dir(&dir);
    let server = std::sync::Arc::new(start_with(config.clone()).await);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let server = std::sync::Arc::clone(&server);
        tasks.push(tokio::spawn(async move {
            let body = event_envelope(&sample_event(&format!("concurrent {i}")));
            post_envelope(&server, body).await.status
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let before: Vec<_> = server.envelopes().iter().map(|e| e.raw.clone()).collect();
    let seqs: Vec<u64> = server.envelopes().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=16).collect::<Vec<_>>());
    let server = std::sync::Arc::into_inner(server).expect("no other owner");
    server.shutdown().await;

    let again = start_with(config).await;
    let after: Vec<_> = again.envelopes().iter().map(|e| e.raw.clone()).collect();
    assert_eq!(after, before);
    again.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
