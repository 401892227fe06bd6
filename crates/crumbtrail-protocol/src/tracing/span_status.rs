//! The status of a span or transaction (PROTOCOL.md §9.2).

use std::str::FromStr;

macro_rules! statuses {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// The outcome of a span, as the protocol names it.
        ///
        /// ```
        /// use crumbtrail_protocol::SpanStatus;
        /// assert_eq!(SpanStatus::from_http_status(404), SpanStatus::NotFound);
        /// assert_eq!(SpanStatus::NotFound.to_string(), "not_found");
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum SpanStatus {
            $($(#[$doc])* $variant,)*
        }

        impl SpanStatus {
            /// The wire name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(SpanStatus::$variant => $name,)*
                }
            }
        }

        impl FromStr for SpanStatus {
            type Err = UnknownSpanStatus;

            /// Parses a wire name; `unknown_error` is read as [`SpanStatus::Unknown`].
            fn from_str(s: &str) -> Result<Self, UnknownSpanStatus> {
                match s {
                    $($name => Ok(SpanStatus::$variant),)*
                    "unknown_error" => Ok(SpanStatus::Unknown),
                    other => Err(UnknownSpanStatus(other.to_owned())),
                }
            }
        }
    };
}

statuses! {
    /// The operation completed successfully.
    Ok => "ok",
    /// The operation was cancelled, typically by the caller.
    Cancelled => "cancelled",
    /// An unknown error.
    Unknown => "unknown",
    /// The client sent an invalid argument (HTTP 4xx).
    InvalidArgument => "invalid_argument",
    /// A deadline expired before the operation could complete (HTTP 504).
    DeadlineExceeded => "deadline_exceeded",
    /// Something was not found (HTTP 404).
    NotFound => "not_found",
    /// Something already exists (HTTP 409).
    AlreadyExists => "already_exists",
    /// The caller may not do this (HTTP 403).
    PermissionDenied => "permission_denied",
    /// A resource was exhausted, e.g. a rate limit (HTTP 429).
    ResourceExhausted => "resource_exhausted",
    /// The system is not in a state to do this (HTTP 413).
    FailedPrecondition => "failed_precondition",
    /// The operation was aborted.
    Aborted => "aborted",
    /// The operation was attempted past a valid range.
    OutOfRange => "out_of_range",
    /// Not implemented (HTTP 501).
    Unimplemented => "unimplemented",
    /// An internal error (HTTP 5xx).
    InternalError => "internal_error",
    /// The service is unavailable (HTTP 503).
    Unavailable => "unavailable",
    /// Unrecoverable data loss.
    DataLoss => "data_loss",
    /// The caller is not authenticated (HTTP 401).
    Unauthenticated => "unauthenticated",
}

/// A span status name the protocol does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown span status {0:?}")]
pub struct UnknownSpanStatus(pub String);

impl SpanStatus {
    /// The status for an HTTP response code, per the protocol's mapping.
    pub const fn from_http_status(code: u16) -> SpanStatus {
        match code {
            0..=399 => SpanStatus::Ok,
            401 => SpanStatus::Unauthenticated,
            403 => SpanStatus::PermissionDenied,
            404 => SpanStatus::NotFound,
            409 => SpanStatus::AlreadyExists,
            413 => SpanStatus::FailedPrecondition,
            429 => SpanStatus::ResourceExhausted,
            400..=499 => SpanStatus::InvalidArgument,
            501 => SpanStatus::Unimplemented,
            503 => SpanStatus::Unavailable,
            504 => SpanStatus::DeadlineExceeded,
            _ => SpanStatus::InternalError,
        }
    }
}

serde_via_str!(SpanStatus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_mapping_follows_the_protocol() {
        let cases = [
            (200, "ok"),
            (302, "ok"),
            (400, "invalid_argument"),
            (401, "unauthenticated"),
            (403, "permission_denied"),
            (404, "not_found"),
            (409, "already_exists"),
            (413, "failed_precondition"),
            (418, "invalid_argument"),
            (429, "resource_exhausted"),
            (500, "internal_error"),
            (501, "unimplemented"),
            (502, "internal_error"),
            (503, "unavailable"),
            (504, "deadline_exceeded"),
        ];
        for (code, want) in cases {
            assert_eq!(SpanStatus::from_http_status(code).as_str(), want, "{code}");
        }
    }

    #[test]
    fn reads_unknown_error_alias() {
        let s: SpanStatus = serde_json::from_str("\"unknown_error\"").unwrap();
        assert_eq!(s, SpanStatus::Unknown);
        assert!(serde_json::from_str::<SpanStatus>("\"bogus\"").is_err());
    }
}
