//! The envelope log: `envelopes.log` in the data directory, one record per accepted envelope.
//!
//! # Format
//!
//! Each record is one line of compact JSON (the record header), then exactly `len` raw
//! envelope bytes (after decompression), then one `\n`:
//!
//! ```text
//! {"received_at":"2026-03-01T12:00:01.000000Z","len":143}\n
//! <143 envelope bytes>\n
//! ```
//!
//! Why this shape: it is self-delimiting (the header says how many bytes follow, so payloads
//! may hold newlines and binary attachments), append-only (a write never touches earlier
//! records), readable with `less` and `grep` (envelopes are mostly JSON lines), and needs no
//! dependency beyond serde_json. Envelopes are stored as received, not re-serialized, so the
//! raw-envelope API returns the same bytes after a restart.
//!
//! # Crash safety and fsync policy
//!
//! A record is written with a single `write_all` on a file opened in append mode, but not
//! fsynced: it survives the process crashing (the bytes are in the OS page cache) but not a
//! power loss or kernel crash. The log is fsynced once on graceful shutdown. This is a
//! development tool; per-record fsync would make every test that sends envelopes pay for disk
//! flushes.
//!
//! On start the log is read back. A torn last record (a crash mid-write) or an unreadable
//! record header ends the load with a warning: the file is cut back to the last good record
//! so new records append cleanly, and the cut bytes are kept beside it in
//! `envelopes.log.skipped-<unix-seconds>`. A well-framed record whose envelope does not parse
//! is skipped with a warning and the load goes on.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use crumbtrail_protocol::Envelope;
use crumbtrail_protocol::timestamp::{format_rfc3339, parse_rfc3339};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::DevServerError;

/// The log's file name inside the data directory.
pub(crate) const LOG_FILE_NAME: &str = "envelopes.log";

#[derive(Serialize, Deserialize)]
struct RecordHeader {
    received_at: String,
    len: usize,
}

/// One envelope read back from the log.
pub(crate) struct Record {
    pub(crate) received_at: OffsetDateTime,
    pub(crate) raw: Bytes,
    pub(crate) envelope: Envelope,
}

/// The records of a log and what went wrong while reading them.
pub(crate) struct Loaded {
    pub(crate) records: Vec<Record>,
    /// Bytes from the start that hold complete records; anything after is torn or unreadable.
    pub(crate) good_len: usize,
    pub(crate) warnings: Vec<String>,
}

/// The open log, appended to under the server's lock.
#[derive(Debug)]
pub(crate) struct EnvelopeLog {
    file: File,
}

impl EnvelopeLog {
    /// Opens (creating if needed) the log in `dir` and reads back its records.
    pub(crate) fn open(dir: &Path) -> Result<(EnvelopeLog, Loaded), DevServerError> {
        let path = dir.join(LOG_FILE_NAME);
        let fail = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DevServerError::DataDir { path, source }
        };
        std::fs::create_dir_all(dir).map_err(fail(dir))?;
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(fail(&path)(e)),
        };
        let mut loaded = read_records(&data);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(fail(&path))?;
        if loaded.good_len < data.len() {
            let side = skipped_path(&path);
            std::fs::write(&side, &data[loaded.good_len..]).map_err(fail(&side))?;
            file.set_len(loaded.good_len as u64).map_err(fail(&path))?;
            loaded.warnings.push(format!(
                "cut {} unreadable bytes off the end of {}; they are kept in {}",
                data.len() - loaded.good_len,
                path.display(),
                side.display()
            ));
        }
        Ok((EnvelopeLog { file }, loaded))
    }

    /// Appends one record (not fsynced; see the module docs).
    pub(crate) fn append(&mut self, received_at: OffsetDateTime, raw: &[u8]) -> io::Result<()> {
        let header = RecordHeader {
            received_at: format_rfc3339(received_at),
            len: raw.len(),
        };
        let mut buf = serde_json::to_vec(&header)?;
        buf.reserve(raw.len() + 2);
        buf.push(b'\n');
        buf.extend_from_slice(raw);
        buf.push(b'\n');
        self.file.write_all(&buf)
    }

    /// Flushes the log to disk.
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}

fn skipped_path(path: &Path) -> PathBuf {
    let secs = OffsetDateTime::now_utc().unix_timestamp();
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".skipped-{secs}"));
    PathBuf::from(name)
}

/// Reads records until the end or the first torn/unreadable one.
pub(crate) fn read_records(data: &[u8]) -> Loaded {
    let mut loaded = Loaded {
        records: Vec::new(),
        good_len: 0,
        warnings: Vec::new(),
    };
    let mut pos = 0;
    let mut index = 0usize;
    while pos < data.len() {
        index += 1;
        let Some(nl) = data[pos..].iter().position(|&b| b == b'\n') else {
            loaded.warnings.push(format!(
                "record {index} at byte {pos}: torn header line (the server probably stopped mid-write); skipped"
            ));
            break;
        };
        let header: RecordHeader = match serde_json::from_slice(&data[pos..pos + nl]) {
            Ok(h) => h,
            Err(e) => {
                loaded.warnings.push(format!(
                    "record {index} at byte {pos}: unreadable record header ({e}); skipped it and everything after"
                ));
                break;
            }
        };
        let start = pos + nl + 1;
        let end = start.saturating_add(header.len);
        if end >= data.len() || data[end] != b'\n' {
            loaded.warnings.push(format!(
                "record {index} at byte {pos}: torn record (header says {} bytes, {} remain); skipped",
                header.len,
                data.len().saturating_sub(start)
            ));
            break;
        }
        pos = end + 1;
        loaded.good_len = pos;
        let raw = &data[start..end];
        let Some(received_at) = parse_rfc3339(&header.received_at) else {
            loaded.warnings.push(format!(
                "record {index}: bad received_at {:?}; skipped",
                header.received_at
            ));
            continue;
        };
        match Envelope::parse(raw) {
            Ok(envelope) => loaded.records.push(Record {
                received_at,
                raw: Bytes::copy_from_slice(raw),
                envelope,
            }),
            Err(e) => loaded
                .warnings
                .push(format!("record {index}: {e}; skipped")),
        }
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(raw: &[u8]) -> Vec<u8> {
        let mut out = format!(
            "{{\"received_at\":\"2026-03-01T12:00:00.000000Z\",\"len\":{}}}\n",
            raw.len()
        )
        .into_bytes();
        out.extend_from_slice(raw);
        out.push(b'\n');
        out
    }

    #[test]
    fn reads_binary_payloads_with_newlines() {
        let env = b"{}\n{\"type\":\"attachment\",\"length\":5}\na\nb\xff!\n";
        let mut data = record(env);
        data.extend(record(b"{}"));
        let loaded = read_records(&data);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.records.len(), 2);
        assert_eq!(&loaded.records[0].raw[..], env);
        assert_eq!(loaded.good_len, data.len());
    }

    #[test]
    fn stops_at_a_torn_tail() {
        let mut data = record(b"{}");
        let good = data.len();
        let torn = record(b"{}\n{\"type\":\"x\"}\n12345");
        data.extend_from_slice(&torn[..torn.len() - 4]);
        let loaded = read_records(&data);
        assert_eq!(loaded.records.len(), 1);
        assert_eq!(loaded.good_len, good);
        assert!(
            loaded.warnings[0].contains("torn record"),
            "{:?}",
            loaded.warnings
        );

        let mut data = record(b"{}");
        data.extend_from_slice(b"{\"received_at\":");
        let loaded = read_records(&data);
        assert_eq!((loaded.records.len(), loaded.good_len), (1, good));
        assert!(loaded.warnings[0].contains("torn header"));
    }

    #[test]
    fn skips_a_bad_envelope_but_goes_on() {
        let mut data = record(b"not json");
        data.extend(record(b"{}"));
        let loaded = read_records(&data);
        assert_eq!(loaded.records.len(), 1);
        assert_eq!(loaded.good_len, data.len());
        assert!(loaded.warnings[0].contains("malformed envelope"));
    }

    #[test]
    fn garbage_header_and_huge_len_do_not_panic() {
        for data in [
            &b"garbage\n"[..],
            b"{\"received_at\":\"x\",\"len\":18446744073709551615}\nabc\n",
            b"\n",
        ] {
            let loaded = read_records(data);
            assert!(loaded.records.is_empty());
            assert_eq!(loaded.good_len, 0);
            assert_eq!(loaded.warnings.len(), 1);
        }
    }
}
