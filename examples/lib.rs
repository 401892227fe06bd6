//! Runnable crumbtrail examples live beside this file; run them with `cargo run -p crumbtrail-examples --example NAME`.
//!
//! The examples that are also tested keep their code here, so that the example binary and its
//! test run the same thing in-process.
#![forbid(unsafe_code)]

#[path = "src/axum_service.rs"]
pub mod axum_service;

#[path = "src/overhead_app.rs"]
pub mod overhead_app;
