//! Scopes follow the work: per unit of work, through spawns and joins, never leaking.

use std::time::Duration;

use crumbtrail_core::{
    Breadcrumb, Level, ScopeFutureExt, add_breadcrumb, capture_message, configure_scope, test,
    with_isolation_scope, with_scope, with_scope_async,
};

fn crumb(msg: &str) -> Breadcrumb {
    Breadcrumb::new().with_message(msg.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_never_mix() {
    let events = test::capture_events(async {
        let request = |id: u32| {
            with_isolation_scope(move |scope| scope.set_tag("request", id), async move {
                for step in 0..20 {
                    add_breadcrumb(crumb(&format!("req{id} step{step}")));
                    tokio::task::yield_now().await;
                }
                capture_message(&format!("request {id} failed"), Level::Error);
            })
        };
        let a = crumbtrail_core::spawn(request(1));
        let b = crumbtrail_core::spawn(request(2));
        a.await.unwrap();
        b.await.unwrap();
    })
    .await;
    assert_eq!(events.len(), 2);
    for event in &events {
        let id = event.tags["request"].clone();
        assert_eq!(
            event.message.as_deref(),
            Some(&*format!("request {id} failed"))
        );
        let trail = test::trail(event);
        assert_eq!(trail.len(), 20, "{trail:?}");
        assert!(
            trail.iter().all(|c| c.starts_with(&format!("req{id} "))),
            "{trail:?}"
        );
    }
    let trace_ids: Vec<_> = events
        .iter()
        .map(|e| e.contexts.trace().unwrap().trace_id)
        .collect();
    assert_ne!(
        trace_ids[0], trace_ids[1],
        "each unit of work has its own trace"
    );
}

#[tokio::test]
async fn spawned_tasks_inherit_but_never_leak_back() {
    let events = test::capture_events(async {
        add_breadcrumb(crumb("before spawn"));
        configure_scope(|s| s.set_tag("who", "parent"));
        crumbtrail_core::spawn(async {
            configure_scope(|s| s.set_tag("who", "child"));
            add_breadcrumb(crumb("in child"));
            capture_message("child", Level::Info);
        })
        .await
        .unwrap();
        add_breadcrumb(crumb("after spawn"));
        capture_message("parent", Level::Info);
    })
    .await;
    let child = events
        .iter()
        .find(|e| e.message.as_deref() == Some("child"))
        .unwrap();
    let parent = events
        .iter()
        .find(|e| e.message.as_deref() == Some("parent"))
        .unwrap();
    assert_eq!(test::trail(child), ["before spawn", "in child"]);
    assert_eq!(child.tags["who"], "child");
    assert_eq!(test::trail(parent), ["before spawn", "after spawn"]);
    assert_eq!(parent.tags["who"], "parent");
}

#[tokio::test]
async fn joined_futures_keep_separate_scopes() {
    let events = test::capture_events(async {
        let branch = |name: &'static str| {
            async move {
                configure_scope(|s| s.set_tag("branch", name));
                for i in 0..3 {
                    add_breadcrumb(crumb(&format!("{name}{i}")));
                    tokio::task::yield_now().await;
                }
                capture_message(name, Level::Info);
            }
            .bind_scope()
        };
        tokio::join!(branch("a"), branch("b"));
    })
    .await;
    assert_eq!(events.len(), 2);
    for e in &events {
        let name = e.message.clone().unwrap();
        assert_eq!(e.tags["branch"], name);
        assert_eq!(test::trail(e), [0, 1, 2].map(|i| format!("{name}{i}")));
    }
}

#[tokio::test]
async fn with_scope_layers_vanish_but_crumbs_stay() {
    let events = test::capture_events(async {
        with_scope(
            |s| {
                s.set_tag("step", "payment");
                s.set_level(Some(Level::Fatal));
            },
            || {
                add_breadcrumb(crumb("inside"));
                capture_message("in layer", Level::Error);
            },
        );
        capture_message("after layer", Level::Error);
        with_scope_async(|s| s.set_tag("async", "yes"), async {
            capture_message("async layer", Level::Info);
        })
        .await;
    })
    .await;
    let get = |m: &str| {
        events
            .iter()
            .find(|e| e.message.as_deref() == Some(m))
            .unwrap()
    };
    assert_eq!(get("in layer").tags["step"], "payment");
    assert_eq!(get("in layer").level, Level::Fatal);
    assert!(!get("after layer").tags.contains_key("step"));
    assert_eq!(get("after layer").level, Level::Error);
    assert_eq!(test::trail(get("after layer")), ["inside"]);
    assert_eq!(get("async layer").tags["async"], "yes");
}

#[test]
fn sync_code_inside_a_bound_future_uses_its_scope() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let transport = crumbtrail_core::TestTransport::new();
    let client = test::client_with(&transport, Default::default());
    fn sync_work() {
        add_breadcrumb(crumb("sync crumb"));
        capture_message("from sync code", Level::Warning);
    }
    rt.block_on(async { sync_work() }.bind_client(&client));
    assert!(client.flush_blocking(Duration::from_secs(5)));
    let events = transport.events();
    assert_eq!(events.len(), 1);
    assert_eq!(test::trail(&events[0]), ["sync crumb"]);
}
