//! A header value written in place: the propagation headers are written for every outgoing
//! request, and an HTTP client may copy a request's headers (reqwest keeps a copy to follow
//! redirects).

use std::fmt;

/// A header value of up to `N` bytes written on the stack, spilling to the heap past that.
///
/// Handed to `bytes::Bytes::from_owner`, it makes a header value in one allocation that clones
/// by reference count. A `String` costs two: its own and, on the first clone, the shared
/// header `Bytes` promotes it to.
///
/// ```
/// use std::fmt::Write;
/// use crumbtrail_protocol::HeaderBytes;
/// let mut value = HeaderBytes::<8>::new();
/// value.push_str("sentry");
/// assert_eq!(value.as_str(), "sentry");
/// write!(value, "-trace").unwrap(); // past 8 bytes: on the heap, nothing lost
/// assert_eq!(value.as_str(), "sentry-trace");
/// ```
#[derive(Clone)]
pub struct HeaderBytes<const N: usize>(Repr<N>);

#[derive(Clone)]
enum Repr<const N: usize> {
    Inline { len: usize, buf: [u8; N] },
    Heap(String),
}

impl<const N: usize> HeaderBytes<N> {
    /// An empty value.
    pub const fn new() -> Self {
        HeaderBytes(Repr::Inline {
            len: 0,
            buf: [0; N],
        })
    }

    /// Appends `s`.
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        if let Repr::Inline { len, buf } = &mut self.0 {
            if let Some(dst) = buf.get_mut(*len..*len + s.len()) {
                dst.copy_from_slice(s.as_bytes());
                *len += s.len();
                return;
            }
        }
        self.spill(s);
    }

    /// Appends ASCII bytes (hex digits, say) without a UTF-8 check; anything else is
    /// appended as `String::from_utf8_lossy` has it.
    ///
    /// ```
    /// use crumbtrail_protocol::HeaderBytes;
    /// let mut value = HeaderBytes::<8>::new();
    /// value.push_ascii(b"00ff");
    /// value.push_ascii(b"\xff");
    /// assert_eq!(value.as_str(), "00ff\u{fffd}");
    /// ```
    #[inline]
    pub fn push_ascii(&mut self, bytes: &[u8]) {
        if !bytes.is_ascii() {
            return self.push_str(&String::from_utf8_lossy(bytes));
        }
        if let Repr::Inline { len, buf } = &mut self.0 {
            if let Some(dst) = buf.get_mut(*len..*len + bytes.len()) {
                // ASCII is UTF-8: the value stays text.
                dst.copy_from_slice(bytes);
                *len += bytes.len();
                return;
            }
        }
        self.spill(std::str::from_utf8(bytes).unwrap_or_default());
    }

    #[cold]
    fn spill(&mut self, s: &str) {
        match &mut self.0 {
            Repr::Inline { len, buf } => {
                let mut heap = String::with_capacity(*len + s.len());
                heap.push_str(Self::text(&buf[..*len]));
                heap.push_str(s);
                self.0 = Repr::Heap(heap);
            }
            Repr::Heap(heap) => heap.push_str(s),
        }
    }

    /// The value written so far.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, buf } => Self::text(&buf[..*len]),
            Repr::Heap(heap) => heap,
        }
    }

    /// How many bytes were written.
    pub fn len(&self) -> usize {
        self.as_ref().len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.as_str().is_empty()
    }

    /// The value as a `String`.
    pub fn into_string(self) -> String {
        match self.0 {
            Repr::Inline { len, buf } => Self::text(&buf[..len]).to_owned(),
            Repr::Heap(heap) => heap,
        }
    }

    /// Only whole `&str`s are ever copied in, so the bytes are UTF-8.
    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl<const N: usize> Default for HeaderBytes<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> From<String> for HeaderBytes<N> {
    fn from(s: String) -> Self {
        HeaderBytes(Repr::Heap(s))
    }
}

impl<const N: usize> AsRef<[u8]> for HeaderBytes<N> {
    fn as_ref(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..*len],
            Repr::Heap(heap) => heap.as_bytes(),
        }
    }
}

impl<const N: usize> fmt::Write for HeaderBytes<N> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

impl<const N: usize> fmt::Debug for HeaderBytes<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> PartialEq for HeaderBytes<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<const N: usize> Eq for HeaderBytes<N> {}

impl<const N: usize> PartialEq<str> for HeaderBytes<N> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_the_inline_buffer_exactly_then_spills_without_losing_a_byte() {
        let mut v = HeaderBytes::<4>::new();
        v.push_str("ab");
        v.push_str("cd");
        assert!(matches!(v.0, Repr::Inline { len: 4, .. }));
        assert_eq!(v.as_str(), "abcd");
        v.push_str("é");
        assert!(matches!(v.0, Repr::Heap(_)));
        assert_eq!(v.as_str(), "abcdé");
        assert_eq!(v.clone().into_string(), "abcdé");
        assert_eq!(v.as_ref(), "abcdé".as_bytes());
    }

    #[test]
    fn from_a_string_and_empty() {
        assert!(HeaderBytes::<4>::new().is_empty());
        let v = HeaderBytes::<4>::from("a longer value".to_owned());
        assert_eq!(&v, "a longer value");
        assert_eq!(format!("{v:?}"), "\"a longer value\"");
    }
}
