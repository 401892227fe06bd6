//! The JSON API under `/api/0/`, for tests and tools. The routes and their answers are listed
//! in the crate documentation.

mod query;
mod wait;

use std::sync::Arc;

use bytes::Bytes;
use crumbtrail_protocol::timestamp::format_rfc3339;
use crumbtrail_protocol::{EventId, Item, ItemType, Level};
use http::{HeaderMap, StatusCode};
use hyper::body::Body;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::fault::Fault;
use crate::ingest::decode::read_body;
use crate::server::response::{ApiError, Resp, json};
use crate::server::shared::{Shared, lock};
use crate::storage::{ReceivedEnvelope, ReceivedEvent};
use crate::view_terminal::event_title;
use query::Params;

/// Largest fault body accepted.
const MAX_FAULT_BODY: usize = 64 * 1024;

/// Answers `GET /api/0/{rest}`.
pub(crate) async fn get(shared: &Arc<Shared>, rest: &[&str], query: Option<&str>) -> Resp {
    let result = match rest {
        ["events"] => list_events(shared, query),
        ["events", id] => get_event(shared, id, query),
        ["envelopes"] => list_envelopes(shared, query),
        ["items"] => list_items(shared, query),
        ["client-reports"] => client_reports(shared, query),
        ["stats"] => stats(shared, query),
        ["wait"] => wait::wait(shared, query).await,
        ["fault"] => Params::parse(query, &[]).map(|_| fault_json(shared)),
        _ => Err(ApiError::not_found(format!(
            "no JSON API route /api/0/{}: see the crate docs for the list \
             (events, events/<id>, envelopes, items, client-reports, stats, wait, fault)",
            rest.join("/")
        ))),
    };
    result.unwrap_or_else(ApiError::into_response)
}

/// The JSON form of one event, as listed and fetched.
pub(crate) fn event_json(e: &ReceivedEvent) -> Value {
    json!({
        "event_id": e.event.event_id.to_string(),
        "envelope": e.envelope_seq,
        "received_at": format_rfc3339(e.received_at),
        "item_type": e.item_type.as_str(),
        "level": e.event.level.as_str(),
        "title": event_title(&e.event),
        "event": serde_json::to_value(&e.event).unwrap_or(Value::Null),
    })
}

fn since_ok(since: Option<OffsetDateTime>, at: OffsetDateTime) -> bool {
    since.is_none_or(|s| at >= s)
}

fn list_events(shared: &Shared, query: Option<&str>) -> Result<Resp, ApiError> {
    let p = Params::parse(query, &["level", "type", "since"])?;
    let level = p
        .get("level")
        .map(|l| {
            l.parse::<Level>()
                .map_err(|e| ApiError::bad_request(format!("query parameter `level`: {e}")))
        })
        .transpose()?;
    let ty = p.get("type");
    let since = p.time("since")?;
    let received = lock(&shared.received);
    let events: Vec<Value> = received
        .events()
        .iter()
        .filter(|e| level.is_none_or(|l| e.event.level == l))
        .filter(|e| ty.is_none_or(|t| e.item_type.as_str() == t))
        .filter(|e| since_ok(since, e.received_at))
        .map(|e| event_json(e))
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({ "count": events.len(), "events": events }),
    ))
}

fn get_event(shared: &Shared, id: &str, query: Option<&str>) -> Result<Resp, ApiError> {
    Params::parse(query, &[])?;
    let id: EventId = id
        .parse()
        .map_err(|e| ApiError::bad_request(format!("`{id}` is not an event id: {e}")))?;
    let received = lock(&shared.received);
    let event = received
        .event(&id)
        .ok_or_else(|| ApiError::not_found(format!("no event {id} has arrived")))?;
    Ok(json(StatusCode::OK, &event_json(event)))
}

fn envelope_json(e: &ReceivedEnvelope) -> Value {
    json!({
        "seq": e.seq,
        "received_at": format_rfc3339(e.received_at),
        "len": e.raw.len(),
        "event_id": e.envelope.event_id().map(|id| id.to_string()),
        "item_types": e.item_types(),
        "body": String::from_utf8_lossy(&e.raw),
    })
}

fn list_envelopes(shared: &Shared, query: Option<&str>) -> Result<Resp, ApiError> {
    let p = Params::parse(query, &["since"])?;
    let since = p.time("since")?;
    let received = lock(&shared.received);
    let list: Vec<Value> = received
        .envelopes()
        .iter()
        .filter(|e| since_ok(since, e.received_at))
        .map(|e| envelope_json(e))
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({ "count": list.len(), "envelopes": list }),
    ))
}

/// An item's payload as JSON when its type is a JSON type, else as (lossy) text.
fn payload_json(item: &Item) -> Value {
    let raw_types = matches!(
        item.ty(),
        ItemType::Attachment | ItemType::ReplayRecording | ItemType::Unknown(_)
    );
    if !raw_types && let Ok(v) = serde_json::from_slice(&item.payload) {
        return v;
    }
    Value::String(String::from_utf8_lossy(&item.payload).into_owned())
}

fn list_items(shared: &Shared, query: Option<&str>) -> Result<Resp, ApiError> {
    let p = Params::parse(query, &["type", "since"])?;
    let ty = p.get("type");
    let since = p.time("since")?;
    let received = lock(&shared.received);
    let mut items = Vec::new();
    for env in received.envelopes() {
        if !since_ok(since, env.received_at) {
            continue;
        }
        for (index, item) in env.envelope.items.iter().enumerate() {
            if ty.is_some_and(|t| item.ty().as_str() != t) {
                continue;
            }
            items.push(json!({
                "envelope": env.seq,
                "index": index,
                "received_at": format_rfc3339(env.received_at),
                "type": item.ty().as_str(),
                "headers": serde_json::to_value(&item.headers).unwrap_or(Value::Null),
                "len": item.payload.len(),
                "payload": payload_json(item),
            }));
        }
    }
    Ok(json(
        StatusCode::OK,
        &json!({ "count": items.len(), "items": items }),
    ))
}

fn client_reports(shared: &Shared, query: Option<&str>) -> Result<Resp, ApiError> {
    Params::parse(query, &[])?;
    let received = lock(&shared.received);
    let totals: Vec<Value> = received
        .client_report_totals()
        .iter()
        .map(|((reason, category), quantity)| {
            json!({ "reason": reason.as_str(), "category": category.as_str(), "quantity": quantity })
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &json!({ "reports": received.client_report_items(), "totals": totals }),
    ))
}

fn stats(shared: &Shared, query: Option<&str>) -> Result<Resp, ApiError> {
    Params::parse(query, &[])?;
    let received = lock(&shared.received);
    Ok(json(
        StatusCode::OK,
        &json!({
            "requests": received.requests(),
            "envelopes": received.envelopes().len(),
            "events": received.events().len(),
            "items": received.item_counts(),
        }),
    ))
}

fn fault_json(shared: &Shared) -> Resp {
    json(
        StatusCode::OK,
        &json!({ "fault": lock(&shared.fault).get() }),
    )
}

/// `PUT`/`POST /api/0/fault` with a [`Fault`] as the JSON body.
pub(crate) async fn set_fault<B>(shared: &Shared, headers: &HeaderMap, body: B) -> Resp
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let result = async {
        let bytes = read_body(body, headers, MAX_FAULT_BODY).await?;
        let fault: Fault = serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::bad_request(format!(
                "the body is not a fault: {e}; e.g. {{\"mode\":\"status\",\"status\":503,\"times\":2}}"
            ))
        })?;
        fault
            .validate()
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        lock(&shared.fault).set(Some(fault));
        Ok(fault_json(shared))
    };
    result.await.unwrap_or_else(ApiError::into_response)
}

/// `DELETE /api/0/fault`.
pub(crate) fn clear_fault(shared: &Shared) -> Resp {
    lock(&shared.fault).set(None);
    fault_json(shared)
}
