//! The web view over HTTP, and two servers side by side.

use crumbtrail_devserver::{DevServerConfig, Fault};
use crumbtrail_protocol::Breadcrumb;

use crate::common::*;

#[tokio::test]
async fn web_pages_show_the_breadcrumb_timeline_and_escape_hostile_text() {
    let server = start().await;
    let mut event = sample_event("<img src=x onerror=alert(1)>");
    event.breadcrumbs.as_mut().unwrap().values.push(
        Breadcrumb::new()
            .with_category("ui")
            .with_message("</ol><script>bad()</script>"),
    );
    assert_eq!(
        post_envelope(&server, event_envelope(&event)).await.status,
        200
    );

    let index = get(&server, "/").await;
    assert_eq!(index.status, 200);
    assert_eq!(index.headers["content-type"], "text/html; charset=utf-8");
    let html = index.text();
    assert!(html.contains(&format!("href=\"/events/{}\"", event.event_id)));
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
    assert!(!html.contains("<img"));

    let page = get(&server, &format!("/events/{}", event.event_id)).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("<ol id=\"breadcrumbs\">"), "{html}");
    assert_eq!(html.matches("<li class=\"crumb").count(), 3);
    assert!(html.contains("POST https://api.example.com/v1/cart → 503"));
    assert!(html.contains("&lt;/ol&gt;&lt;script&gt;bad()&lt;/script&gt;"));
    assert!(!html.contains("<script>"));
    assert!(html.contains("<table id=\"tags\">"));

    let missing = get(&server, "/events/5d1b2e8c4a0f4f6e9b7c3a2d1e0f9a8b").await;
    assert_eq!(missing.status, 404);
    let hostile = get(&server, "/events/%3Cscript%3E").await;
    assert_eq!(hostile.status, 404);
    assert!(!hostile.text().contains("<script>"));
    server.shutdown().await;
}

#[tokio::test]
async fn two_servers_are_independent() {
    let a = start().await;
    let b = start_with(
        DevServerConfig::default()
            .with_public_key("otherkey")
            .with_project_id("2"),
    )
    .await;
    assert_ne!(a.addr(), b.addr());
    assert_eq!(
        b.dsn().to_string(),
        format!("http://otherkey@127.0.0.1:{}/2", b.addr().port())
    );

    a.set_fault(Fault::status(503)).unwrap();
    assert_eq!(
        post_envelope(&a, event_envelope(&sample_event("a")))
            .await
            .status,
        503
    );
    assert_eq!(
        post_envelope(&b, event_envelope(&sample_event("b")))
            .await
            .status,
        200
    );
    a.clear_fault();
    assert_eq!(
        post_envelope(&a, event_envelope(&sample_event("a2")))
            .await
            .status,
        200
    );

    // A's credentials are not B's.
    let a_auth = auth(&a);
    let reply = send(
        http::Method::POST,
        &b.dsn().envelope_url(),
        &[("x-sentry-auth", a_auth.as_str())],
        event_envelope(&sample_event("x")),
    )
    .await;
    assert_eq!(reply.status, 401);

    assert_eq!((a.events().len(), b.events().len()), (1, 1));
    assert_eq!((a.requests(), b.requests()), (2, 2));
    a.shutdown().await;
    // B keeps serving after A is gone.
    assert_eq!(
        post_envelope(&b, event_envelope(&sample_event("b2")))
            .await
            .status,
        200
    );
    assert_eq!(b.events().len(), 2);
    b.shutdown().await;
}
