//! The web view in a real headless browser: Chromium loads the event page, and the DOM it
//! builds holds the breadcrumb timeline. Runs when Chromium is installed (`.ci/run` installs
//! Debian's `chromium`); elsewhere it says it was skipped.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use crate::common::*;

/// The Chromium binary: `$CHROMIUM`, else the usual Debian and Chrome paths.
fn chromium() -> Option<PathBuf> {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            [
                "/usr/bin/chromium",
                "/usr/bin/chromium-browser",
                "/usr/bin/google-chrome",
            ]
            .map(PathBuf::from),
        )
        .find(|p| p.is_file())
}

#[tokio::test]
async fn chromium_finds_the_breadcrumb_timeline_in_the_dom() {
    let Some(chromium) = chromium() else {
        eprintln!("skipped: Chromium is not installed (apt-get install chromium)");
        return;
    };
    let server = start().await;
    let event = sample_event("checkout failed");
    let crumbs = event.breadcrumbs.as_ref().unwrap().values.len();
    assert_eq!(
        post_envelope(&server, event_envelope(&event)).await.status,
        200
    );

    let profile = std::env::temp_dir().join(format!(
        "crumbtrail-chromium-{}-{}",
        std::process::id(),
        server.addr().port()
    ));
    let url = format!("{}/events/{}", server.url(), event.event_id);
    let run = tokio::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("Chromium answers within 60 s")
        .expect("Chromium starts");
    let _ = std::fs::remove_dir_all(&profile);
    let dom = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "chromium failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    // The serialized DOM (after parsing), not the raw response: the browser built the list.
    assert!(dom.contains("<ol id=\"breadcrumbs\">"), "{dom}");
    assert_eq!(dom.matches("<li class=\"crumb").count(), crumbs, "{dom}");
    assert!(dom.contains("checkout failed"), "{dom}");
    server.shutdown().await;
}
