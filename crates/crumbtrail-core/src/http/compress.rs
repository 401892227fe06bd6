//! Request body compression (PROTOCOL.md §2.3): gzip, skipped where it cannot pay off.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

/// Bodies shorter than this are sent as they are: gzip's own framing (about 20 bytes) eats
/// most of what it could save on them, and the smallest envelopes (a lone client report or
/// session update, ~200 bytes) barely shrink.
pub(crate) const MIN_GZIP_BYTES: usize = 256;

/// The gzip level: 6 (zlib's default) compresses JSON envelopes nearly as well as 9 at a
/// fraction of the CPU time.
const GZIP_LEVEL: u32 = 6;

/// A request body, ready to send.
#[derive(Debug)]
pub(crate) struct Body {
    /// The bytes to send.
    pub(crate) bytes: Vec<u8>,
    /// Whether `bytes` are gzip (`Content-Encoding: gzip`) or the envelope as is.
    pub(crate) gzip: bool,
}

/// Gzips `raw` unless it is shorter than [`MIN_GZIP_BYTES`] or would not get smaller; never
/// fails (a compression error sends the body uncompressed).
pub(crate) fn encode(raw: Vec<u8>) -> Body {
    if raw.len() < MIN_GZIP_BYTES {
        return Body {
            bytes: raw,
            gzip: false,
        };
    }
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(raw.len() / 3 + 64),
        Compression::new(GZIP_LEVEL),
    );
    match encoder.write_all(&raw).and_then(|()| encoder.finish()) {
        Ok(gz) if gz.len() < raw.len() => Body {
            bytes: gz,
            gzip: true,
        },
        _ => Body {
            bytes: raw,
            gzip: false,
        },
    }
}
