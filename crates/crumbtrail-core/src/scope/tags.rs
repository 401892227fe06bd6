//! A scope's tags: a small map whose first few entries live inline, so a scope that sets a
//! tag or two (the common case: `with_scope(|s| s.set_tag(..), ..)`) allocates the map once
//! — one allocation, together with its `Arc` — instead of an `Arc`, a tree node and more.

use std::borrow::Cow;

/// How many tags fit without a second allocation.
const INLINE: usize = 2;

type Entry = (Cow<'static, str>, String);

/// Tags in insertion order (keys are unique).
#[derive(Debug, Clone, Default)]
pub(crate) struct TagMap {
    inline: [Entry; INLINE],
    len: usize,
    spill: Vec<Entry>,
}

impl TagMap {
    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.inline[..self.len].iter().chain(&self.spill)
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries().position(|(k, _)| k == key)
    }

    fn entry_mut(&mut self, index: usize) -> &mut Entry {
        match index.checked_sub(INLINE) {
            None => &mut self.inline[index],
            Some(i) => &mut self.spill[i],
        }
    }

    /// Sets `key` to `value`, replacing an existing value.
    pub(crate) fn insert(&mut self, key: Cow<'static, str>, value: String) {
        match self.position(&key) {
            Some(i) => self.entry_mut(i).1 = value,
            None if self.len < INLINE => {
                self.inline[self.len] = (key, value);
                self.len += 1;
            }
            None => self.spill.push((key, value)),
        }
    }

    /// Removes `key`, if present.
    pub(crate) fn remove(&mut self, key: &str) {
        let Some(i) = self.position(key) else {
            return;
        };
        if i >= INLINE {
            self.spill.remove(i - INLINE);
            return;
        }
        // Close the gap in the inline part, then refill it from the spill.
        self.inline[i..self.len].rotate_left(1);
        self.len -= 1;
        self.inline[self.len] = Entry::default();
        if !self.spill.is_empty() {
            self.inline[self.len] = self.spill.remove(0);
            self.len += 1;
        }
    }

    /// A tag's value.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.entries()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every tag, in insertion order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries().map(|(k, v)| (k.as_ref(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_map_across_the_inline_boundary() {
        let mut tags = TagMap::default();
        for i in 0..7 {
            tags.insert(format!("k{i}").into(), i.to_string());
        }
        tags.insert("k1".into(), "one".into());
        tags.insert("k5".into(), "five".into());
        assert_eq!(
            (tags.get("k1"), tags.get("k5"), tags.get("k9")),
            (Some("one"), Some("five"), None)
        );
        tags.remove("k0");
        tags.remove("k6");
        tags.remove("nope");
        let keys: Vec<&str> = tags.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["k1", "k2", "k3", "k4", "k5"]);
        for key in ["k1", "k2", "k3", "k4", "k5"] {
            tags.remove(key);
        }
        assert_eq!(tags.iter().count(), 0);
        tags.insert("again".into(), "x".into());
        assert_eq!(tags.get("again"), Some("x"));
    }
}
