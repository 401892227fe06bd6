//! Building responses: JSON bodies, HTML pages, and the `{"detail": ...}` errors every failure
//! answers with.

use std::fmt;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

/// The response type of every route.
pub(crate) type Resp = Response<Full<Bytes>>;

/// Ends the connection without an HTTP response (the service error hyper acts on): used by
/// the `reset` and `hang` faults.
#[derive(Debug)]
pub(crate) struct Abort(pub(crate) &'static str);

impl fmt::Display for Abort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "connection aborted on purpose: {}", self.0)
    }
}

impl std::error::Error for Abort {}

/// A request the server refuses: answered with `status` and
/// `{"detail": "...", "causes": [...]}` (the shape Relay uses; `causes` only when there are
/// any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) detail: String,
    pub(crate) causes: Vec<String>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: detail.into(),
            causes: Vec::new(),
        }
    }

    pub(crate) fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }

    pub(crate) fn too_large(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, detail)
    }

    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, detail)
    }

    pub(crate) fn with_cause(mut self, cause: impl Into<String>) -> Self {
        self.causes.push(cause.into());
        self
    }

    pub(crate) fn into_response(self) -> Resp {
        #[derive(Serialize)]
        struct Body<'a> {
            detail: &'a str,
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            causes: &'a [String],
        }
        json(
            self.status,
            &Body {
                detail: &self.detail,
                causes: &self.causes,
            },
        )
    }
}

/// A JSON response.
pub(crate) fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Resp {
    match serde_json::to_vec(value) {
        Ok(body) => with_type(status, body, "application/json"),
        Err(e) => with_type(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("{{\"detail\":\"could not serialize the response: {e}\"}}").into_bytes(),
            "application/json",
        ),
    }
}

/// An HTML page.
pub(crate) fn html(status: StatusCode, body: String) -> Resp {
    with_type(status, body.into_bytes(), "text/html; charset=utf-8")
}

fn with_type(status: StatusCode, body: Vec<u8>, content_type: &'static str) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_of(resp: Resp) -> String {
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn errors_are_json_with_detail_and_causes() {
        let resp = ApiError::bad_request("bad \"thing\"").into_response();
        assert_eq!(resp.status(), 400);
        assert_eq!(resp.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(body_of(resp).await, r#"{"detail":"bad \"thing\""}"#);
        let resp = ApiError::too_large("big").with_cause("x").into_response();
        assert_eq!(body_of(resp).await, r#"{"detail":"big","causes":["x"]}"#);
    }
}
