//! Who may send: the credentials of an ingest request (PROTOCOL.md §2.2) and the answers
//! Relay gives when they are wrong (§11).
//!
//! Credentials may come in three forms: the `X-Sentry-Auth` header (or `Authorization:
//! Sentry ...`), the query string (`?sentry_key=...`), and the envelope header `dsn`. Any of
//! them is enough; when several are sent their keys must agree.
//!
//! | Problem | Status |
//! |---|---|
//! | no credentials in any form | 403 |
//! | a malformed header or query form (e.g. no `sentry_key`) | 401 |
//! | forms that disagree, or an envelope `dsn` that is not a DSN or names another project | 400 |
//! | a key other than the configured public key | 401 |
//! | a numeric project id other than the one served | 403 |
//!
//! `sentry_secret` is ignored: it is deprecated and the devserver's DSN has none.

use crumbtrail_protocol::{Dsn, SentryAuth};
use http::{HeaderMap, StatusCode, header};

use crate::config::DevServerConfig;
use crate::server::response::ApiError;

/// Where a key came from, for error messages.
struct Form {
    source: &'static str,
    key: String,
}

fn shown(key: &str) -> String {
    let mut s: String = key.chars().take(64).collect();
    if s.len() < key.len() {
        s.push('…');
    }
    s
}

fn unauthorized(detail: String) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, detail)
}

/// Checks the request's credentials and project against the configuration.
pub(crate) fn authenticate(
    config: &DevServerConfig,
    server_dsn: &Dsn,
    headers: &HeaderMap,
    query: Option<&str>,
    envelope_dsn: Option<&str>,
    path_project: &str,
) -> Result<(), ApiError> {
    let mut forms = Vec::new();
    if let Some(form) = header_form(headers)? {
        forms.push(form);
    }
    if let Some(form) = query_form(query)? {
        forms.push(form);
    }
    if let Some(raw) = envelope_dsn {
        let dsn: Dsn = raw.parse().map_err(|e| {
            ApiError::bad_request(format!("the envelope header `dsn` is not a valid DSN: {e}"))
        })?;
        if dsn.project_id() != path_project {
            return Err(ApiError::bad_request(format!(
                "the envelope header `dsn` names project {} but the request URL names project \
                 {path_project}: they must agree",
                dsn.project_id()
            )));
        }
        forms.push(Form {
            source: "the envelope header `dsn`",
            key: dsn.public_key().to_owned(),
        });
    }
    let Some(first) = forms.first() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "no credentials: send `X-Sentry-Auth: Sentry sentry_key={}, sentry_version=7`, \
                 or `?sentry_key={}` in the URL, or a `dsn` envelope header",
                config.public_key, config.public_key
            ),
        ));
    };
    if let Some(other) = forms.iter().find(|f| f.key != first.key) {
        return Err(ApiError::bad_request(format!(
            "{} and {} carry different keys (`{}` and `{}`): when several forms of \
             authentication are sent they must agree",
            first.source,
            other.source,
            shown(&first.key),
            shown(&other.key)
        )));
    }
    if first.key != config.public_key {
        return Err(unauthorized(format!(
            "unknown public key `{}` (from {}): this devserver accepts only `{}`; use the DSN {}",
            shown(&first.key),
            first.source,
            config.public_key,
            server_dsn
        )));
    }
    // A numeric project id that is not ours gets 403, not 404: Relay resolves the project from
    // the public key and rejects a URL naming a different project as forbidden for that key
    // (404 is only for paths that do not match the route at all, e.g. a non-numeric id).
    if path_project != config.project_id {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "project {path_project} is not served here: key `{}` belongs to project {}; \
                 use the DSN {}",
                config.public_key, config.project_id, server_dsn
            ),
        ));
    }
    Ok(())
}

/// `X-Sentry-Auth`, or `Authorization: Sentry ...` as a fallback.
fn header_form(headers: &HeaderMap) -> Result<Option<Form>, ApiError> {
    let (source, value) = if let Some(v) = headers.get("x-sentry-auth") {
        ("the X-Sentry-Auth header", v)
    } else {
        match headers.get(header::AUTHORIZATION) {
            Some(v)
                if v.as_bytes().len() >= 7
                    && v.as_bytes()[..7].eq_ignore_ascii_case(b"sentry ") =>
            {
                ("the Authorization header", v)
            }
            _ => return Ok(None),
        }
    };
    let text = value
        .to_str()
        .map_err(|_| unauthorized(format!("{source} is not ASCII text")))?;
    let auth = SentryAuth::parse_header(text).map_err(|e| {
        unauthorized(format!(
            "{source} is malformed ({e}): expected `Sentry sentry_key=<key>, sentry_version=7`"
        ))
    })?;
    Ok(Some(Form {
        source,
        key: auth.key,
    }))
}

/// `?sentry_key=...`; a query string without any `sentry_` parameter carries no credentials.
fn query_form(query: Option<&str>) -> Result<Option<Form>, ApiError> {
    let Some(query) = query else {
        return Ok(None);
    };
    let has_auth = query.split('&').any(|pair| pair.starts_with("sentry_"));
    if !has_auth {
        return Ok(None);
    }
    let auth = SentryAuth::parse_query(query).map_err(|e| {
        unauthorized(format!(
            "the query string credentials are malformed ({e}): expected `?sentry_key=<key>&sentry_version=7`"
        ))
    })?;
    Ok(Some(Form {
        source: "the query string",
        key: auth.key,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn check(
        headers: &[(&str, &str)],
        query: Option<&str>,
        dsn: Option<&str>,
        project: &str,
    ) -> Result<(), ApiError> {
        let config = DevServerConfig::default();
        let server_dsn: Dsn = "http://devkey@127.0.0.1:9/1".parse().unwrap();
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        authenticate(&config, &server_dsn, &map, query, dsn, project)
    }

    const GOOD: &str = "Sentry sentry_key=devkey, sentry_version=7";

    #[test]
    fn each_form_alone_authenticates() {
        assert!(check(&[("x-sentry-auth", GOOD)], None, None, "1").is_ok());
        assert!(check(&[("authorization", GOOD)], None, None, "1").is_ok());
        assert!(check(&[], Some("sentry_key=devkey&sentry_version=7"), None, "1").is_ok());
        assert!(check(&[], None, Some("http://devkey@localhost/1"), "1").is_ok());
        let all = check(
            &[("x-sentry-auth", GOOD)],
            Some("sentry_key=devkey"),
            Some("http://devkey@h/1"),
            "1",
        );
        assert!(all.is_ok());
    }

    #[test]
    fn failures_get_relays_status_codes() {
        let status = |r: Result<(), ApiError>| r.unwrap_err().status.as_u16();
        assert_eq!(status(check(&[], None, None, "1")), 403);
        assert_eq!(status(check(&[], Some("other=1"), None, "1")), 403);
        assert_eq!(
            status(check(&[("authorization", "Bearer x")], None, None, "1")),
            403
        );
        assert_eq!(
            status(check(
                &[("x-sentry-auth", "Sentry sentry_key=nope")],
                None,
                None,
                "1"
            )),
            401
        );
        assert_eq!(
            status(check(&[("x-sentry-auth", "Basic abc")], None, None, "1")),
            401
        );
        assert_eq!(
            status(check(
                &[("x-sentry-auth", "Sentry sentry_version=7")],
                None,
                None,
                "1"
            )),
            401
        );
        assert_eq!(status(check(&[], Some("sentry_version=7"), None, "1")), 401);
        assert_eq!(
            status(check(
                &[("x-sentry-auth", GOOD)],
                Some("sentry_key=other"),
                None,
                "1"
            )),
            400
        );
        assert_eq!(
            status(check(
                &[("x-sentry-auth", GOOD)],
                None,
                Some("http://other@h/1"),
                "1"
            )),
            400
        );
        assert_eq!(status(check(&[], None, Some("not a dsn"), "1")), 400);
        assert_eq!(
            status(check(&[], None, Some("http://devkey@h/2"), "1")),
            400
        );
        assert_eq!(
            status(check(&[("x-sentry-auth", GOOD)], None, None, "2")),
            403
        );
    }

    #[test]
    fn messages_say_what_to_do() {
        let err = check(
            &[("x-sentry-auth", "Sentry sentry_key=nope")],
            None,
            None,
            "1",
        )
        .unwrap_err();
        assert!(
            err.detail.contains("accepts only `devkey`"),
            "{}",
            err.detail
        );
        assert!(
            err.detail.contains("http://devkey@127.0.0.1:9/1"),
            "{}",
            err.detail
        );
        let err = check(&[], None, None, "1").unwrap_err();
        assert!(err.detail.starts_with("no credentials"), "{}", err.detail);
        let err = check(&[("x-sentry-auth", GOOD)], Some("sentry_key=k2"), None, "1").unwrap_err();
        assert!(err.detail.contains("must agree"), "{}", err.detail);
    }
}
