//! The breadcrumb trail of a scope: a persistent (immutable, shared) list, so that forking a
//! scope or snapshotting it for a capture copies one pointer, never the crumbs.
//!
//! New crumbs are pushed at the head. The list keeps at most `max` crumbs and `max_bytes`
//! (estimated) bytes *when read*; physically it may hold up to twice that before it is
//! compacted, which keeps `push` amortised O(1) without copying on every eviction.

use std::sync::Arc;

use crumbtrail_protocol::Breadcrumb;

/// A processor that runs on a crumb only when an event actually carries it.
pub type CrumbProcessor = Arc<dyn Fn(&mut Breadcrumb) + Send + Sync>;

/// One recorded crumb with its estimated size and its optional deferred processor.
pub(crate) struct CrumbEntry {
    pub(crate) crumb: Breadcrumb,
    pub(crate) size: usize,
    pub(crate) processor: Option<CrumbProcessor>,
}

struct Node {
    entry: Arc<CrumbEntry>,
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
    /// Nodes reachable from `head` (including ones past the limits, before compaction).
    nodes: usize,
    /// Estimated bytes of every reachable node.
    bytes: usize,
}

impl CrumbList {
    /// Adds a crumb, compacting when the list holds twice the limits.
    pub(crate) fn push(&mut self, entry: CrumbEntry, max: usize, max_bytes: usize) {
        self.bytes += entry.size;
        self.nodes += 1;
        let prev = self.head.take();
        self.head = Some(Arc::new(Node {
            entry: Arc::new(entry),
            prev,
        }));
        if self.nodes > max.saturating_mul(2).max(8) || self.bytes > max_bytes.saturating_mul(2) {
            self.compact(max, max_bytes);
        }
    }

    /// Rebuilds the list with only the crumbs [`CrumbList::newest`] would return.
    fn compact(&mut self, max: usize, max_bytes: usize) {
        let kept = self.newest_entries(max, max_bytes);
        let mut head = None;
        let mut bytes = 0;
        for entry in kept.iter().rev() {
            bytes += entry.size;
            head = Some(Arc::new(Node {
                entry: Arc::clone(entry),
                prev: head,
            }));
        }
        self.nodes = kept.len();
        self.bytes = bytes;
        self.head = head;
    }

    /// The newest crumbs within the limits, newest first.
    fn newest_entries(&self, max: usize, max_bytes: usize) -> Vec<Arc<CrumbEntry>> {
        let mut out = Vec::with_capacity(self.nodes.min(max));
        let mut bytes = 0usize;
        let mut cur = self.head.as_ref();
        while let Some(node) = cur {
            if out.len() >= max || bytes + node.entry.size > max_bytes {
                break;
            }
            bytes += node.entry.size;
            out.push(Arc::clone(&node.entry));
            cur = node.prev.as_ref();
        }
        out
    }

    /// The crumbs an event carries, oldest first, with deferred processors applied.
    pub(crate) fn materialize(&self, max: usize, max_bytes: usize) -> Vec<Breadcrumb> {
        let mut entries = self.newest_entries(max, max_bytes);
        entries.reverse();
        entries
            .into_iter()
            .map(|e| {
                let mut crumb = e.crumb.clone();
                if let Some(p) = &e.processor {
                    p(&mut crumb);
                }
                crumb
            })
            .collect()
    }

    /// Forgets every crumb.
    pub(crate) fn clear(&mut self) {
        *self = CrumbList::default();
    }

    /// Whether the list holds no crumbs.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
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
        assert!(list.nodes <= 200, "compacted: {} nodes", list.nodes);
    }

    #[test]
    fn byte_cap_holds() {
        let mut list = CrumbList::default();
        let size = entry("0123456789").size;
        for _ in 0..50 {
            list.push(entry("0123456789"), 100, size * 10);
        }
        assert_eq!(list.materialize(100, size * 10).len(), 10);
        assert!(list.bytes <= size * 20);
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
    fn dropping_a_long_chain_does_not_overflow() {
        let mut list = CrumbList::default();
        for _ in 0..200_000 {
            list.push(entry("x"), usize::MAX / 4, usize::MAX / 4);
        }
        drop(list);
    }
}
