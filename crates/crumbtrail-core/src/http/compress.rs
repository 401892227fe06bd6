//! Request body compression (PROTOCOL.md §2.3): gzip, skipped where it cannot pay off.

use std::cell::RefCell;

use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Bodies shorter than this are sent as they are: gzip's own framing (about 20 bytes) eats
/// most of what it could save on them, and the smallest envelopes (a lone client report or
/// session update, ~200 bytes) barely shrink.
pub(crate) const MIN_GZIP_BYTES: usize = 256;

/// The gzip level: 1, the fastest. On event envelopes (JSON with repeated keys) it keeps most
/// of the saving of 6, zlib's default, at about half the CPU time, and compression is the
/// sender's largest cost per event (see the sender bench).
const GZIP_LEVEL: u32 = 1;

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
    match gzip(&raw) {
        Some(gz) if gz.len() < raw.len() => Body {
            bytes: gz,
            gzip: true,
        },
        _ => Body {
            bytes: raw,
            gzip: false,
        },
    }
}

thread_local! {
    /// The deflate state, kept per thread and reset between bodies: it is a few hundred KiB,
    /// and allocating (and zeroing) it per envelope was the sender's largest cost.
    static DEFLATE: RefCell<Option<Compress>> = const { RefCell::new(None) };
}

/// `raw` as one gzip member (RFC 1952): a fixed 10-byte header, the raw deflate stream, then
/// the CRC-32 and length of the input.
fn gzip(raw: &[u8]) -> Option<Vec<u8>> {
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]; // deflate, no name/time, OS unknown
    let mut out = Vec::with_capacity(raw.len() / 3 + 64);
    out.extend_from_slice(&HEADER);
    let finished = DEFLATE.with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        let deflate =
            slot.get_or_insert_with(|| Compress::new(Compression::new(GZIP_LEVEL), false));
        deflate.reset();
        loop {
            let consumed = usize::try_from(deflate.total_in()).ok()?;
            out.reserve(raw.len() / 4 + 64);
            match deflate.compress_vec(&raw[consumed..], &mut out, FlushCompress::Finish) {
                Ok(Status::StreamEnd) => return Some(()),
                Ok(Status::Ok | Status::BufError) => {}
                Err(_) => return None,
            }
        }
    });
    finished?;
    let mut crc = Crc::new();
    crc.update(raw);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(raw.len() as u32).to_le_bytes()); // ISIZE: the length mod 2^32
    Some(out)
}
