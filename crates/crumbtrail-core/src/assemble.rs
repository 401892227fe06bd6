//! The sender's side of a capture: from a bare event and a scope snapshot to a finished
//! envelope — scopes applied (global → isolation → current), processors and hooks run,
//! personal data scrubbed, values trimmed.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crumbtrail_protocol::{
    DataCategory, DiscardReason, DynamicSamplingContext, Envelope, Event, Item, Values,
};

use crate::capture::PendingCapture;
use crate::client::ClientCtx;
use crate::scope::Scope;
use crate::{pii, stacktrace, truncate};

/// Assembles one capture. `None` when a processor or hook dropped it (counted here).
pub(crate) fn assemble(ctx: &ClientCtx, pending: PendingCapture) -> Option<Envelope> {
    let PendingCapture {
        mut event,
        hint,
        hub,
        global,
        backtrace,
    } = pending;
    let options = &ctx.options;
    let layers: Vec<&Scope> = [
        global.as_deref(),
        Some(&hub.isolation),
        hub.current.as_ref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    apply_scopes(&mut event, &layers, ctx);
    apply_options(&mut event, ctx);
    if let Some(bt) = backtrace {
        stacktrace::attach(&mut event, &bt, options);
    }

    let drop_as = |reason: DiscardReason| {
        ctx.discards.record(reason, DataCategory::Error, 1);
        None
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
        match catch_unwind(AssertUnwindSafe(|| processor(event.clone()))) {
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
    Some(envelope)
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
        if event.user.is_none() {
            event.user = layer.user.as_deref().cloned();
        }
        for (k, v) in layer.tags.iter().flat_map(|t| t.iter()) {
            event.tags.entry(k.to_string()).or_insert_with(|| v.clone());
        }
        for (k, v) in layer.extra.iter().flat_map(|e| e.iter()) {
            event.extra.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in layer.contexts.iter().flat_map(|c| c.iter()) {
            if event.contexts.get(k).is_none() {
                event.contexts.insert(k.clone(), v.clone());
            }
        }
    }
    if event.contexts.trace().is_none() {
        if let Some(p) = layers.iter().rev().find_map(|l| l.propagation.as_deref()) {
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
    let o = &ctx.options;
    let fill = |slot: &mut Option<String>, value: &Option<std::borrow::Cow<'static, str>>| {
        if slot.is_none() {
            *slot = value.as_ref().map(|v| v.to_string());
        }
    };
    fill(&mut event.release, &o.release);
    fill(&mut event.environment, &o.environment);
    fill(&mut event.dist, &o.dist);
    fill(&mut event.server_name, &o.server_name);
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
    let propagation = layers.iter().rev().find_map(|l| l.propagation.as_deref());
    if let Some(dsc) = propagation.and_then(|p| p.dsc.clone()) {
        return Some(dsc);
    }
    let trace_id = event.contexts.trace()?.trace_id;
    let mut dsc = DynamicSamplingContext::new();
    dsc.set_trace_id(trace_id);
    dsc.public_key = ctx.dsn.as_ref().map(|d| d.public_key().to_owned());
    dsc.org_id = ctx
        .dsn
        .as_ref()
        .and_then(|d| d.org_id())
        .map(|o| o.to_string());
    dsc.release = event.release.clone();
    dsc.environment = event.environment.clone();
    Some(dsc)
}
