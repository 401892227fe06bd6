//! The breadcrumb trail of a scope: a persistent (immutable, shared) list, so that forking a
//! scope or snapshotting it for a capture copies one pointer, never the crumbs.
//!
//! New crumbs are pushed at the head, one allocation each. The list keeps at most `max`
//! crumbs and `max_bytes` (estimated) bytes *when read*; every `max` pushes it cuts the tail
//! off in place where no fork or snapshot shares it, so memory stays bounded without copying.

use std::sync::Arc;
use std::time::SystemTime;

use crumbtrail_protocol::Breadcrumb;

/// A processor that runs on a crumb only when an event actually carries it.
pub type CrumbProcessor = Arc<dyn Fn(&mut Breadcrumb) + Send + Sync>;

/// One recorded crumb with its estimated size and its optional deferred processor.
pub(crate) struct CrumbEntry {
    pub(crate) crumb: Breadcrumb,
    /// When it was recorded, if the crumb has no timestamp of its own: converted to the
    /// protocol's form only when an event carries the crumb.
    pub(crate) recorded_at: Option<SystemTime>,
    pub(crate) size: usize,
    pub(crate) processor: Option<CrumbProcessor>,
}

impl CrumbEntry {
    fn to_breadcrumb(&self) -> Breadcrumb {
        let mut crumb = self.crumb.clone();
        if crumb.timestamp.is_none() {
            crumb.timestamp = self
                .recorded_at
                .map(|t| crumbtrail_protocol::timestamp::truncate_to_micros(t.into()));
        }
        if let Some(p) = &self.processor {
            p(&mut crumb);
        }
        crumb
    }
}

struct Node {
    entry: CrumbEntry,
    prev: Option<Arc<Node>>,
}

impl Drop for Node {
    // Unlink iteratively so dropping a long chain cannot overflow the stack.
    fn drop(&mut self) {
        let mut next = self.prev.take();
        while let Some(node) = next {
            match Arc::try_unwrap(node) {
                Ok(mut n) => next = n.prev.take(),
                Err(_) => break,
            }
        }
    }
}

/// A trail of breadcrumbs, newest at the head.
#[derive(Clone, Default)]
pub(crate) struct CrumbList {
    head: Option<Arc<Node>>,
    /// Pushes until the next attempt to cut the tail.
    until_trim: usize,
}

impl CrumbList {
    /// Adds a crumb; every `max` pushes, cuts off what is past the limits.
    ///
    /// (Freeing the cut crumbs on the sender thread instead was measured: glibc's allocator
    /// makes cross-thread frees cost the caller more than freeing here.)
    pub(crate) fn push(&mut self, entry: CrumbEntry, max: usize, max_bytes: usize) {
        let prev = self.head.take();
        self.head = Some(Arc::new(Node { entry, prev }));
        if self.until_trim == 0 {
            self.until_trim = max.clamp(1, 1 << 16);
            self.trim(max, max_bytes);
        } else {
            self.until_trim -= 1;
        }
    }

    /// Cuts off the crumbs [`CrumbList::materialize`] would not return, as far as no other
    /// list shares them (shared nodes are left for a later attempt).
    fn trim(&mut self, max: usize, max_bytes: usize) {
        let (mut count, mut bytes) = (0usize, 0usize);
        let mut link = &mut self.head;
        loop {
            let keep = match link.as_deref() {
                None => return,
                Some(n) => count < max && bytes.saturating_add(n.entry.size) <= max_bytes,
            };
            if !keep {
                *link = None;
                return;
            }
            let Some(node) = link.as_mut().and_then(Arc::get_mut) else {
                return; // shared with a fork or a snapshot: try again later
            };
            count += 1;
            bytes += node.entry.size;
            link = &mut node.prev;
        }
    }

    /// The crumbs an event carries, oldest first, with deferred processors applied.
    pub(crate) fn materialize(&self, max: usize, max_bytes: usize) -> Vec<Breadcrumb> {
        let mut kept: Vec<&CrumbEntry> = Vec::with_capacity(max.min(128));
        let mut bytes = 0usize;
        let mut cur = self.head.as_deref();
        while let Some(node) = cur {
            if kept.len() >= max || bytes.saturating_add(node.entry.size) > max_bytes {
                break;
            }
            bytes += node.entry.size;
            kept.push(&node.entry);
            cur = node.prev.as_deref();
        }
        kept.iter().rev().map(|e| e.to_breadcrumb()).collect()
    }

    /// Forgets every crumb.
    pub(crate) fn clear(&mut self) {
        *self = CrumbList::default();
    }

    /// Whether the list holds no crumbs.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// How many nodes are reachable (for tests of the memory bound).
    #[cfg(test)]
    fn reachable(&self) -> usize {
        let mut n = 0;
        let mut cur = self.head.as_deref();
        while let Some(node) = cur {
            n += 1;
            cur = node.prev.as_deref();
        }
        n
    }
}

/// A rough estimate of a crumb's serialized size, cheap enough for the hot path.
pub(crate) fn estimate_size(crumb: &Breadcrumb) -> usize {
    const FIXED: usize = 64; // braces, keys, level, timestamp
    FIXED
        + crumb.ty.len()
        + crumb.category.as_ref().map_or(0, String::len)
        + crumb.message.as_ref().map_or(0, String::len)
        + crumb.origin.as_ref().map_or(0, String::len)
        + crumb
            .data
            .iter()
            .map(|(k, v)| k.len() + 4 + value_size(v))
            .sum::<usize>()
}

fn value_size(v: &serde_json::Value) -> usize {
    use serde_json::Value;
    match v {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 12,
        Value::String(s) => s.len() + 2,
        Value::Array(a) => 2 + a.iter().map(|v| value_size(v) + 1).sum::<usize>(),
        Value::Object(o) => {
            2 + o
                .iter()
                .map(|(k, v)| k.len() + 4 + value_size(v))
                .sum::<usize>()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(msg: &str) -> CrumbEntry {
        let crumb = Breadcrumb::new().with_message(msg);
        CrumbEntry {
            size: estimate_size(&crumb),
            crumb,
            recorded_at: None,
            processor: None,
        }
    }

    fn messages(list: &CrumbList, max: usize, max_bytes: usize) -> Vec<String> {
        list.materialize(max, max_bytes)
            .into_iter()
            .map(|c| c.message.unwrap())
            .collect()
    }

    #[test]
    fn keeps_the_newest_max_oldest_first() {
        let mut list = CrumbList::default();
        for i in 0..250 {
            list.push(entry(&i.to_string()), 100, usize::MAX);
        }
        let got = messages(&list, 100, usize::MAX);
        assert_eq!(got.len(), 100);
        assert_eq!(got[0], "150");
        assert_eq!(got[99], "249");
        assert!(
            list.reachable() <= 200,
            "trimmed: {} nodes",
            list.reachable()
        );
    }

    #[test]
    fn byte_cap_holds() {
        let mut list = CrumbList::default();
        let size = entry("0123456789").size;
        for _ in 0..50 {
            list.push(entry("0123456789"), 100, size * 10);
        }
        assert_eq!(list.materialize(100, size * 10).len(), 10);
        assert!(list.reachable() <= 100, "{} nodes", list.reachable());
    }

    #[test]
    fn forks_share_history_but_not_the_future() {
        let mut parent = CrumbList::default();
        parent.push(entry("before"), 10, usize::MAX);
        let mut child = parent.clone();
        child.push(entry("child"), 10, usize::MAX);
        parent.push(entry("parent"), 10, usize::MAX);
        assert_eq!(messages(&parent, 10, usize::MAX), ["before", "parent"]);
        assert_eq!(messages(&child, 10, usize::MAX), ["before", "child"]);
    }

    #[test]
    fn deferred_processor_runs_only_when_materialized() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = Arc::new(AtomicUsize::new(0));
        let mut list = CrumbList::default();
        for i in 0..5 {
            let calls = Arc::clone(&calls);
            let mut e = entry(&i.to_string());
            e.processor = Some(Arc::new(move |c: &mut Breadcrumb| {
                calls.fetch_add(1, Ordering::SeqCst);
                c.message = Some(format!("processed {}", c.message.as_deref().unwrap()));
            }));
            list.push(e, 3, usize::MAX);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing runs on push");
        assert_eq!(
            messages(&list, 3, usize::MAX),
            ["processed 2", "processed 3", "processed 4"]
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3, "only crumbs that are sent");
    }

    #[test]
    fn a_snapshot_keeps_its_crumbs_while_the_list_moves_on() {
        let mut list = CrumbList::default();
        for i in 0..10 {
            list.push(entry(&i.to_string()), 5, usize::MAX);
        }
        let snapshot = list.clone();
        for i in 10..40 {
            list.push(entry(&i.to_string()), 5, usize::MAX);
        }
        assert_eq!(
            messages(&snapshot, 5, usize::MAX),
            ["5", "6", "7", "8", "9"]
        );
        assert_eq!(
            messages(&list, 5, usize::MAX),
            ["35", "36", "37", "38", "39"]
        );
        drop(snapshot);
        for i in 40..50 {
            list.push(entry(&i.to_string()), 5, usize::MAX);
        }
        assert!(list.reachable() <= 10, "{} nodes", list.reachable());
    }

    #[test]
    fn dropping_a_long_chain_does_not_overflow() {
        let mut list = CrumbList::default();
        for _ in 0..200_000 {
            list.push(entry("x"), usize::MAX / 4, usize::MAX / 4);
        }
        drop(list);
    }
}
