//! Authentication tests (PROTOCOL.md §2.2): writing and reading `X-Sentry-Auth`.

use super::*;

fn dsn(s: &str) -> Dsn {
    s.parse().unwrap()
}

#[test]
fn header_without_secret() {
    let d = dsn("https://abc123@o42.ingest.sentry.io/7");
    assert_eq!(
        d.auth_header_value("crumbtrail/0.1.0"),
        "Sentry sentry_key=abc123, sentry_version=7, sentry_client=crumbtrail/0.1.0"
    );
    assert!(!d.auth_header_value("x/1").contains("sentry_secret"));
    assert!(!d.auth_header_value("x/1").contains("sentry_timestamp"));
    assert_eq!(
        d.auth_header_value(""),
        "Sentry sentry_key=abc123, sentry_version=7"
    );
}

#[test]
fn header_with_secret() {
    let d = dsn("https://abc123:sk@host/7");
    assert_eq!(
        d.auth_header_value("crumbtrail/0.1.0"),
        "Sentry sentry_key=abc123, sentry_version=7, sentry_client=crumbtrail/0.1.0, \
         sentry_secret=sk"
    );
}

#[test]
fn default_client_uses_sdk_constants() {
    let client = Dsn::default_sentry_client();
    assert_eq!(client, format!("crumbtrail/{}", crate::SDK_VERSION));
    let header = dsn("https://k@host/1").auth_header_value(&client);
    assert!(header.ends_with(&format!("sentry_client=crumbtrail/{}", crate::SDK_VERSION)));
}

#[test]
fn query_string_variant() {
    let d = dsn("https://abc123@o42.ingest.sentry.io/7");
    assert_eq!(
        d.envelope_url_with_auth_query("crumbtrail/0.1.0"),
        "https://o42.ingest.sentry.io/api/7/envelope/\
         ?sentry_key=abc123&sentry_version=7&sentry_client=crumbtrail%2F0.1.0"
    );
    let d = dsn("http://pk:s%26k@localhost:9000/p/3");
    assert_eq!(
        d.envelope_url_with_auth_query("my sdk/1.0+x"),
        "http://localhost:9000/p/api/3/envelope/\
         ?sentry_key=pk&sentry_version=7&sentry_client=my%20sdk%2F1.0%2Bx&sentry_secret=s%2526k"
    );
}

#[test]
fn parses_the_header_it_writes() {
    for text in ["https://abc123@host/7", "https://abc123:sk@host/7"] {
        let d = dsn(text);
        let auth = SentryAuth::parse_header(&d.auth_header_value("crumbtrail/0.1.0")).unwrap();
        assert_eq!(auth, SentryAuth::for_dsn(&d, "crumbtrail/0.1.0"));
        assert_eq!(auth.version, Some(7));
        assert!(auth.matches_dsn(&d));
        let query = d.envelope_url_with_auth_query("crumbtrail/0.1.0");
        let (_, query) = query.split_once('?').unwrap();
        assert_eq!(SentryAuth::parse_query(query).unwrap(), auth);
    }
}

#[test]
fn lenient_header_reading() {
    let auth: SentryAuth = "  SENTRY sentry_version=7,sentry_key=abc ,  sentry_client = py/2.0 , \
                            sentry_timestamp=1700000000.5, sentry_secret=,"
        .parse()
        .unwrap();
    assert_eq!(
        auth,
        SentryAuth {
            key: "abc".into(),
            secret: None,
            version: Some(7),
            client: Some("py/2.0".into()),
        }
    );
    let auth = SentryAuth::parse_header("Sentry key=abc, secret=s3").unwrap();
    assert_eq!(
        (auth.key.as_str(), auth.secret.as_deref()),
        ("abc", Some("s3"))
    );
    assert_eq!(auth.version, None);
    let auth = SentryAuth::parse_query("?sentry_key=a%2Fb&other=1").unwrap();
    assert_eq!(auth.key, "a/b");
}

#[test]
fn header_errors() {
    assert_eq!(
        SentryAuth::parse_header("Basic abc"),
        Err(SentryAuthError::MissingPrefix)
    );
    assert_eq!(
        SentryAuth::parse_header("Sentrysentry_key=abc"),
        Err(SentryAuthError::MissingPrefix)
    );
    assert_eq!(
        SentryAuth::parse_header("Sentry"),
        Err(SentryAuthError::MissingKey)
    );
    assert_eq!(
        SentryAuth::parse_header("Sentry sentry_version=7"),
        Err(SentryAuthError::MissingKey)
    );
    let e = SentryAuth::parse_header("Sentry sentry_key=a, sentry_secret:hunter2").unwrap_err();
    assert_eq!(e, SentryAuthError::MalformedPair { index: 2 });
    assert!(!e.to_string().contains("hunter2"));
    assert_eq!(
        SentryAuth::parse_header("Sentry sentry_key=a, sentry_version=seven"),
        Err(SentryAuthError::InvalidVersion {
            value: "seven".into()
        })
    );
    assert!(SentryAuth::parse_header("").is_err());
    assert!(SentryAuth::parse_header("Sentr").is_err());
    assert!(SentryAuth::parse_header("Séntry x=1").is_err());
}

#[test]
fn matching_and_debug() {
    let d = dsn("https://abc:sk@host/1");
    let mut auth = SentryAuth::for_dsn(&d, "");
    assert_eq!(auth.client, None);
    assert!(auth.matches_dsn(&d));
    assert!(!format!("{auth:?}").contains("sk\""));
    assert!(format!("{auth:?}").contains("[redacted]"));
    auth.secret = None;
    assert!(auth.matches_dsn(&d), "the deprecated secret is optional");
    auth.secret = Some("wrong".into());
    assert!(!auth.matches_dsn(&d));
    auth.secret = None;
    auth.key = "other".into();
    assert!(!auth.matches_dsn(&d));
}
