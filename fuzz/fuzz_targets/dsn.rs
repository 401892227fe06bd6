//! DSN parsing: never panics; a DSN that parses re-serializes to a string that parses back to
//! an equal DSN (which serializes identically), and no error message shows a secret key.
#![no_main]

use crumbtrail_protocol::Dsn;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = Dsn::parse_optional(s);
    match s.parse::<Dsn>() {
        Ok(dsn) => {
            let text = dsn.to_string();
            let again: Dsn = text
                .parse()
                .unwrap_or_else(|e| panic!("{text:?} (from {s:?}) does not parse back: {e}"));
            assert_eq!(again, dsn, "{s:?} -> {text:?}");
            assert_eq!(again.to_string(), text);
            assert!(dsn.envelope_url().starts_with(&dsn.base_url()));
            if let Some(secret) = dsn.secret_key() {
                assert!(!format!("{dsn:?}").contains(&format!("\"{secret}\"")));
            }
        }
        Err(e) => {
            // The password the URL parser found must not appear in the message (checked when
            // that text occurs only once, so it cannot also be part of the host or path).
            if let Some(url) = url::Url::parse(s).ok().filter(|u| u.password().is_some()) {
                let secret = url.password().unwrap_or_default();
                let once = |t: &str| t.matches(secret).count() == 1;
                if secret.len() >= 3 && once(s) && once(url.as_str()) {
                    let msg = e.to_string();
                    assert!(!msg.contains(secret), "{msg}");
                }
            }
        }
    }
});
