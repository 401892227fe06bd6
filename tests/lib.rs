//! End-to-end and conformance tests for crumbtrail live in `tests/`; this library is empty.
#![forbid(unsafe_code)]
