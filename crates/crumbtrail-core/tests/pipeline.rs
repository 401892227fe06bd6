//! The capture pipeline: hooks, processors, sampling, PII, limits — and every drop counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crumbtrail_core::protocol::{DataCategory, DiscardReason, Request, User};
use crumbtrail_core::{
    Breadcrumb, BreadcrumbHint, ClientOptions, Level, ScopeFutureExt, TestTransport,
    add_breadcrumb, add_breadcrumb_with_hint, add_breadcrumb_with_processor, capture_error,
    capture_message, configure_scope, test,
};

/// Runs `f` with a fresh test client and returns the client and what it sent.
async fn run<F: std::future::Future>(
    options: ClientOptions,
    f: F,
) -> (crumbtrail_core::Client, Vec<crumbtrail_core::Event>) {
    let transport = TestTransport::new();
    let client = test::client_with(&transport, options);
    f.bind_client(&client).await;
    assert!(client.flush(Duration::from_secs(5)).await);
    (client, transport.events())
}

#[tokio::test]
async fn before_breadcrumb_modifies_and_drops_and_sees_the_hint() {
    struct Status(u16);
    let options = ClientOptions {
        before_breadcrumb: Some(Arc::new(|mut crumb, hint: &BreadcrumbHint<'_>| {
            if crumb.message.as_deref() == Some("drop me") {
                return None;
            }
            if let Some(Status(code)) = hint.get::<Status>() {
                crumb.data.insert("status".into(), (*code).into());
            }
            crumb.message = crumb.message.map(|m| m.to_uppercase().into());
            Some(crumb)
        })),
        ..Default::default()
    };
    let (_, events) = run(options, async {
        add_breadcrumb(Breadcrumb::new().with_message("keep"));
        add_breadcrumb(Breadcrumb::new().with_message("drop me"));
        add_breadcrumb_with_hint(
            Breadcrumb::new().with_message("http"),
            &BreadcrumbHint::new(&Status(503)),
        );
        capture_message("boom", Level::Error);
    })
    .await;
    assert_eq!(test::trail(&events[0]), ["KEEP", "HTTP"]);
    assert_eq!(
        events[0].breadcrumbs.as_ref().unwrap().values[1].data["status"],
        503
    );
}

#[tokio::test]
async fn before_send_modifies_and_drops_and_drops_are_counted() {
    let options = ClientOptions {
        before_send: Some(Arc::new(|mut event, _hint| {
            if event.message.as_deref() == Some("secret") {
                return None;
            }
            event.tags.insert("seen".into(), "yes".into());
            Some(event)
        })),
        ..Default::default()
    };
    let (client, events) = run(options, async {
        capture_message("secret", Level::Error);
        capture_message("public", Level::Error);
    })
    .await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tags["seen"], "yes");
    // The drop was reported in a client report on flush, so the counter is back at zero; the
    // report itself went out through the transport.
    assert_eq!(
        client
            .discards()
            .get(&DiscardReason::BeforeSend, &DataCategory::Error),
        0
    );
}

#[tokio::test]
async fn client_reports_carry_every_loss() {
    let transport = TestTransport::new();
    let client = test::client_with(
        &transport,
        ClientOptions {
            before_send: Some(Arc::new(|_, _| None)),
            sample_rate: 0.0,
            ..Default::default()
        },
    );
    async {
        capture_message("sampled out", Level::Error);
    }
    .bind_client(&client)
    .await;
    assert_eq!(
        client
            .discards()
            .get(&DiscardReason::SampleRate, &DataCategory::Error),
        1
    );
    assert!(client.flush(Duration::from_secs(5)).await);
    let reports: Vec<_> = transport
        .envelopes()
        .iter()
        .flat_map(|e| e.items.clone())
        .filter_map(|i| match i.decode() {
            Ok(crumbtrail_core::protocol::ItemPayload::ClientReport(r)) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(reports.len(), 1);
    assert_eq!(
        reports[0].total(&DiscardReason::SampleRate, &DataCategory::Error),
        1
    );
}

#[tokio::test]
async fn a_panicking_hook_is_survived_and_counted() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let transport = TestTransport::new();
    let client = test::client_with(
        &transport,
        ClientOptions {
            before_send: Some(Arc::new(move |event, _| {
                if c.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("hook bug");
                }
                Some(event)
            })),
            before_breadcrumb: Some(Arc::new(|c, _| {
                if c.message.as_deref() == Some("bad") {
                    panic!("crumb hook bug");
                }
                Some(c)
            })),
            ..Default::default()
        },
    );
    async {
        add_breadcrumb(Breadcrumb::new().with_message("bad"));
        add_breadcrumb(Breadcrumb::new().with_message("good"));
        capture_message("first", Level::Error);
        capture_message("second", Level::Error);
        configure_scope(|s| {
            s.add_event_processor(|e| {
                if e.message.as_deref() == Some("third") {
                    panic!("processor bug");
                }
                Some(e)
            })
        });
        capture_message("third", Level::Error);
    }
    .bind_client(&client)
    .await;
    assert!(client.flush(Duration::from_secs(5)).await);
    let events = transport.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("second"));
    assert_eq!(test::trail(&events[0]), ["good"]);
    let report_total = |reason: DiscardReason| {
        transport
            .envelopes()
            .iter()
            .flat_map(|e| e.items.clone())
            .filter_map(|i| match i.decode() {
                Ok(crumbtrail_core::protocol::ItemPayload::ClientReport(r)) => {
                    Some(r.total(&reason, &DataCategory::Error))
                }
                _ => None,
            })
            .sum::<u64>()
    };
    assert_eq!(report_total(DiscardReason::BeforeSend), 1);
    assert_eq!(report_total(DiscardReason::EventProcessor), 1);
}

#[tokio::test]
async fn deferred_processors_run_only_for_crumbs_that_are_sent() {
    let runs = Arc::new(AtomicUsize::new(0));
    let options = ClientOptions {
        max_breadcrumbs: 3,
        ..Default::default()
    };
    let r = Arc::clone(&runs);
    let (_, events) = run(options, async move {
        for i in 0..10 {
            let r = Arc::clone(&r);
            add_breadcrumb_with_processor(
                Breadcrumb::new().with_message(i.to_string()),
                move |c| {
                    r.fetch_add(1, Ordering::SeqCst);
                    c.message = Some(format!("#{}", c.message.as_deref().unwrap_or("")).into());
                },
            );
        }
        capture_message("boom", Level::Error);
    })
    .await;
    assert_eq!(test::trail(&events[0]), ["#7", "#8", "#9"]);
    assert_eq!(runs.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn the_ring_keeps_the_newest_and_the_byte_cap_holds() {
    let (_, events) = run(
        ClientOptions {
            max_breadcrumbs: 5,
            ..Default::default()
        },
        async {
            for i in 0..50 {
                add_breadcrumb(|| Breadcrumb::new().with_message(i.to_string()));
            }
            capture_message("boom", Level::Error);
        },
    )
    .await;
    assert_eq!(test::trail(&events[0]), ["45", "46", "47", "48", "49"]);

    let big = "x".repeat(1000);
    let (_, events) = run(
        ClientOptions {
            max_breadcrumb_bytes: 4 * 1100,
            ..Default::default()
        },
        async move {
            for _ in 0..20 {
                add_breadcrumb(Breadcrumb::new().with_message(big.clone()));
            }
            capture_message("boom", Level::Error);
        },
    )
    .await;
    let trail = &events[0].breadcrumbs.as_ref().unwrap().values;
    assert!(
        trail.len() <= 4 && !trail.is_empty(),
        "{} crumbs",
        trail.len()
    );
    let bytes: usize = trail
        .iter()
        .map(|c| serde_json::to_string(c).unwrap().len())
        .sum();
    assert!(bytes <= 4 * 1100, "{bytes} bytes");
}

#[tokio::test]
async fn pii_defaults_hold() {
    let (_, events) = run(ClientOptions::default(), async {
        configure_scope(|s| {
            s.set_user(Some(User {
                id: Some("42".into()),
                ip_address: Some("203.0.113.9".into()),
                ..Default::default()
            }))
        });
        let mut event = crumbtrail_core::Event::new();
        event.request = Some(Request {
            url: Some("https://shop/cart".into()),
            cookies: Some("session=abc".into()),
            headers: [
                ("Authorization".to_owned(), "Bearer t".to_owned()),
                ("Accept".to_owned(), "text/html".to_owned()),
            ]
            .into(),
            ..Default::default()
        });
        event.extra.insert("password".into(), "hunter2".into());
        crumbtrail_core::capture_event(event);
    })
    .await;
    let e = &events[0];
    assert_eq!(e.user.as_ref().unwrap().id.as_deref(), Some("42"));
    assert_eq!(e.user.as_ref().unwrap().ip_address, None);
    let req = e.request.as_ref().unwrap();
    assert_eq!(req.cookies, None);
    assert_eq!(req.headers["Authorization"], "");
    assert_eq!(req.headers["Accept"], "text/html");
    assert_eq!(e.extra["password"], "[Filtered]");
}

#[tokio::test]
async fn error_chains_arrive_oldest_first() {
    #[derive(Debug)]
    struct Checkout(std::io::Error);
    impl std::fmt::Display for Checkout {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("checkout failed")
        }
    }
    impl std::error::Error for Checkout {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let (_, events) = run(ClientOptions::default(), async {
        let err = Checkout(std::io::Error::other("connection reset"));
        capture_error(&err);
    })
    .await;
    let values = &events[0].exception.as_ref().unwrap().values;
    let texts: Vec<_> = values.iter().map(|v| v.value.clone().unwrap()).collect();
    assert_eq!(texts, ["connection reset", "checkout failed"]);
    assert_eq!(events[0].level, Level::Error);
}

#[tokio::test]
async fn sample_rate_and_ignore_errors_drop_and_count() {
    let transport = TestTransport::new();
    let client = test::client_with(
        &transport,
        ClientOptions {
            ignore_errors: vec!["flaky".into()],
            ..Default::default()
        },
    );
    let ids = async {
        (
            capture_message("flaky upstream", Level::Error),
            capture_message("real problem", Level::Error),
        )
    }
    .bind_client(&client)
    .await;
    assert!(ids.0.is_some() && ids.1.is_some());
    assert!(client.flush(Duration::from_secs(5)).await);
    let events = transport.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("real problem"));
    assert_eq!(client.last_event_id(), ids.1);
}

#[tokio::test]
async fn attach_stacktrace_puts_the_callers_stack_on_messages() {
    let (_, events) = run(
        ClientOptions {
            attach_stacktrace: true,
            ..Default::default()
        },
        async {
            capture_message("with stack", Level::Warning);
        },
    )
    .await;
    let threads = events[0].threads.as_ref().expect("a thread with the stack");
    let frames = &threads.values[0].stacktrace.as_ref().unwrap().frames;
    assert!(!frames.is_empty());
    assert!(
        frames.iter().all(|f| !f
            .function
            .as_deref()
            .unwrap_or("")
            .starts_with("crumbtrail_core::")),
        "SDK frames are cut from the top"
    );
}

#[tokio::test]
async fn after_close_captures_are_dropped_and_counted() {
    let transport = TestTransport::new();
    let client = test::client_with(&transport, ClientOptions::default());
    assert!(client.close(Duration::from_secs(5)).await);
    let id = async { capture_message("too late", Level::Error) }
        .bind_client(&client)
        .await;
    assert_eq!(id, None);
    assert_eq!(
        client
            .discards()
            .get(&DiscardReason::QueueOverflow, &DataCategory::Error),
        1
    );
    assert!(transport.events().is_empty());
}

#[tokio::test]
async fn the_queue_byte_bound_drops_and_counts() {
    let transport = TestTransport::new();
    let client = test::client_with(
        &transport,
        ClientOptions {
            transport_queue_bytes: 4096,
            ..Default::default()
        },
    );
    let big = "x".repeat(10_000);
    let ids = async {
        (
            capture_message(&big, Level::Error),
            capture_message("small", Level::Error),
        )
    }
    .bind_client(&client)
    .await;
    assert_eq!(ids.0, None, "over the byte bound");
    assert!(ids.1.is_some());
    assert_eq!(
        client
            .discards()
            .get(&DiscardReason::QueueOverflow, &DataCategory::Error),
        1
    );
    assert!(client.flush(Duration::from_secs(5)).await);
    assert_eq!(transport.events().len(), 1);
}

#[tokio::test]
async fn shared_processors_run_like_closures_in_the_order_they_were_added() {
    use crumbtrail_core::{ProcessCrumb, ProcessEvent, add_breadcrumb_with_shared_processor};
    /// One value behind one `Arc`, both an event and a crumb processor.
    struct Region(&'static str, AtomicUsize);
    impl ProcessEvent for Region {
        fn process(&self, mut event: crumbtrail_core::Event) -> Option<crumbtrail_core::Event> {
            let seen = event.tags.get("order").cloned().unwrap_or_default();
            event
                .tags
                .insert("order".into(), format!("{seen}{}", self.0));
            Some(event)
        }
    }
    impl ProcessCrumb for Region {
        fn process(&self, crumb: &mut Breadcrumb) {
            self.1.fetch_add(1, Ordering::SeqCst);
            crumb.data.insert("region".into(), self.0.into());
        }
    }
    let region = Arc::new(Region("eu", AtomicUsize::new(0)));
    let shared = Arc::clone(&region);
    let (_, events) = run(ClientOptions::default(), async move {
        configure_scope(|s| {
            // The first processor is held inline, the next ones in a list: all run, in order.
            s.add_shared_event_processor(shared.clone());
            s.add_event_processor(|mut e| {
                let seen = e.tags.get("order").cloned().unwrap_or_default();
                e.tags.insert("order".into(), format!("{seen}>closure"));
                Some(e)
            });
            s.add_shared_event_processor(shared.clone());
        });
        add_breadcrumb_with_shared_processor(Breadcrumb::new().with_message("routed"), shared);
        capture_message("boom", Level::Error);
    })
    .await;
    assert_eq!(events[0].tags["order"], "eu>closureeu");
    let crumb = &events[0].breadcrumbs.as_ref().unwrap().values[0];
    assert_eq!(crumb.data["region"], "eu");
    // Once per event that carries the crumb.
    assert_eq!(region.1.load(Ordering::SeqCst), 1);
}
