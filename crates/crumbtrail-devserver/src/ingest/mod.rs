//! The ingest endpoints: `POST /api/{project}/envelope/` and the legacy
//! `POST /api/{project}/store/`.
//!
//! Order of work for one request: count it and take the current fault; read the body within
//! the size limit; act out the fault; decompress ([`decode`]); parse (envelope: strictly, with
//! [`Envelope::parse`]; store: one JSON event); authenticate ([`auth`]); check the items
//! ([`limits`]); persist and answer `200 {"id": "<event id>"}` (or `{}` when the envelope is
//! not about an event).

mod auth;
pub(crate) mod decode;
mod limits;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;
use crumbtrail_protocol::{Envelope, Event};
use http::{HeaderName, HeaderValue, Request, StatusCode};
use hyper::body::Incoming;
use serde_json::json;

use crate::fault::FaultMode;
use crate::server::response::{Abort, ApiError, Resp, json};
use crate::server::shared::Shared;

/// Which ingest endpoint a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `/api/{project}/envelope/`.
    Envelope,
    /// `/api/{project}/store/` (legacy: one JSON event).
    Store,
}

/// Handles one ingest request, faults included.
pub(crate) async fn handle(
    shared: &Arc<Shared>,
    endpoint: Endpoint,
    project: &str,
    req: Request<Incoming>,
    reset: &AtomicBool,
) -> Result<Resp, Abort> {
    let fault = shared.begin_ingest();
    let (parts, body) = req.into_parts();
    let body = decode::read_body(body, &parts.headers, shared.config.max_envelope_bytes).await;
    let mut extra_headers = Vec::new();
    match fault {
        None => {}
        Some(FaultMode::Reset) => {
            reset.store(true, Ordering::SeqCst);
            return Err(Abort("reset fault"));
        }
        Some(FaultMode::Hang) => {
            shared.shutting_down().await;
            return Err(Abort("hang fault, ended by shutdown"));
        }
        Some(FaultMode::Delay { delay_ms }) => {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(delay_ms)) => {}
                () = shared.shutting_down() => return Err(Abort("delay fault, ended by shutdown")),
            }
        }
        Some(FaultMode::Status {
            status,
            rate_limits,
            retry_after,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            for (name, value) in [
                ("x-sentry-rate-limits", rate_limits),
                ("retry-after", retry_after),
            ] {
                if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                    extra_headers.push((HeaderName::from_static(name), v));
                }
            }
            if !status.is_success() {
                let mut resp =
                    ApiError::new(status, format!("fault injected by the devserver: {status}"))
                        .into_response();
                resp.headers_mut().extend(extra_headers);
                return Ok(resp);
            }
        }
    }
    let mut resp = match accept(shared, endpoint, project, &parts, body).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    };
    resp.headers_mut().extend(extra_headers);
    Ok(resp)
}

/// Decodes, checks and stores the request; the answer on success.
async fn accept(
    shared: &Arc<Shared>,
    endpoint: Endpoint,
    project: &str,
    parts: &http::request::Parts,
    body: Result<Bytes, ApiError>,
) -> Result<Resp, ApiError> {
    let body = body?;
    let encoding = decode::content_encoding(&parts.headers)?;
    let limit = shared.config.max_envelope_bytes;
    let data = tokio::task::spawn_blocking(move || decode::decompress(encoding, body, limit))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    let authenticate = |dsn: Option<&str>| {
        auth::authenticate(
            &shared.config,
            &shared.dsn,
            &parts.headers,
            parts.uri.query(),
            dsn,
            project,
        )
    };
    let (raw, envelope) = match endpoint {
        Endpoint::Envelope => {
            let envelope = Envelope::parse(&data).map_err(|e| {
                ApiError::bad_request(e.to_string()).with_cause(format!("byte offset {}", e.offset))
            })?;
            authenticate(envelope.headers.dsn.as_deref())?;
            (data, envelope)
        }
        Endpoint::Store => {
            authenticate(None)?;
            if data.len() > shared.config.max_event_bytes {
                return Err(ApiError::too_large(format!(
                    "the event is {} bytes, over the limit of {} bytes",
                    data.len(),
                    shared.config.max_event_bytes
                )));
            }
            let event: Event = serde_json::from_slice(&data).map_err(|e| {
                ApiError::bad_request(format!("the body is not a valid event: {e}"))
                    .with_cause(format!("line {}, column {}", e.line(), e.column()))
            })?;
            let envelope = Envelope::from_event(&event)
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            (Bytes::from(envelope.to_bytes()), envelope)
        }
    };
    limits::check_envelope(&envelope, shared.config.max_event_bytes)?;
    let id = envelope.event_id();
    shared.store(raw, envelope).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("could not write the envelope to the data directory: {e}"),
        )
    })?;
    Ok(match id {
        Some(id) => json(StatusCode::OK, &json!({ "id": id.to_string() })),
        None => json(StatusCode::OK, &json!({})),
    })
}
