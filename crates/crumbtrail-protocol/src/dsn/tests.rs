//! DSN parsing tests: PROTOCOL.md §1.2 examples, §1.3 errors, and the edge cases of §1.1.

use super::*;

fn dsn(s: &str) -> Dsn {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn err(s: &str) -> DsnError {
    s.parse::<Dsn>().expect_err(s)
}

#[test]
fn example_with_org_host() {
    let d = dsn("https://abc123@o42.ingest.sentry.io/7");
    assert_eq!(d.scheme(), Scheme::Https);
    assert_eq!(d.public_key(), "abc123");
    assert_eq!(d.secret_key(), None);
    assert_eq!(d.host(), "o42.ingest.sentry.io");
    assert_eq!(d.explicit_port(), None);
    assert_eq!(d.port(), 443);
    assert_eq!(d.path_prefix(), "/");
    assert_eq!(d.project_id(), "7");
    assert_eq!(d.org_id(), Some(42));
    assert_eq!(d.base_url(), "https://o42.ingest.sentry.io/");
    assert_eq!(
        d.envelope_url(),
        "https://o42.ingest.sentry.io/api/7/envelope/"
    );
    assert_eq!(d.store_url(), "https://o42.ingest.sentry.io/api/7/store/");
    assert_eq!(d.to_string(), "https://abc123@o42.ingest.sentry.io/7");
}

#[test]
fn example_with_path_prefix() {
    let d = dsn("https://pk@example.com/sentry/relay/5");
    assert_eq!(d.scheme(), Scheme::Https);
    assert_eq!(d.public_key(), "pk");
    assert_eq!(d.secret_key(), None);
    assert_eq!(d.host(), "example.com");
    assert_eq!(d.port(), 443);
    assert_eq!(d.path_prefix(), "/sentry/relay/");
    assert_eq!(d.project_id(), "5");
    assert_eq!(d.org_id(), None);
    assert_eq!(d.base_url(), "https://example.com/sentry/relay/");
    assert_eq!(
        d.envelope_url(),
        "https://example.com/sentry/relay/api/5/envelope/"
    );
    assert_eq!(
        d.store_url(),
        "https://example.com/sentry/relay/api/5/store/"
    );
    assert_eq!(d.to_string(), "https://pk@example.com/sentry/relay/5");
}

#[test]
fn org_id_only_from_sentry_ingest_hosts() {
    assert_eq!(dsn("https://k@o1.ingest.us.sentry.io/1").org_id(), Some(1));
    assert_eq!(dsn("https://k@O9.INGEST.SENTRY.IO/1").org_id(), Some(9));
    for host in [
        "o42.example.com",
        "o42.ingest.example.io",
        "o.ingest.sentry.io",
        "o4x.ingest.sentry.io",
        "x42.ingest.sentry.io",
        "o42.ingest.a.b.sentry.io",
        "sentry.io",
        "o99999999999999999999999.ingest.sentry.io",
    ] {
        assert_eq!(dsn(&format!("https://k@{host}/1")).org_id(), None, "{host}");
    }
}

#[test]
fn scheme_errors() {
    for input in ["ftp://pk@host/1", "mailto:pk@host", "file:///1"] {
        let e = err(input);
        assert!(
            matches!(e, DsnError::UnsupportedScheme { .. }),
            "{input}: {e:?}"
        );
    }
    let e = err("ftp://pk@host/1");
    assert_eq!(
        e.to_string(),
        "DSN `ftp://pk@host/1` uses the unsupported scheme `ftp`: only https and http are \
         allowed, e.g. https://<public-key>@<host>/<project-id>"
    );
    let e = err("pk@host/1");
    assert_eq!(
        e,
        DsnError::MissingScheme {
            dsn: "pk@host/1".into()
        }
    );
    assert!(
        e.to_string()
            .contains("has no scheme: it must start with https://")
    );
}

#[test]
fn missing_public_key() {
    for input in ["https://host/1", "https://:sk@host/1", "http://@host/1"] {
        let e = err(input);
        assert!(
            matches!(e, DsnError::MissingPublicKey { .. }),
            "{input}: {e:?}"
        );
        assert!(e.to_string().contains("has no public key"), "{e}");
        assert!(!e.to_string().contains("sk@"), "secret leaked: {e}");
    }
    assert_eq!(
        err("https://:sk@host/1").to_string(),
        "DSN `https://:[redacted]@host/1` has no public key: put the key before the `@`, \
         e.g. https://<public-key>@<host>/<project-id>"
    );
}

#[test]
fn missing_host() {
    let e = err("https://pk@/1");
    assert_eq!(
        e,
        DsnError::MissingHost {
            dsn: "https://pk@/1".into()
        }
    );
    assert!(e.to_string().contains("has no host"));
}

#[test]
fn missing_project_id() {
    for input in [
        "https://pk@host",
        "https://pk@host/",
        "https://pk@host//",
        "https://pk@host/a//",
    ] {
        let e = err(input);
        assert!(
            matches!(e, DsnError::MissingProjectId { .. }),
            "{input}: {e:?}"
        );
    }
    assert_eq!(
        err("https://pk@host").to_string(),
        "DSN `https://pk@host` has no project id: the last path segment must be the project \
         id, e.g. https://<public-key>@<host>/<project-id>"
    );
}

#[test]
fn non_numeric_project_id() {
    let e = err("https://pk@host/abc");
    assert_eq!(
        e,
        DsnError::NonNumericProjectId {
            dsn: "https://pk@host/abc".into(),
            project_id: "abc".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "DSN `https://pk@host/abc` has a non-numeric project id `abc`: expected digits, \
         e.g. https://<public-key>@<host>/<project-id>"
    );
    assert!(matches!(
        err("https://pk@host/1a"),
        DsnError::NonNumericProjectId { .. }
    ));
    assert!(matches!(
        err("https://pk@host/-1"),
        DsnError::NonNumericProjectId { .. }
    ));
}

#[test]
fn invalid_port() {
    let e = err("https://pk@host:99999/1");
    assert_eq!(
        e,
        DsnError::InvalidPort {
            dsn: "https://pk@host:99999/1".into()
        }
    );
    assert!(e.to_string().contains("has an invalid port"));
    assert!(matches!(
        err("https://pk@host:abc/1"),
        DsnError::InvalidPort { .. }
    ));
}

#[test]
fn other_url_errors_and_empty() {
    let e = err("https://pk@ho st/1");
    assert!(matches!(e, DsnError::InvalidUrl { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("DSN `https://pk@ho st/1` is not a valid URL (")
    );
    assert_eq!(err(""), DsnError::Empty);
    assert_eq!(err(" \t\n"), DsnError::Empty);
    assert!(err("").to_string().contains("Dsn::parse_optional"));
}

#[test]
fn parse_optional_treats_blank_as_disabled() {
    assert_eq!(Dsn::parse_optional("").unwrap(), None);
    assert_eq!(Dsn::parse_optional("   \n").unwrap(), None);
    assert_eq!(
        Dsn::parse_optional("https://pk@host/1").unwrap(),
        Some(dsn("https://pk@host/1"))
    );
    assert!(matches!(
        Dsn::parse_optional("https://pk@host/"),
        Err(DsnError::MissingProjectId { .. })
    ));
}

#[test]
fn ipv6_host_keeps_brackets() {
    let d = dsn("https://pk@[::1]:9000/3");
    assert_eq!(d.host(), "[::1]");
    assert_eq!(d.explicit_port(), Some(9000));
    assert_eq!(d.port(), 9000);
    assert_eq!(d.base_url(), "https://[::1]:9000/");
    assert_eq!(d.envelope_url(), "https://[::1]:9000/api/3/envelope/");
    assert_eq!(d.to_string(), "https://pk@[::1]:9000/3");
}

#[test]
fn ports() {
    let d = dsn("http://pk@localhost:8000/2");
    assert_eq!(
        (d.scheme(), d.explicit_port(), d.port()),
        (Scheme::Http, Some(8000), 8000)
    );
    assert_eq!(d.to_string(), "http://pk@localhost:8000/2");
    assert_eq!(d.base_url(), "http://localhost:8000/");

    let d = dsn("https://pk@host:443/1");
    assert_eq!((d.explicit_port(), d.port()), (None, 443));
    assert_eq!(d.to_string(), "https://pk@host/1");
    assert_eq!(d, dsn("https://pk@host/1"));

    let d = dsn("http://pk@host:80/1");
    assert_eq!((d.explicit_port(), d.port()), (None, 80));
    assert_eq!(d.base_url(), "http://host/");

    let d = dsn("http://pk@host:443/1");
    assert_eq!(d.explicit_port(), Some(443));
    assert_eq!(d.to_string(), "http://pk@host:443/1");
}

#[test]
fn secret_key_handling() {
    let d = dsn("https://pk:@host/1");
    assert_eq!(d.secret_key(), None);
    assert_eq!(d.to_string(), "https://pk@host/1");

    let d = dsn("https://pk:sk@host/1");
    assert_eq!(d.public_key(), "pk");
    assert_eq!(d.secret_key(), Some("sk"));
    assert_eq!(d.to_string(), "https://pk:sk@host/1");
    let debug = format!("{d:?}");
    assert!(!debug.contains("sk\""), "{debug}");
    assert!(
        debug.contains(r#"secret_key: Some("[redacted]")"#),
        "{debug}"
    );
    assert!(format!("{d:#?}").matches("sk").count() == 0);

    for input in [
        "https://pk:sk@host/abc",
        "https://pk:sk@host/",
        "https://pk:sk@host:99999/1",
        "https://:sk@host/1",
        "ftp://pk:sk@host/1",
        "pk:sk@host/1",
        "https://pk:sk@ho st/1",
    ] {
        let e = err(input);
        for text in [e.to_string(), format!("{e:?}")] {
            assert!(!text.contains(":sk"), "{input} leaked: {text}");
            assert!(text.contains("[redacted]"), "{input}: {text}");
        }
    }
}

#[test]
fn trailing_slash_query_and_fragment() {
    let d = dsn("https://pk@host/5/");
    assert_eq!((d.path_prefix(), d.project_id()), ("/", "5"));
    assert_eq!(d.to_string(), "https://pk@host/5");

    let d = dsn("https://pk@host/prefix/5/?x=1#frag");
    assert_eq!((d.path_prefix(), d.project_id()), ("/prefix/", "5"));
    assert_eq!(d, dsn("https://pk@host/prefix/5"));
    assert_eq!(dsn("https://pk@host/5#/abc").project_id(), "5");
    assert_eq!(dsn("https://pk@host/5?a=/b").project_id(), "5");
}

#[test]
fn multi_segment_prefix() {
    let d = dsn("https://pk@host:8443/a/b/c/42");
    assert_eq!(d.path_prefix(), "/a/b/c/");
    assert_eq!(d.project_id(), "42");
    assert_eq!(d.base_url(), "https://host:8443/a/b/c/");
    assert_eq!(d.envelope_url(), "https://host:8443/a/b/c/api/42/envelope/");
    assert_eq!(d.to_string(), "https://pk@host:8443/a/b/c/42");
    assert_eq!(dsn("https://pk@host/007").project_id(), "007");
}

#[test]
fn serde_as_string() {
    let d = dsn("https://pk:sk@host:9000/p/1");
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(json, r#""https://pk:sk@host:9000/p/1""#);
    assert_eq!(serde_json::from_str::<Dsn>(&json).unwrap(), d);
    let e = serde_json::from_str::<Dsn>(r#""https://pk:sk@host/x""#).unwrap_err();
    assert!(e.to_string().contains("non-numeric project id"), "{e}");
    assert!(!e.to_string().contains(":sk"));
    assert!(serde_json::from_str::<Dsn>("3").is_err());
}
