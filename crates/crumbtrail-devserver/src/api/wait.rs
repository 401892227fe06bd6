//! `GET /api/0/wait`: a long poll that returns once enough has arrived.

use std::time::Duration;

use http::StatusCode;
use serde_json::json;

use super::query::Params;
use crate::server::response::{ApiError, Resp, json};
use crate::server::shared::{Shared, lock};
use crate::storage::Received;

/// Default wait when `timeout_ms` is not given.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait a request may ask for.
const MAX_TIMEOUT: Duration = Duration::from_secs(60);

/// How many of the awaited things have arrived: items of `ty`, or envelopes without a type.
fn count(received: &Received, ty: Option<&str>) -> u64 {
    match ty {
        Some(ty) => received.item_count(ty),
        None => received.envelopes().len() as u64,
    }
}

/// `?count=N&timeout_ms=M[&type=T]`: 200 `{"count": k}` once at least N items of type T (or N
/// envelopes, without `type`) have arrived; 408 with the count so far when M ms pass first;
/// 503 if the server shuts down meanwhile.
pub(crate) async fn wait(shared: &Shared, query: Option<&str>) -> Result<Resp, ApiError> {
    let p = Params::parse(query, &["count", "timeout_ms", "type"])?;
    let want = p.u64("count")?.unwrap_or(1);
    let timeout = p
        .u64("timeout_ms")?
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
    if timeout > MAX_TIMEOUT {
        return Err(ApiError::bad_request(format!(
            "query parameter `timeout_ms` must be at most {}",
            MAX_TIMEOUT.as_millis()
        )));
    }
    let ty = p.get("type").map(str::to_owned);
    let what = match &ty {
        Some(t) => format!("`{t}` items"),
        None => "envelopes".to_owned(),
    };
    let outcome = tokio::select! {
        r = shared.wait_until(timeout, |r| count(r, ty.as_deref()) >= want) => Some(r),
        () = shared.shutting_down() => None,
    };
    let now = count(&lock(&shared.received), ty.as_deref());
    match outcome {
        Some(Ok(())) => Ok(json(StatusCode::OK, &json!({ "count": now, "type": ty }))),
        Some(Err(_)) => Ok(json(
            StatusCode::REQUEST_TIMEOUT,
            &json!({
                "detail": format!(
                    "timed out after {} ms waiting for {want} {what} ({now} arrived)",
                    timeout.as_millis()
                ),
                "count": now,
                "type": ty,
            }),
        )),
        None => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the devserver is shutting down",
        )),
    }
}
