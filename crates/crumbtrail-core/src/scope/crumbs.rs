//! The breadcrumb trail of a scope: a persistent (immutable, shared) list, so that forking a
//! scope or snapshotting it for a capture copies one pointer, never the crumbs.
//!
//! New crumbs go into the head chunk, in place while no fork or snapshot shares it. The list
//! keeps at most `max` crumbs and `max_bytes` (estimated) bytes *when read*; whenever it starts
//! a chunk it cuts off older chunks past the limits where no clone shares them, so memory stays
//! bounded without copying.

use std::sync::Arc;
use std::time::SystemTime;

use crumbtrail_protocol::Breadcrumb;
use smallvec::SmallVec;

/// A processor that runs on a crumb only when an event actually carries it.
pub type CrumbProcessor = Arc<dyn ProcessCrumb>;

/// What a crumb processor does: any `Fn(&mut Breadcrumb)` closure is one. An integration that
/// already keeps the crumb's data behind an `Arc` can implement it on that data and record the
/// crumb with [`add_breadcrumb_with_shared_processor`](crate::add_breadcrumb_with_shared_processor),
/// saving an allocation.
pub trait ProcessCrumb: Send + Sync + 'static {
    /// Completes the crumb (its data, say) when an event carries it.
    fn process(&self, crumb: &mut Breadcrumb);
}

impl<F: Fn(&mut Breadcrumb) + Send + Sync + 'static> ProcessCrumb for F {
    fn process(&self, crumb: &mut Breadcrumb) {
        self(crumb)
    }
}

/// One recorded crumb with its estimated size and its optional deferred processor.
#[derive(Clone)]
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
            p.process(&mut crumb);
        }
        crumb
    }
}

/// A run of crumbs recorded by one list, oldest first, linked to the older runs it shares.
/// The smallest chunks hold their crumbs inline: the first crumb a request or a task records
/// costs one allocation, not two.
struct Chunk {
    entries: SmallVec<[CrumbEntry; MIN_CHUNK]>,
    /// The sum of the entries' estimated sizes.
    bytes: usize,
    prev: Option<Arc<Chunk>>,
}

impl Drop for Chunk {
    // Unlink iteratively so dropping a long chain cannot overflow the stack.
    fn drop(&mut self) {
        let mut next = self.prev.take();
        while let Some(chunk) = next {
            match Arc::try_unwrap(chunk) {
                Ok(mut c) => next = c.prev.take(),
                Err(_) => break,
            }
        }
    }
}

/// The smallest and largest number of crumbs a chunk holds. A list that has just been forked
/// (or snapshotted) starts a small chunk, so a task that records one crumb allocates little;
/// a list that keeps recording doubles its chunks up to the largest.
const MIN_CHUNK: usize = 4;
const MAX_CHUNK: usize = 32;

/// A trail of breadcrumbs, newest at the head.
///
/// A chain of chunks shared behind `Arc`s: cloning the list (a fork, a snapshot for a capture)
/// copies one pointer. A push writes into the head chunk in place while no clone shares it;
/// otherwise (and when it is full) it starts a new chunk on top. So a push allocates about
/// once per [`MAX_CHUNK`] crumbs, and evicting the oldest crumbs drops whole chunks.
#[derive(Clone, Default)]
pub(crate) struct CrumbList {
    head: Option<Arc<Chunk>>,
    /// How many crumbs are reachable from `head` (an upper bound).
    len: usize,
}

impl CrumbList {
    /// Adds a crumb. When it starts a new chunk, it cuts off the chunks that are past the
    /// limits, so memory stays within `max` crumbs plus one chunk (plus what clones share).
    ///
    /// (Freeing the cut crumbs on the sender thread instead was measured: glibc's allocator
    /// makes cross-thread frees cost the caller more than freeing here.)
    #[inline]
    pub(crate) fn push(&mut self, entry: CrumbEntry, max: usize, max_bytes: usize) {
        if let Some(head) = self.head.as_mut().and_then(Arc::get_mut) {
            if head.entries.len() < head.entries.capacity() {
                self.len += 1;
                head.bytes += entry.size;
                head.entries.push(entry);
                return;
            }
        }
        self.push_chunk(entry, max, max_bytes);
    }

    /// Starts a new head chunk with `entry` in it.
    #[cold]
    fn push_chunk(&mut self, entry: CrumbEntry, max: usize, max_bytes: usize) {
        let capacity = match self.head.as_mut().and_then(Arc::get_mut) {
            // Ours and full: grow.
            Some(full) => (full.entries.capacity() * 2).clamp(MIN_CHUNK, MAX_CHUNK),
            // Shared with a clone, or no chunk yet: start small.
            None => MIN_CHUNK,
        };
        // Made empty and filled in place: a chunk is large (its first crumbs are inline).
        let mut chunk = Arc::new(Chunk {
            entries: SmallVec::new(),
            bytes: entry.size,
            prev: self.head.take(),
        });
        if let Some(chunk) = Arc::get_mut(&mut chunk) {
            chunk.entries.reserve_exact(capacity.min(max.max(1)));
            chunk.entries.push(entry);
        }
        self.head = Some(chunk);
        self.len += 1;
        self.trim(max, max_bytes);
    }

    /// Cuts off the chunks [`CrumbList::materialize`] would not read, as far as no other list
    /// shares the chunks in between. When a shared chunk is in the way (a snapshot taken for a
    /// capture after every crumb keeps one there) and the chain has grown past twice the
    /// limit, the list copies the crumbs it still needs into a chunk of its own and lets go of
    /// the shared chain, so memory stays bounded however often the list is snapshotted.
    fn trim(&mut self, max: usize, max_bytes: usize) {
        let (mut count, mut bytes) = (0usize, 0usize);
        let mut link = &mut self.head;
        let mut blocked = false;
        while let Some(arc) = link.as_mut() {
            let Some(chunk) = Arc::get_mut(arc) else {
                blocked = true;
                break;
            };
            count += chunk.entries.len();
            bytes = bytes.saturating_add(chunk.bytes);
            if count >= max || bytes >= max_bytes {
                // Every older crumb is past a limit: the read stops before reaching it.
                chunk.prev = None;
                self.len = count;
                return;
            }
            link = &mut chunk.prev;
        }
        if blocked && self.len > max.saturating_mul(2).saturating_add(MAX_CHUNK) {
            self.rebuild(max, max_bytes);
        }
    }

    /// Replaces the chain with one unshared chunk holding the crumbs a read would return.
    #[cold]
    fn rebuild(&mut self, max: usize, max_bytes: usize) {
        let mut entries: SmallVec<[CrumbEntry; MIN_CHUNK]> =
            self.newest(max, max_bytes).cloned().collect();
        entries.reverse();
        let bytes = entries.iter().map(|e| e.size).sum();
        self.len = entries.len();
        self.head = Some(Arc::new(Chunk {
            entries,
            bytes,
            prev: None,
        }));
    }

    /// The entries a read returns, newest first.
    fn newest(&self, max: usize, max_bytes: usize) -> impl Iterator<Item = &CrumbEntry> {
        let mut bytes = 0usize;
        std::iter::successors(self.head.as_deref(), |c| c.prev.as_deref())
            .flat_map(|chunk| chunk.entries.iter().rev())
            .take(max)
            .take_while(move |entry| {
                bytes = bytes.saturating_add(entry.size);
                bytes <= max_bytes
            })
    }

    /// The crumbs an event carries, oldest first, with deferred processors applied.
    pub(crate) fn materialize(&self, max: usize, max_bytes: usize) -> Vec<Breadcrumb> {
        let mut kept: Vec<&CrumbEntry> = Vec::with_capacity(max.min(128));
        kept.extend(self.newest(max, max_bytes));
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

    /// How many crumbs are reachable (for tests of the memory bound).
    #[cfg(test)]
    fn reachable(&self) -> usize {
        let mut n = 0;
        let mut cur = self.head.as_deref();
        while let Some(chunk) = cur {
            n += chunk.entries.len();
            cur = chunk.prev.as_deref();
        }
        n
    }
}

/// A rough estimate of a crumb's serialized size, cheap enough for the hot path.
pub(crate) fn estimate_size(crumb: &Breadcrumb) -> usize {
    const FIXED: usize = 64; // braces, keys, level, timestamp
    FIXED
        + crumb.ty.len()
        + crumb.category.as_ref().map_or(0, |s| s.len())
        + crumb.message.as_ref().map_or(0, |s| s.len())
        + crumb.origin.as_ref().map_or(0, |s| s.len())
        + if crumb.data.is_empty() {
            0
        } else {
            crumb
                .data
                .iter()
                .map(|(k, v)| k.len() + 4 + value_size(v))
                .sum::<usize>()
        }
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
        let crumb = Breadcrumb::new().with_message(msg.to_owned());
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
            .map(|c| c.message.unwrap().into_owned())
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
                c.message = Some(format!("processed {}", c.message.as_deref().unwrap()).into());
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
    fn memory_stays_bounded_when_every_push_follows_a_snapshot() {
        // A capture after every crumb: each push finds its head chunk shared and starts a
        // new one; trimming must still cut the tail once the snapshots are gone.
        let mut list = CrumbList::default();
        let mut snapshot = None;
        for i in 0..1_000 {
            list.push(entry(&i.to_string()), 20, usize::MAX);
            snapshot = Some(list.clone());
        }
        drop(snapshot);
        list.push(entry("last"), 20, usize::MAX);
        assert!(
            list.reachable() <= 2 * 20 + MAX_CHUNK + 1,
            "{} crumbs",
            list.reachable()
        );
        assert_eq!(messages(&list, 20, usize::MAX).last().unwrap(), "last");
        assert_eq!(messages(&list, 20, usize::MAX)[0], "981");
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
