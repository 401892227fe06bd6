//! What the layer does with a record, decided from its target and level alone: the thresholds,
//! the ignore rules, which handlers apply, and the crumbtrail-internal exclusion.
//!
//! Everything here is cheap enough to run per event (a few comparisons and a short scan of
//! prefix lists); the per-layer filter also runs it once per callsite.

use std::sync::Arc;

use tracing::level_filters::LevelFilter;
use tracing::{Level, Metadata};

use crate::record::{Handler, Handling, Record};

/// What the default processing does with a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing.
    Skip,
    /// Records a breadcrumb.
    Breadcrumb,
    /// Captures an event (and records a crumb of it after).
    Event,
}

/// One `ignore` rule.
#[derive(Clone, Debug)]
struct Ignore {
    target: String,
    /// At or above this level the target is still recorded; `OFF` ignores every level.
    allow_level: LevelFilter,
}

/// The layer's configuration: built once by the builder, then shared read-only.
#[derive(Clone)]
pub(crate) struct Rules {
    pub(crate) breadcrumb_level: LevelFilter,
    pub(crate) event_level: LevelFilter,
    pub(crate) span_fields: bool,
    /// Most specific (longest) target first.
    ignores: Vec<Ignore>,
    /// Most specific (longest) target first.
    target_handlers: Vec<(String, Handler)>,
    global_handlers: Vec<Handler>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            breadcrumb_level: LevelFilter::INFO,
            event_level: LevelFilter::ERROR,
            span_fields: true,
            ignores: Vec::new(),
            target_handlers: Vec::new(),
            global_handlers: Vec::new(),
        }
    }
}

/// Whether `target` is `prefix` or one of its children (`prefix::...`). `hyper` matches
/// `hyper` and `hyper::proto::h1`, not `hyperx` or `hyper_util`.
pub(crate) fn target_matches(target: &str, prefix: &str) -> bool {
    match target.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with("::"),
        None => false,
    }
}

/// Whether a target belongs to crumbtrail itself (`crumbtrail`, `crumbtrail::*`,
/// `crumbtrail_core::*`, ...): those records never reach the layer, so the SDK's own
/// diagnostics cannot loop back into it.
pub(crate) fn is_internal(target: &str) -> bool {
    /// The SDK's own crates (module paths use `_`). Applications named `crumbtrail_*` (our own
    /// examples, say) are not the SDK and are recorded.
    const SDK_CRATES: &[&str] = &[
        "crumbtrail",
        "crumbtrail_core",
        "crumbtrail_protocol",
        "crumbtrail_tracing",
        "crumbtrail_reqwest",
        "crumbtrail_tower",
        "crumbtrail_panic",
        "crumbtrail_process",
        "crumbtrail_devserver",
    ];
    // Runs for every record the layer sees: compared in place, `-` as `_`, without allocating.
    if !target.starts_with("crumbtrail") {
        return false;
    }
    let krate = target.split("::").next().unwrap_or(target).as_bytes();
    let same = |name: &str| {
        name.len() == krate.len()
            && name
                .bytes()
                .zip(krate)
                .all(|(a, &b)| a == b || (a == b'_' && b == b'-'))
    };
    SDK_CRATES.iter().any(|name| same(name))
}

/// Whether `meta` is one of `tracing-log`'s per-level callsites, whose real target is only
/// known per record (`log.target`).
pub(crate) fn is_log_bridge(meta: &Metadata<'_>) -> bool {
    meta.target() == "log" && meta.fields().field("log.target").is_some()
}

/// Inserts `item` keeping longest-target-first order, replacing an entry for the same target.
fn insert_by_specificity<T>(list: &mut Vec<T>, item: T, target: impl Fn(&T) -> &str) {
    let key = target(&item).to_owned();
    if let Some(existing) = list.iter_mut().find(|e| target(e) == key) {
        *existing = item;
        return;
    }
    let at = list
        .iter()
        .position(|e| target(e).len() < key.len())
        .unwrap_or(list.len());
    list.insert(at, item);
}

impl Rules {
    pub(crate) fn ignore(&mut self, target: &str, allow_level: LevelFilter) {
        let rule = Ignore {
            target: target.to_owned(),
            allow_level,
        };
        insert_by_specificity(&mut self.ignores, rule, |r| &r.target);
    }

    pub(crate) fn target_handler(&mut self, target: &str, handler: Handler) {
        insert_by_specificity(
            &mut self.target_handlers,
            (target.to_owned(), handler),
            |(t, _)| t,
        );
    }

    pub(crate) fn global_handler(&mut self, handler: Handler) {
        self.global_handlers.push(handler);
    }

    /// Whether the level is at or above one of the two thresholds.
    #[inline]
    pub(crate) fn level_passes(&self, level: &Level) -> bool {
        level <= &self.breadcrumb_level || level <= &self.event_level
    }

    /// The most specific ignore rule for `target` says to drop a record at `level`.
    pub(crate) fn is_ignored(&self, target: &str, level: &Level) -> bool {
        match self
            .ignores
            .iter()
            .find(|rule| target_matches(target, &rule.target))
        {
            Some(rule) => level > &rule.allow_level,
            None => false,
        }
    }

    /// The default processing for a record of `target` at `level` (handlers aside).
    pub(crate) fn action(&self, target: &str, level: &Level) -> Action {
        if is_internal(target) || !self.level_passes(level) || self.is_ignored(target, level) {
            Action::Skip
        } else if level <= &self.event_level {
            Action::Event
        } else {
            Action::Breadcrumb
        }
    }

    /// The handler registered for `target` or its nearest parent.
    pub(crate) fn target_handler_for(&self, target: &str) -> Option<&Handler> {
        self.target_handlers
            .iter()
            .find(|(t, _)| target_matches(target, t))
            .map(|(_, h)| h)
    }

    pub(crate) fn has_global_handlers(&self) -> bool {
        !self.global_handlers.is_empty()
    }

    /// Whether the layer wants to see a span or event with this metadata at all. Decided from
    /// the target and level only, so the per-layer filter can cache it per callsite.
    pub(crate) fn wants(&self, target: &str, meta: &Metadata<'_>) -> bool {
        let level = meta.level();
        // The common rejection first: an event below both thresholds, with no target handlers.
        if !self.level_passes(level) && self.target_handlers.is_empty() {
            return false;
        }
        if is_internal(target) {
            return false;
        }
        if meta.is_span() {
            return self.span_fields && self.action(target, level) != Action::Skip;
        }
        if self.target_handler_for(target).is_some() {
            return true;
        }
        if !self.level_passes(level) {
            return false;
        }
        self.has_global_handlers() || !self.is_ignored(target, level)
    }

    /// The most verbose level the layer may want (`None` when a target handler may want any).
    pub(crate) fn max_level(&self) -> Option<LevelFilter> {
        if self.target_handlers.is_empty() {
            Some(self.breadcrumb_level.max(self.event_level))
        } else {
            None
        }
    }

    /// Runs the handlers that apply, in order: the global ones (for records at or above a
    /// threshold), then the most specific target handler. Returns `Handled` as soon as one
    /// takes the record over. A panicking handler counts as `Continue`.
    pub(crate) fn run_handlers(&self, record: &Record<'_>, on_panic: impl Fn()) -> Handling {
        if self.level_passes(record.metadata().level()) {
            for handler in &self.global_handlers {
                if call(handler, record, &on_panic) == Handling::Handled {
                    return Handling::Handled;
                }
            }
        }
        match self.target_handler_for(record.target()) {
            Some(handler) => call(handler, record, &on_panic),
            None => Handling::Continue,
        }
    }
}

fn call(handler: &Handler, record: &Record<'_>, on_panic: &impl Fn()) -> Handling {
    match crumbtrail_core::sdk_work(|| handler(record)) {
        Ok(handling) => handling,
        Err(_) => {
            on_panic();
            Handling::Continue
        }
    }
}

/// Wraps a user closure as a [`Handler`].
pub(crate) fn handler(f: impl Fn(&Record<'_>) -> Handling + Send + Sync + 'static) -> Handler {
    Arc::new(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_match_themselves_and_their_children_only() {
        assert!(target_matches("hyper", "hyper"));
        assert!(target_matches("hyper::proto", "hyper"));
        assert!(target_matches("hyper::proto::h1::io", "hyper::proto"));
        assert!(!target_matches("hyperx", "hyper"));
        assert!(!target_matches("hyper_util::client", "hyper"));
        assert!(!target_matches("hyper", "hyper::proto"));
        assert!(!target_matches("my::hyper", "hyper"));
    }

    #[test]
    fn crumbtrail_targets_are_internal() {
        for t in [
            "crumbtrail",
            "crumbtrail::init",
            "crumbtrail_core::worker",
            "crumbtrail_tracing",
            "crumbtrail-devserver",
        ] {
            assert!(is_internal(t), "{t}");
        }
        for t in [
            "crumbtrailer",
            "app::crumbtrail",
            "shop",
            "crumbtrail_examples::axum_service",
        ] {
            assert!(!is_internal(t), "{t}");
        }
    }

    #[test]
    fn default_thresholds() {
        let rules = Rules::default();
        assert_eq!(rules.action("app", &Level::TRACE), Action::Skip);
        assert_eq!(rules.action("app", &Level::DEBUG), Action::Skip);
        assert_eq!(rules.action("app", &Level::INFO), Action::Breadcrumb);
        assert_eq!(rules.action("app", &Level::WARN), Action::Breadcrumb);
        assert_eq!(rules.action("app", &Level::ERROR), Action::Event);
        assert_eq!(rules.action("crumbtrail_core", &Level::ERROR), Action::Skip);
    }

    #[test]
    fn thresholds_can_move_and_events_can_be_off() {
        let rules = Rules {
            breadcrumb_level: LevelFilter::DEBUG,
            event_level: LevelFilter::WARN,
            ..Rules::default()
        };
        assert_eq!(rules.action("app", &Level::DEBUG), Action::Breadcrumb);
        assert_eq!(rules.action("app", &Level::WARN), Action::Event);
        let rules = Rules {
            event_level: LevelFilter::OFF,
            ..Rules::default()
        };
        assert_eq!(rules.action("app", &Level::ERROR), Action::Breadcrumb);
        assert_eq!(rules.max_level(), Some(LevelFilter::INFO));
    }

    #[test]
    fn ignore_covers_children_and_allow_level_lets_high_levels_through() {
        let mut rules = Rules::default();
        rules.ignore("hyper", LevelFilter::OFF);
        rules.ignore("h2", LevelFilter::WARN);
        assert_eq!(rules.action("hyper", &Level::ERROR), Action::Skip);
        assert_eq!(rules.action("hyper::proto::h1", &Level::WARN), Action::Skip);
        assert_eq!(rules.action("hyperx", &Level::INFO), Action::Breadcrumb);
        assert_eq!(rules.action("h2::codec", &Level::INFO), Action::Skip);
        assert_eq!(rules.action("h2::codec", &Level::WARN), Action::Breadcrumb);
        assert_eq!(rules.action("h2::codec", &Level::ERROR), Action::Event);
    }

    #[test]
    fn the_most_specific_ignore_rule_wins_and_a_repeat_replaces() {
        let mut rules = Rules::default();
        rules.ignore("hyper", LevelFilter::OFF);
        rules.ignore("hyper::client", LevelFilter::WARN);
        assert_eq!(
            rules.action("hyper::client::pool", &Level::WARN),
            Action::Breadcrumb
        );
        assert_eq!(rules.action("hyper::server", &Level::WARN), Action::Skip);
        rules.ignore("hyper", LevelFilter::ERROR);
        assert_eq!(rules.action("hyper::server", &Level::ERROR), Action::Event);
        assert_eq!(rules.ignores.len(), 2);
    }

    #[test]
    fn target_handlers_are_found_by_nearest_parent() {
        let mut rules = Rules::default();
        rules.target_handler("db", handler(|_| Handling::Continue));
        rules.target_handler("db::pool", handler(|_| Handling::Handled));
        rules.target_handler("db", handler(|_| Handling::Handled)); // replaces
        assert_eq!(rules.target_handlers.len(), 2);
        assert_eq!(rules.target_handlers[0].0, "db::pool");
        assert!(rules.target_handler_for("db::pool::conn").is_some());
        assert!(rules.target_handler_for("db::query").is_some());
        assert!(rules.target_handler_for("dbx").is_none());
        assert_eq!(rules.max_level(), None);
    }
}
