//! The router: method plus path segments to a handler. Trailing slashes are optional
//! everywhere.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use http::{Method, Request, StatusCode, header};
use hyper::body::Incoming;

use super::response::{Abort, ApiError, Resp};
use super::shared::Shared;
use crate::ingest::{self, Endpoint};
use crate::{api, view_html};

/// Answers one request.
pub(crate) async fn route(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    reset: Arc<AtomicBool>,
) -> Result<Resp, Abort> {
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let method = req.method().clone();
    let resp = match (&method, segments.as_slice()) {
        (_, ["api", project, kind @ ("envelope" | "store")]) => {
            let endpoint = if *kind == "envelope" {
                Endpoint::Envelope
            } else {
                Endpoint::Store
            };
            if method != Method::POST {
                return Ok(method_not_allowed(&method, &path, "POST"));
            }
            if !project.bytes().all(|b| b.is_ascii_digit()) {
                // Relay's route only matches numeric project ids, so anything else is a 404.
                return Ok(ApiError::not_found(format!(
                    "no such endpoint: the project id in {path} must be digits, \
                     e.g. /api/{}/envelope/",
                    shared.config.project_id
                ))
                .into_response());
            }
            return ingest::handle(&shared, endpoint, project, req, &reset).await;
        }
        (&Method::GET, ["api", "0", rest @ ..]) => api::get(&shared, rest, req.uri().query()).await,
        (&Method::PUT | &Method::POST, ["api", "0", "fault"]) => {
            let (parts, body) = req.into_parts();
            api::set_fault(&shared, &parts.headers, body).await
        }
        (&Method::DELETE, ["api", "0", "fault"]) => api::clear_fault(&shared),
        (&Method::GET, []) => view_html::index_response(&shared),
        (&Method::GET, ["events", id]) => view_html::event_response(&shared, id),
        (_, ["api", "0", ..]) => {
            return Ok(method_not_allowed(
                &method,
                &path,
                "GET (PUT, POST, DELETE for /api/0/fault)",
            ));
        }
        _ => ApiError::not_found(format!(
            "no route for {method} {path}: ingest is POST /api/{}/envelope/, the JSON API lives \
             under /api/0/ and the web view at /",
            shared.config.project_id
        ))
        .into_response(),
    };
    Ok(resp)
}

fn method_not_allowed(method: &Method, path: &str, allowed: &'static str) -> Resp {
    let mut resp = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {path}: use {allowed}"),
    )
    .into_response();
    if let Ok(v) = header::HeaderValue::from_str(allowed.split(' ').next().unwrap_or("GET")) {
        resp.headers_mut().insert(header::ALLOW, v);
    }
    resp
}
