//! The sender's side of a capture: from a bare event and a scope snapshot to a finished
//! envelope — scopes applied (global → isolation → current), processors and hooks run,
//! personal data scrubbed, values trimmed.

use std::panic::{AssertUnwindSafe, catch_unwind};

use std::collections::BTreeMap;

use crumbtrail_protocol::{
    Contexts, DataCategory, DiscardReason, DynamicSamplingContext, Envelope, Event, Item, User,
    Values,
};
use serde_json::{Map, Value};

use crate::capture::PendingCapture;
use crate::client::ClientCtx;
use crate::hub::Hub;
use crate::scope::{Scope, head_dsc};
use crate::{pii, stacktrace, truncate};

/// Assembles one capture. `Err` with the reason when a processor or hook dropped it (counted
/// here).
pub(crate) fn assemble(
    ctx: &ClientCtx,
    pending: PendingCapture,
) -> Result<Envelope, DiscardReason> {
    let PendingCapture {
        mut event,
        hint,
        hub,
        global,
        backtrace,
        receipt: _,
    } = pending;
    let options = &ctx.options;
    let layers = layers(&hub, global.as_deref());
    apply_scopes(&mut event, &layers, ctx);
    apply_options(&mut event, ctx);
    if let Some(bt) = backtrace {
        stacktrace::attach(&mut event, &bt, options);
    }

    let drop_as = |reason: DiscardReason| {
        ctx.discards.record(reason.clone(), DataCategory::Error, 1);
        Err(reason)
    };
    if is_ignored(&event, &options.ignore_errors) {
        ctx.debug(
            "ignore_errors",
            format_args!("dropped event {}: ignore_errors", event.event_id),
        );
        return drop_as(DiscardReason::EventProcessor);
    }
    let processors = layers.iter().flat_map(|l| {
        let errors = l.error_processors.iter().flat_map(|p| p.iter());
        errors.filter(|_| event.exception.is_some())
    });
    let processors: Vec<_> = processors
        .cloned()
        .chain(
            layers
                .iter()
                .flat_map(|l| l.event_processors.iter().flat_map(|p| p.iter()))
                .cloned(),
        )
        .collect();
    for processor in processors {
        match catch_unwind(AssertUnwindSafe(|| processor.process(event.clone()))) {
            Ok(Some(e)) => event = e,
            Ok(None) => return drop_as(DiscardReason::EventProcessor),
            Err(_) => {
                ctx.debug(
                    "processor_panic",
                    format_args!("an event processor panicked; the event is dropped"),
                );
                return drop_as(DiscardReason::EventProcessor);
            }
        }
    }
    if let Some(before_send) = &options.before_send {
        match catch_unwind(AssertUnwindSafe(|| before_send(event, &hint))) {
            Ok(Some(e)) => event = e,
            Ok(None) => return drop_as(DiscardReason::BeforeSend),
            Err(_) => {
                ctx.debug(
                    "before_send_panic",
                    format_args!("before_send panicked; the event is dropped"),
                );
                return drop_as(DiscardReason::BeforeSend);
            }
        }
    }
    pii::apply(&mut event, options);
    truncate::apply(&mut event, options.max_value_length);

    let item = match event.to_item() {
        Ok(item) => item,
        Err(e) => {
            ctx.debug(
                "serialize",
                format_args!("could not serialize an event: {e}"),
            );
            return drop_as(DiscardReason::InternalSdkError);
        }
    };
    let mut envelope = Envelope::new().with_item(item);
    envelope.headers.event_id = Some(event.event_id);
    envelope.headers.sdk = Some(ctx.sdk.clone());
    envelope.headers.trace = dsc_for(&event, &layers, ctx);
    for layer in &layers {
        for a in layer.attachments.iter().flat_map(|a| a.iter()) {
            envelope.items.push(Item::attachment(
                &a.filename,
                a.content_type.as_deref(),
                a.bytes.to_vec(),
            ));
        }
    }
    Ok(envelope)
}

/// Applies scope layers under the event's own values: the event's values win, then the
/// innermost layer's (current → isolation → global).
fn apply_scopes(event: &mut Event, layers: &[&Scope], ctx: &ClientCtx) {
    let options = &ctx.options;
    if let Some(level) = layers.iter().rev().find_map(|l| l.level) {
        event.level = level;
    }
    for layer in layers.iter().rev() {
        if event.fingerprint.is_empty() {
            if let Some(fp) = &layer.fingerprint {
                event.fingerprint = fp.to_vec();
            }
        }
        if event.transaction.is_none() {
            event.transaction = layer.transaction.as_deref().map(str::to_owned);
        }
        apply_shared(
            layer,
            &mut event.user,
            &mut event.tags,
            &mut event.extra,
            &mut event.contexts,
        );
    }
    if event.contexts.trace().is_none() {
        if let Some(p) = layers.iter().rev().find_map(|l| l.propagation.as_ref()) {
            event.contexts.insert("trace", p.trace_context());
        }
    }
    if !options.enable_breadcrumbs {
        event.breadcrumbs = None;
        return;
    }
    // Oldest first: the global trail, then the unit of work's, then the layer's, then the
    // event's own.
    let mut crumbs: Vec<_> = layers
        .iter()
        .flat_map(|l| {
            l.crumbs
                .materialize(options.max_breadcrumbs, options.max_breadcrumb_bytes)
        })
        .collect();
    if let Some(own) = event.breadcrumbs.take() {
        crumbs.extend(own.values);
    }
    let excess = crumbs.len().saturating_sub(options.max_breadcrumbs);
    crumbs.drain(..excess);
    if !crumbs.is_empty() {
        event.breadcrumbs = Some(Values::from(crumbs));
    }
}

fn apply_options(event: &mut Event, ctx: &ClientCtx) {
    fill_identity(
        ctx,
        [
            &mut event.release,
            &mut event.environment,
            &mut event.dist,
            &mut event.server_name,
        ],
    );
    if event.sdk.is_none() {
        event.sdk = Some(ctx.sdk.clone());
    }
}

/// Whether an exception type or value, or the message, contains an ignored string.
fn is_ignored(event: &Event, ignore: &[String]) -> bool {
    if ignore.is_empty() {
        return false;
    }
    let texts = event
        .exception
        .iter()
        .flat_map(|e| e.values.iter())
        .flat_map(|e| [e.ty.as_deref(), e.value.as_deref()])
        .chain([event.message.as_deref()])
        .flatten();
    texts.into_iter().any(|t| {
        ignore
            .iter()
            .any(|i| !i.is_empty() && t.contains(i.as_str()))
    })
}

/// The `trace` envelope header: a continued trace's frozen context, else one built from the
/// scope's trace and the options.
fn dsc_for(event: &Event, layers: &[&Scope], ctx: &ClientCtx) -> Option<DynamicSamplingContext> {
    let propagation = layers.iter().rev().find_map(|l| l.propagation.as_ref());
    if let Some(dsc) = propagation.and_then(|p| p.dsc.as_deref().cloned()) {
        return Some(dsc);
    }
    let trace_id = event.contexts.trace()?.trace_id;
    Some(head_dsc(
        ctx.dsn.as_ref(),
        Some(trace_id),
        event.release.clone(),
        event.environment.clone(),
    ))
}

/// The scope layers of a capture, outermost first: global → isolation → current.
pub(crate) fn layers<'a>(hub: &'a Hub, global: Option<&'a Scope>) -> Vec<&'a Scope> {
    [global, Some(&hub.isolation), hub.current.as_ref()]
        .into_iter()
        .flatten()
        .collect()
}

/// Applies what events and transactions take alike from one layer, under their own values.
pub(crate) fn apply_shared(
    layer: &Scope,
    user: &mut Option<User>,
    tags: &mut BTreeMap<String, String>,
    extra: &mut Map<String, Value>,
    contexts: &mut Contexts,
) {
    if user.is_none() {
        *user = layer.user.as_deref().cloned();
    }
    for (k, v) in layer.tags.iter().flat_map(|t| t.iter()) {
        tags.entry(k.to_string()).or_insert_with(|| v.to_owned());
    }
    for (k, v) in layer.extra.iter().flat_map(|e| e.iter()) {
        extra.entry(k.clone()).or_insert_with(|| v.clone());
    }
    for (k, v) in layer.contexts.iter().flat_map(|c| c.iter()) {
        if contexts.get(k).is_none() {
            contexts.insert(k.clone(), v.clone());
        }
    }
}

/// Fills unset release, environment, dist and server name (in that order) from the options.
pub(crate) fn fill_identity(ctx: &ClientCtx, slots: [&mut Option<String>; 4]) {
    let o = &ctx.options;
    let values = [&o.release, &o.environment, &o.dist, &o.server_name];
    for (slot, value) in slots.into_iter().zip(values) {
        if slot.is_none() {
            *slot = value.as_ref().map(|v| v.to_string());
        }
    }
}
