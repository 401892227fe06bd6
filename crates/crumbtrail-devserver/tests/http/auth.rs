//! Each form of credentials, and each way of getting them wrong.

use crumbtrail_protocol::{Envelope, Event};
use http::Method;

use crate::common::*;

fn envelope_with_dsn(dsn: Option<String>) -> Vec<u8> {
    let mut env = Envelope::from_event(&Event::new()).unwrap();
    env.headers.dsn = dsn;
    env.to_bytes()
}

#[tokio::test]
async fn every_form_of_credentials_is_accepted() {
    let server = start().await;
    let dsn = server.dsn();
    let url = dsn.envelope_url();
    let auth = auth(&server);

    let header = send(
        Method::POST,
        &url,
        &[("x-sentry-auth", &auth)],
        envelope_with_dsn(None),
    )
    .await;
    assert_eq!(header.status, 200, "{}", header.text());

    let authorization = send(
        Method::POST,
        &url,
        &[("authorization", &auth)],
        envelope_with_dsn(None),
    )
    .await;
    assert_eq!(authorization.status, 200, "{}", authorization.text());

    let query_url = dsn.envelope_url_with_auth_query("crumbtrail-tests/1.0");
    let query = send(Method::POST, &query_url, &[], envelope_with_dsn(None)).await;
    assert_eq!(query.status, 200, "{}", query.text());

    let in_envelope = send(
        Method::POST,
        &url,
        &[],
        envelope_with_dsn(Some(dsn.to_string())),
    )
    .await;
    assert_eq!(in_envelope.status, 200, "{}", in_envelope.text());

    let all_three = send(
        Method::POST,
        &query_url,
        &[("x-sentry-auth", &auth)],
        envelope_with_dsn(Some(dsn.to_string())),
    )
    .await;
    assert_eq!(all_three.status, 200, "{}", all_three.text());
    assert_eq!(server.events().len(), 5);
    server.shutdown().await;
}

#[tokio::test]
async fn each_auth_failure_gets_its_status() {
    let server = start().await;
    let dsn = server.dsn();
    let url = dsn.envelope_url();
    let good = auth(&server);
    let port = server.addr().port();
    let wrong_key = "Sentry sentry_key=wrong, sentry_version=7";

    // (name, url, headers, envelope dsn, expected status, text the detail must contain)
    type Case<'a> = (
        &'a str,
        String,
        Vec<(&'a str, &'a str)>,
        Option<String>,
        u16,
        &'a str,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "no credentials",
            url.clone(),
            vec![],
            None,
            403,
            "no credentials",
        ),
        (
            "wrong key",
            url.clone(),
            vec![("x-sentry-auth", wrong_key)],
            None,
            401,
            "unknown public key",
        ),
        (
            "malformed header",
            url.clone(),
            vec![("x-sentry-auth", "Sentry sentry_version=7")],
            None,
            401,
            "malformed",
        ),
        (
            "wrong key in the query",
            format!("{url}?sentry_key=wrong"),
            vec![],
            None,
            401,
            "unknown public key",
        ),
        (
            "header and query disagree",
            format!("{url}?sentry_key=other"),
            vec![("x-sentry-auth", good.as_str())],
            None,
            400,
            "must agree",
        ),
        (
            "header and envelope dsn disagree",
            url.clone(),
            vec![("x-sentry-auth", good.as_str())],
            Some(format!("http://other@127.0.0.1:{port}/1")),
            400,
            "must agree",
        ),
        (
            "envelope dsn for another project",
            url.clone(),
            vec![],
            Some(format!("http://devkey@127.0.0.1:{port}/2")),
            400,
            "names project 2",
        ),
        (
            "wrong project in the URL",
            format!("http://127.0.0.1:{port}/api/2/envelope/"),
            vec![("x-sentry-auth", good.as_str())],
            None,
            403,
            "project 2 is not served here",
        ),
    ];
    for (name, url, headers, env_dsn, status, needle) in cases {
        let reply = send(Method::POST, &url, &headers, envelope_with_dsn(env_dsn)).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.text());
        assert!(
            reply.detail().contains(needle),
            "{name}: {}",
            reply.detail()
        );
    }
    assert!(server.envelopes().is_empty());
    assert_eq!(server.requests(), 8);
    server.shutdown().await;
}
