//! The sender's side of a transaction: the scopes applied under its own values, the PII
//! policy, `before_send_transaction`, and the envelope with its sampling context.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crumbtrail_protocol::{DataCategory, DiscardReason, Envelope, TransactionSource};

use crate::assemble::{apply_shared, fill_identity, layers};
use crate::client::ClientCtx;
use crate::scope::head_dsc;

use super::PendingTransaction;

/// Assembles one finished transaction. `Err` with the reason when `before_send_transaction`
/// dropped it (counted here).
pub(crate) fn assemble_transaction(
    ctx: &ClientCtx,
    pending: PendingTransaction,
) -> Result<Envelope, DiscardReason> {
    let PendingTransaction {
        transaction: mut tx,
        sample_rate,
        hub,
        global,
    } = pending;
    let options = &ctx.options;
    let layers = layers(&hub, global.as_deref());
    // Innermost layer first: the transaction's own values win, then current → global.
    for layer in layers.iter().rev() {
        apply_shared(
            layer,
            &mut tx.user,
            &mut tx.tags,
            &mut tx.extra,
            &mut tx.contexts,
        );
    }
    fill_identity(
        ctx,
        [
            &mut tx.release,
            &mut tx.environment,
            &mut tx.dist,
            &mut tx.server_name,
        ],
    );
    tx.sdk.get_or_insert_with(|| ctx.sdk.clone());

    let spans = tx.spans.len() as u64 + 1;
    let drop_as = |reason: DiscardReason| {
        ctx.discards
            .record(reason.clone(), DataCategory::Transaction, 1);
        ctx.discards
            .record(reason.clone(), DataCategory::Span, spans);
        Err(reason)
    };
    if let Some(hook) = &options.before_send_transaction {
        match catch_unwind(AssertUnwindSafe(|| hook(tx))) {
            Ok(Some(t)) => tx = t,
            Ok(None) => return drop_as(DiscardReason::BeforeSend),
            Err(_) => {
                ctx.debug(
                    "before_send_transaction_panic",
                    format_args!("before_send_transaction panicked; the transaction is dropped"),
                );
                return drop_as(DiscardReason::BeforeSend);
            }
        }
    }
    // As for events, after the hook: what it adds is scrubbed too.
    crate::pii::apply_to_transaction(&mut tx, options);
    let item = match tx.to_item() {
        Ok(item) => item,
        Err(e) => {
            ctx.debug(
                "serialize",
                format_args!("could not serialize a transaction: {e}"),
            );
            return drop_as(DiscardReason::InternalSdkError);
        }
    };
    let mut envelope = Envelope::new().with_item(item);
    envelope.headers.event_id = Some(tx.event_id);
    envelope.headers.sdk = Some(ctx.sdk.clone());
    let frozen = layers
        .iter()
        .rev()
        .find_map(|l| l.propagation.as_ref())
        .and_then(|p| p.dsc.as_deref().cloned());
    envelope.headers.trace = frozen.or_else(|| {
        let trace_id = tx.trace_context()?.trace_id;
        let mut dsc = head_dsc(
            ctx.dsn.as_ref(),
            Some(trace_id),
            tx.release.clone(),
            tx.environment.clone(),
        );
        // A name taken from the URL may hold identifiers: it is left out (PROTOCOL.md §9.5).
        let from_url = tx
            .transaction_info
            .as_ref()
            .and_then(|i| i.source.as_ref())
            .is_some_and(|s| *s == TransactionSource::Url);
        dsc.transaction = tx.transaction.clone().filter(|_| !from_url);
        dsc.set_sampled(Some(true));
        dsc.set_sample_rate(sample_rate);
        Some(dsc)
    });
    Ok(envelope)
}
