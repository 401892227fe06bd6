//! Size limits of the protocol (PROTOCOL.md §3.6) and crumbtrail's defaults.
//!
//! The server trims over-long fields and rejects over-large items; crumbtrail trims on its side
//! first (and annotates `_meta`) so nothing is rejected. These constants are the numbers both
//! sides use.

/// Largest whole envelope after decompression (Relay default; older Relays: 100 MiB).
pub const MAX_ENVELOPE_BYTES: usize = 200 * 1024 * 1024;
/// Largest single `event`, `transaction` or `feedback` item.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// Largest single attachment.
pub const MAX_ATTACHMENT_BYTES: usize = 200 * 1024 * 1024;
/// Most attachment items in one envelope.
pub const MAX_ATTACHMENTS_PER_ENVELOPE: usize = 30;
/// Largest `check_in` item.
pub const MAX_CHECK_IN_BYTES: usize = 100 * 1024;
/// Largest client report crumbtrail writes (the protocol docs' 4 KiB, stricter than Relay).
pub const MAX_CLIENT_REPORT_BYTES: usize = 4 * 1024;
/// Most `session` items in one envelope.
pub const MAX_SESSIONS_PER_ENVELOPE: usize = 100;
/// Most aggregate buckets in one `sessions` item.
pub const MAX_SESSION_AGGREGATES: usize = 100;
/// Largest single log record.
pub const MAX_LOG_RECORD_BYTES: usize = 2 * 1024 * 1024;
/// Largest container item (`log`, `span`, `trace_metric`).
pub const MAX_CONTAINER_BYTES: usize = 12 * 1024 * 1024;
/// Most log records in one `log` item.
pub const MAX_LOGS_PER_ITEM: usize = 100;

/// Longest tag key, in characters.
pub const MAX_TAG_KEY_CHARS: usize = 200;
/// Longest tag value, in characters.
pub const MAX_TAG_VALUE_CHARS: usize = 200;
/// Longest `message` / `logentry.formatted`, in characters.
pub const MAX_MESSAGE_CHARS: usize = 8192;
/// Longest feedback message, in characters.
pub const MAX_FEEDBACK_MESSAGE_CHARS: usize = 4096;
/// Largest single `contexts` object, in serialized bytes (approximate server limit).
pub const MAX_CONTEXT_BYTES: usize = 8 * 1024;
/// Largest single `extra` entry, in serialized bytes.
pub const MAX_EXTRA_ENTRY_BYTES: usize = 16 * 1024;
/// Largest `extra` as a whole, in serialized bytes.
pub const MAX_EXTRA_BYTES: usize = 256 * 1024;
/// Largest `request.data` body, in serialized bytes (trim client-side first).
pub const MAX_REQUEST_BODY_BYTES: usize = 8 * 1024;
/// Frames the server keeps per stack trace (cut from the middle).
pub const MAX_FRAMES_KEPT_BY_SERVER: usize = 50;

/// Default `max_breadcrumbs` (ring buffer size).
pub const DEFAULT_MAX_BREADCRUMBS: usize = 100;
/// crumbtrail's ceiling for user-supplied `max_breadcrumbs` (no server maximum exists; an event
/// must still fit in [`MAX_EVENT_BYTES`]).
pub const MAX_BREADCRUMBS_CEILING: usize = 1000;
/// Default spans per transaction; more are dropped as `buffer_overflow`.
pub const DEFAULT_MAX_SPANS: usize = 1000;
/// Default frames captured per stack.
pub const DEFAULT_MAX_FRAMES: usize = 100;
/// Default depth of databags (`extra`, `contexts`, frame `vars`).
pub const DEFAULT_DATABAG_DEPTH: usize = 5;
/// Default breadth (entries per level) of databags.
pub const DEFAULT_DATABAG_BREADTH: usize = 10;
