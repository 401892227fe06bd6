//! `SENTRY_TRACE` / `SENTRY_BAGGAGE` for the child (PROTOCOL.md §9.3, §9.5).

use std::process::Command;

use crumbtrail_core::Client;
use crumbtrail_core::protocol::{
    DynamicSamplingContext, SENTRY_BAGGAGE_ENV_VAR, SENTRY_TRACE_ENV_VAR, SentryTrace, SpanId,
    TraceId,
};

/// The two variables, as the child will see them; `baggage` is `None` when the trace has no
/// dynamic sampling context to pass on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TraceEnv {
    pub(crate) sentry_trace: String,
    pub(crate) baggage: Option<String>,
}

impl TraceEnv {
    /// The current scope's trace: its frozen DSC if it came in from elsewhere, else one built
    /// from the trace id, the DSN's keys and the client's release and environment.
    pub(crate) fn current(client: &Client) -> Option<TraceEnv> {
        let p = crumbtrail_core::propagation_context()?;
        let dsc = p.dynamic_sampling_context(client);
        Some(TraceEnv::new(p.trace_id, p.span_id, p.sampled, &dsc))
    }

    fn new(
        trace_id: TraceId,
        span_id: SpanId,
        sampled: Option<bool>,
        dsc: &DynamicSamplingContext,
    ) -> TraceEnv {
        let baggage = dsc.to_baggage();
        TraceEnv {
            sentry_trace: SentryTrace::new(trace_id, span_id, sampled).to_header_value(),
            baggage: (!baggage.is_empty()).then_some(baggage),
        }
    }

    /// Sets both variables on the command (an inherited `SENTRY_BAGGAGE` is removed when there
    /// is none to pass on).
    fn apply(&self, command: &mut Command) {
        command.env(SENTRY_TRACE_ENV_VAR, &self.sentry_trace);
        match &self.baggage {
            Some(baggage) => command.env(SENTRY_BAGGAGE_ENV_VAR, baggage),
            None => command.env_remove(SENTRY_BAGGAGE_ENV_VAR),
        };
    }
}

/// Passes the current trace to the child unless the command opted out (an explicit
/// `env_remove("SENTRY_TRACE")`).
pub(crate) fn propagate(command: &mut Command, client: &Client) {
    if opted_out(command) {
        return;
    }
    if let Some(env) = TraceEnv::current(client) {
        env.apply(command);
    }
}

/// Whether `SENTRY_TRACE` was explicitly removed from the command's environment.
pub(crate) fn opted_out(command: &Command) -> bool {
    command
        .get_envs()
        .any(|(key, value)| key == SENTRY_TRACE_ENV_VAR && value.is_none())
}

/// Makes the command pass no trace: removes both variables from the child's environment.
pub(crate) fn opt_out(command: &mut Command) {
    command.env_remove(SENTRY_TRACE_ENV_VAR);
    command.env_remove(SENTRY_BAGGAGE_ENV_VAR);
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    const TRACE: &str = "4c79f60c11214eb38604f4ae0781bfb2";
    const SPAN: &str = "a1b2c3d4e5f60718";

    fn env_of<'a>(command: &'a Command, key: &str) -> Option<Option<&'a OsStr>> {
        command.get_envs().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    #[test]
    fn values_and_their_application() {
        let mut dsc = DynamicSamplingContext::new();
        dsc.set_trace_id(TRACE.parse().unwrap());
        dsc.public_key = Some("pk".into());
        dsc.release = Some("shop@2".into());
        let env = TraceEnv::new(
            TRACE.parse().unwrap(),
            SPAN.parse().unwrap(),
            Some(true),
            &dsc,
        );
        assert_eq!(env.sentry_trace, format!("{TRACE}-{SPAN}-1"));
        assert_eq!(
            env.baggage.as_deref(),
            Some(
                format!("sentry-trace_id={TRACE},sentry-public_key=pk,sentry-release=shop%402")
                    .as_str()
            )
        );
        let mut command = Command::new("true");
        env.apply(&mut command);
        assert_eq!(
            env_of(&command, "SENTRY_TRACE"),
            Some(Some(OsStr::new(&env.sentry_trace)))
        );
        assert!(!opted_out(&command));

        // An empty (frozen) DSC: no baggage, and an inherited one is removed.
        let empty = TraceEnv::new(
            TRACE.parse().unwrap(),
            SPAN.parse().unwrap(),
            None,
            &DynamicSamplingContext::new(),
        );
        assert_eq!(empty.sentry_trace, format!("{TRACE}-{SPAN}"));
        assert_eq!(empty.baggage, None);
        empty.apply(&mut command);
        assert_eq!(env_of(&command, "SENTRY_BAGGAGE"), Some(None));
    }

    #[test]
    fn opting_out_removes_both_and_is_detected() {
        let mut command = Command::new("true");
        assert!(!opted_out(&command));
        opt_out(&mut command);
        assert!(opted_out(&command));
        assert_eq!(env_of(&command, "SENTRY_BAGGAGE"), Some(None));
    }
}
