//! Reading a request body within the size limit and undoing its `Content-Encoding`.
//!
//! Limits apply before and after decompression (PROTOCOL.md §3.6). Decompression reads at most
//! one byte past the limit, so a zip bomb costs at most `limit` bytes of memory.

use std::io::Read;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use flate2::read::{MultiGzDecoder, ZlibDecoder};
use http::{HeaderMap, header};
use http_body_util::BodyExt;
use hyper::body::Body;
use tokio::time::Instant;

use crate::server::response::ApiError;

/// A supported `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Identity,
    Gzip,
    /// `deflate`, which HTTP defines as zlib-wrapped deflate.
    Deflate,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
        }
    }
}

/// Reads `Content-Encoding`: `gzip`, `x-gzip`, `deflate` or `identity` (or none). `br` and
/// `zstd` (which Relay accepts) and anything else are a 415.
pub(crate) fn content_encoding(headers: &HeaderMap) -> Result<Encoding, ApiError> {
    let unsupported = |what: &str| {
        ApiError::new(
            http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Content-Encoding {what} is not supported by the devserver: send the body \
                 uncompressed, gzip or deflate (zlib)"
            ),
        )
    };
    let mut found = Encoding::Identity;
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let value = value
            .to_str()
            .map_err(|_| unsupported("with non-ASCII bytes"))?;
        for token in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let enc = match token.to_ascii_lowercase().as_str() {
                "identity" => continue,
                "gzip" | "x-gzip" => Encoding::Gzip,
                "deflate" => Encoding::Deflate,
                "br" | "zstd" => {
                    return Err(unsupported(&format!(
                        "`{token}` (Relay accepts it, this devserver does not)"
                    )));
                }
                _ => return Err(unsupported(&format!("`{token}` (unknown)"))),
            };
            if found != Encoding::Identity {
                return Err(unsupported("with more than one encoding stacked"));
            }
            found = enc;
        }
    }
    Ok(found)
}

fn over_limit(what: &str, size: impl std::fmt::Display, limit: usize) -> ApiError {
    ApiError::too_large(format!(
        "the {what} is {size} bytes, over the devserver's limit of {limit} bytes \
         (Relay's default for a whole envelope is 200 MiB)"
    ))
}

/// Reads the whole body, refusing (413) one whose `Content-Length` or actual size is over
/// `limit`. A refused body is drained (bounded in time and bytes) before answering, so the
/// client reads the 413 instead of a connection reset.
pub(crate) async fn read_body<B>(
    mut body: B,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, ApiError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|&len| len > limit as u64) {
        drain(body).await;
        return Err(over_limit("body (Content-Length)", len, limit));
    }
    let initial = declared.map_or(8 * 1024, |l| l.min(1024 * 1024) as usize);
    let mut buf = BytesMut::with_capacity(initial);
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| ApiError::bad_request(format!("could not read the request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                let seen = buf.len() + data.len();
                drain(body).await;
                return Err(over_limit("body", format!("at least {seen}"), limit));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// Reads and discards what is left of a body: at most 256 MiB, for at most 3 s, stopping when
/// nothing arrives for 250 ms.
async fn drain<B>(mut body: B)
where
    B: Body<Data = Bytes> + Unpin,
{
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut left: usize = 256 * 1024 * 1024;
    loop {
        let idle = (Instant::now() + Duration::from_millis(250)).min(deadline);
        match tokio::time::timeout_at(idle, body.frame()).await {
            Ok(Some(Ok(frame))) => {
                let n = frame.data_ref().map_or(0, Bytes::len);
                left = left.saturating_sub(n);
                if left == 0 {
                    return;
                }
            }
            _ => return,
        }
    }
}

/// Undoes the encoding, refusing (413) output over `limit` and (400) corrupt input. Blocking:
/// call it off the async threads for big bodies.
pub(crate) fn decompress(encoding: Encoding, data: Bytes, limit: usize) -> Result<Bytes, ApiError> {
    let reader: Box<dyn Read + '_> = match encoding {
        Encoding::Identity => return Ok(data),
        Encoding::Gzip => Box::new(MultiGzDecoder::new(&data[..])),
        Encoding::Deflate => Box::new(ZlibDecoder::new(&data[..])),
    };
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).min(limit));
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            ApiError::bad_request(format!(
                "the body is not valid {} data: {e}",
                encoding.name()
            ))
        })?;
    if out.len() > limit {
        return Err(over_limit(
            &format!("body after {} decompression", encoding.name()),
            format!("more than {limit}"),
            limit,
        ));
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::{GzEncoder, ZlibEncoder};
    use http::HeaderValue;
    use std::io::Write;

    fn headers(enc: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_str(enc).unwrap(),
        );
        h
    }

    #[test]
    fn encodings() {
        assert_eq!(
            content_encoding(&HeaderMap::new()).unwrap(),
            Encoding::Identity
        );
        assert_eq!(content_encoding(&headers("GZIP")).unwrap(), Encoding::Gzip);
        assert_eq!(
            content_encoding(&headers("x-gzip")).unwrap(),
            Encoding::Gzip
        );
        assert_eq!(
            content_encoding(&headers("deflate")).unwrap(),
            Encoding::Deflate
        );
        assert_eq!(
            content_encoding(&headers("identity")).unwrap(),
            Encoding::Identity
        );
        assert_eq!(
            content_encoding(&headers("gzip, identity")).unwrap(),
            Encoding::Gzip
        );
        for bad in ["br", "zstd", "compress", "gzip, deflate"] {
            let err = content_encoding(&headers(bad)).unwrap_err();
            assert_eq!(err.status, 415, "{bad}");
        }
        assert!(
            content_encoding(&headers("br"))
                .unwrap_err()
                .detail
                .contains("`br`")
        );
    }

    #[test]
    fn decompresses_within_the_limit() {
        let mut gz = GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all(b"hello").unwrap();
        let gz = Bytes::from(gz.finish().unwrap());
        assert_eq!(
            &decompress(Encoding::Gzip, gz.clone(), 5).unwrap()[..],
            b"hello"
        );
        assert_eq!(decompress(Encoding::Gzip, gz, 4).unwrap_err().status, 413);

        let mut z = ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(b"hello").unwrap();
        let z = Bytes::from(z.finish().unwrap());
        assert_eq!(
            &decompress(Encoding::Deflate, z, 100).unwrap()[..],
            b"hello"
        );

        let err = decompress(Encoding::Gzip, Bytes::from_static(b"nope"), 100).unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.detail.contains("not valid gzip"), "{}", err.detail);
    }

    #[test]
    fn a_zip_bomb_stops_at_the_limit() {
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..16 {
            gz.write_all(&zeros).unwrap();
        }
        let bomb = Bytes::from(gz.finish().unwrap());
        assert!(bomb.len() < 64 * 1024);
        let err = decompress(Encoding::Gzip, bomb, 1024 * 1024).unwrap_err();
        assert_eq!(err.status, 413);
    }
}
