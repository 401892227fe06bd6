//! End-to-end tests of the devserver over real loopback HTTP. Each test starts its own server
//! on a free port (and its own temporary data directory where it needs one), so they run in
//! parallel without seeing each other.

mod api;
mod auth;
mod browser;
mod common;
mod faults;
mod ingest;
mod storage;
mod web;
