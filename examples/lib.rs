//! Runnable crumbtrail examples live beside this file; run them with `cargo run -p crumbtrail-examples --example NAME`.
#![forbid(unsafe_code)]
