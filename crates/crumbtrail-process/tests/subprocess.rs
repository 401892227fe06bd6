//! Real subprocesses (`sh`, `true`, `echo`, `env`), each test with a client of its own.

use std::process::Command as StdCommand;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crumbtrail_core::protocol::DynamicSamplingContext;
use crumbtrail_core::{
    Breadcrumb, ClientOptions, Event, Level, PropagationContext, capture_message, configure_scope,
    test,
};
use crumbtrail_process::{ProcessBreadcrumbHint, StdCommandExt, TokioCommandExt};
use tokio::process::Command;

const TRACE: &str = "4c79f60c11214eb38604f4ae0781bfb2";
const SPAN: &str = "a1b2c3d4e5f60718";
const LIMIT: Duration = Duration::from_secs(20);

/// Runs `body` with a test client and returns the crumbs of the event captured after it.
async fn crumbs_with<F: Future>(options: ClientOptions, body: F) -> (F::Output, Vec<Breadcrumb>) {
    let mut out = None;
    let events = test::capture_events_with(options, async {
        out = Some(body.await);
        capture_message("after", Level::Info);
    });
    let events: Vec<Event> = tokio::time::timeout(LIMIT, events).await.expect("bounded");
    assert_eq!(events.len(), 1);
    let crumbs = events[0]
        .breadcrumbs
        .as_ref()
        .map(|b| b.values.clone())
        .unwrap_or_default();
    (out.expect("body ran"), crumbs)
}

async fn crumbs<F: Future>(body: F) -> (F::Output, Vec<Breadcrumb>) {
    crumbs_with(ClientOptions::default(), body).await
}

fn known_trace(dsc: Option<DynamicSamplingContext>) {
    let mut ctx = PropagationContext::new();
    ctx.trace_id = TRACE.parse().unwrap();
    ctx.span_id = SPAN.parse().unwrap();
    ctx.sampled = Some(true);
    ctx.dsc = dsc.map(std::sync::Arc::new);
    configure_scope(|scope| scope.set_propagation_context(ctx));
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_owned()
}

#[tokio::test]
async fn tokio_success_records_an_info_crumb() {
    let (status, crumbs) = crumbs(Command::new("true").status_traced()).await;
    assert!(status.unwrap().success());
    assert_eq!(crumbs.len(), 1);
    let c = &crumbs[0];
    assert_eq!(
        (&*c.ty, c.category.as_deref()),
        ("default", Some("subprocess"))
    );
    assert_eq!((c.level, c.message.as_deref()), (Level::Info, Some("true")));
    assert_eq!(c.data["program"], "true");
    assert_eq!(c.data["args"].as_array().map(Vec::len), Some(0));
    assert_eq!(c.data["exit_code"], 0);
    assert!(c.data["pid"].as_u64().is_some_and(|pid| pid > 0));
    assert!(c.data["duration_ms"].as_f64().is_some_and(|d| d >= 0.0));
    assert!(!c.data.contains_key("signal"));
}

#[tokio::test]
async fn tokio_non_zero_exit_is_a_warning() {
    let (status, crumbs) = crumbs(Command::new("sh").args(["-c", "exit 3"]).status_traced()).await;
    assert_eq!(status.unwrap().code(), Some(3));
    assert_eq!(crumbs.len(), 1);
    assert_eq!(crumbs[0].level, Level::Warning);
    assert_eq!(crumbs[0].message.as_deref(), Some("sh -c 'exit 3'"));
    assert_eq!(crumbs[0].data["exit_code"], 3);
}

#[tokio::test]
async fn a_missing_program_is_an_error_crumb_and_the_error_is_returned() {
    let program = "crumbtrail-no-such-program-4c79f6";
    let (result, crumbs) =
        crumbs(async { Command::new(program).arg("x").status_traced().await }).await;
    assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::NotFound);
    assert_eq!(crumbs.len(), 1);
    let c = &crumbs[0];
    assert_eq!(c.level, Level::Error);
    assert_eq!(c.message.as_deref(), Some(format!("{program} x").as_str()));
    assert!(c.data["error"].as_str().is_some_and(|e| !e.is_empty()));
    assert!(!c.data.contains_key("exit_code") && !c.data.contains_key("pid"));
}

#[tokio::test]
async fn the_program_decides_which_short_flags_carry_passwords() {
    // Not there, but named: mysql's `-p<password>`.
    let mysql = "/crumbtrail-no-such-dir-4c79f6/mysql";
    let (_, mysql_crumbs) = crumbs(async {
        Command::new(mysql)
            .args(["-uroot", "-pS3CRET", "db"])
            .status_traced()
            .await
    })
    .await;
    assert_eq!(
        mysql_crumbs[0].message.as_deref(),
        Some(format!("{mysql} -uroot -p[Filtered] db").as_str())
    );
    // For other programs `-p` is not a password.
    let (_, crumbs) = crumbs(async {
        Command::new("true")
            .args(["-p2222", "-c", "curl -u a:S3CRET x"])
            .status_traced()
            .await
    })
    .await;
    assert_eq!(
        crumbs[0].message.as_deref(),
        Some("true -p2222 -c 'curl -u a:[Filtered] x'")
    );
}

#[tokio::test]
async fn secrets_are_redacted_in_the_crumb_but_not_in_the_command_or_the_hint() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hook_seen = Arc::clone(&seen);
    let options = ClientOptions {
        before_breadcrumb: Some(Arc::new(move |crumb, hint| {
            if let Some(p) = hint.get::<ProcessBreadcrumbHint>() {
                hook_seen
                    .lock()
                    .unwrap()
                    .push((p.args.clone(), p.status, p.pid));
            }
            Some(crumb)
        })),
        ..Default::default()
    };
    let args = [
        "--password=hunter2",
        "--token",
        "abc",
        "API_KEY=k1",
        "https://u:pw@h.test/x",
        "plain",
    ];
    let (output, crumbs) =
        crumbs_with(options, Command::new("echo").args(args).output_traced()).await;
    // The child got its arguments as written.
    assert_eq!(stdout(&output.unwrap()), args.join(" "));
    let c = &crumbs[0];
    assert_eq!(
        c.message.as_deref(),
        Some(
            "echo --password=[Filtered] --token [Filtered] API_KEY=[Filtered] https://[Filtered]:[Filtered]@h.test/x plain"
        )
    );
    assert_eq!(c.data["args"][2], "[Filtered]");
    let text = serde_json_text(c);
    for secret in ["hunter2", "abc", "k1", "pw"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    // The hook saw the unredacted command and the status.
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].0, args.map(std::ffi::OsString::from));
    assert!(seen[0].1.is_some_and(|s| s.success()));
    assert!(seen[0].2.is_some());
}

fn serde_json_text(crumb: &Breadcrumb) -> String {
    format!("{:?} {:?}", crumb.message, crumb.data)
}

#[tokio::test]
async fn the_child_gets_the_scopes_trace_in_its_environment() {
    let options = ClientOptions {
        dsn: Some("http://pubkey@127.0.0.1:9/42".into()),
        release: Some("shop@1.4.2".into()),
        environment: Some("staging".into()),
        ..Default::default()
    };
    let script = r#"printf '%s|%s' "$SENTRY_TRACE" "$SENTRY_BAGGAGE""#;
    let (output, crumbs) = crumbs_with(options, async {
        known_trace(None);
        Command::new("sh")
            .args(["-c", script])
            .output_traced()
            .await
    })
    .await;
    let out = stdout(&output.unwrap());
    let (trace, baggage) = out.split_once('|').unwrap();
    assert_eq!(trace, format!("{TRACE}-{SPAN}-1"));
    assert!(
        baggage.starts_with(&format!("sentry-trace_id={TRACE},sentry-public_key=pubkey")),
        "{baggage}"
    );
    assert!(baggage.contains("sentry-release=shop%401.4.2"), "{baggage}");
    assert!(baggage.contains("sentry-environment=staging"), "{baggage}");
    assert!(baggage.contains("sentry-sampled=true"), "{baggage}");
    assert_eq!(crumbs.len(), 1);
}

#[tokio::test]
async fn a_frozen_dsc_is_passed_on_unchanged() {
    let mut frozen = DynamicSamplingContext::new();
    frozen.set_trace_id(TRACE.parse().unwrap());
    frozen.release = Some("upstream@9".into());
    let (output, _) = crumbs(async {
        known_trace(Some(frozen));
        Command::new("sh")
            .args(["-c", "echo \"$SENTRY_BAGGAGE\""])
            .output_traced()
            .await
    })
    .await;
    assert_eq!(
        stdout(&output.unwrap()),
        format!("sentry-trace_id={TRACE},sentry-release=upstream%409")
    );
}

#[tokio::test]
async fn the_default_trace_is_the_one_events_carry() {
    let mut child_trace = String::new();
    let events = test::capture_events(async {
        let out = Command::new("sh")
            .args(["-c", "echo $SENTRY_TRACE"])
            .output_traced()
            .await;
        child_trace = stdout(&out.unwrap());
        capture_message("after", Level::Info);
    })
    .await;
    let trace_id = events[0].contexts.trace().unwrap().trace_id.to_string();
    assert_eq!(child_trace.split('-').next(), Some(trace_id.as_str()));
    assert_eq!(child_trace.len(), 32 + 1 + 16, "{child_trace}");
}

#[tokio::test]
async fn propagation_can_be_turned_off_per_command() {
    let (output, crumbs) = crumbs(async {
        known_trace(None);
        Command::new("env")
            .without_trace_propagation()
            .output_traced()
            .await
    })
    .await;
    let env = stdout(&output.unwrap());
    assert!(
        !env.contains("SENTRY_TRACE=") && !env.contains("SENTRY_BAGGAGE="),
        "{env}"
    );
    assert_eq!(crumbs.len(), 1, "the crumb is still recorded");
}

#[tokio::test]
async fn no_crumb_without_breadcrumbs_but_the_trace_still_goes() {
    let options = ClientOptions {
        enable_breadcrumbs: false,
        ..Default::default()
    };
    let (output, crumbs) = crumbs_with(options, async {
        known_trace(None);
        Command::new("sh")
            .args(["-c", "echo $SENTRY_TRACE"])
            .output_traced()
            .await
    })
    .await;
    assert_eq!(stdout(&output.unwrap()), format!("{TRACE}-{SPAN}-1"));
    assert!(crumbs.is_empty());
}

#[tokio::test]
async fn spawned_children_record_on_wait_once() {
    let (statuses, crumbs) = crumbs(async {
        let mut child = Command::new("sh")
            .args(["-c", "exit 2"])
            .spawn_traced()
            .unwrap();
        let pid = child.id();
        let first = child.wait().await.unwrap();
        let second = child.wait().await.unwrap();
        (pid, first, second)
    })
    .await;
    assert_eq!((statuses.1.code(), statuses.2.code()), (Some(2), Some(2)));
    assert_eq!(crumbs.len(), 1, "{crumbs:?}");
    assert_eq!(crumbs[0].data["pid"], statuses.0.unwrap());
    assert_eq!(crumbs[0].level, Level::Warning);
}

#[cfg(unix)]
#[tokio::test]
async fn a_killed_child_records_its_signal() {
    let (result, crumbs) = crumbs(async {
        let mut child = Command::new("sleep").arg("30").spawn_traced().unwrap();
        child.kill().await
    })
    .await;
    result.unwrap();
    assert_eq!(crumbs.len(), 1);
    assert_eq!(crumbs[0].data["signal"], 9);
    assert_eq!(crumbs[0].level, Level::Warning);
    assert!(!crumbs[0].data.contains_key("exit_code"));
}

#[tokio::test]
async fn a_child_dropped_unwaited_still_leaves_a_crumb() {
    let (_, crumbs) = crumbs(async {
        let child = Command::new("true").spawn_traced().unwrap();
        drop(child);
    })
    .await;
    assert_eq!(crumbs.len(), 1);
    assert_eq!(crumbs[0].data["waited"], false);
    assert!(!crumbs[0].data.contains_key("exit_code"));
}

#[tokio::test]
async fn std_variants_record_the_same_crumbs() {
    let (results, crumbs) = crumbs(async {
        let ok = StdCommand::new("true").status_traced().unwrap();
        let out = StdCommand::new("sh")
            .args(["-c", "echo $SENTRY_TRACE; exit 4"])
            .output_traced()
            .unwrap();
        let mut child = StdCommand::new("echo")
            .arg("--secret=s3")
            .spawn_traced()
            .unwrap();
        let pid = child.id();
        let waited = child.wait().unwrap();
        let missing = StdCommand::new("crumbtrail-no-such-program-4c79f6").status_traced();
        known_trace(None);
        let traced = StdCommand::new("sh")
            .args(["-c", "echo $SENTRY_TRACE"])
            .output_traced()
            .unwrap();
        (ok, out, pid, waited, missing, traced)
    })
    .await;
    let (ok, out, pid, waited, missing, traced) = results;
    assert!(ok.success() && waited.success());
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(stdout(&out).len(), 32 + 1 + 16);
    assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
    assert_eq!(stdout(&traced), format!("{TRACE}-{SPAN}-1"));

    let levels: Vec<Level> = crumbs.iter().map(|c| c.level).collect();
    assert_eq!(
        levels,
        [
            Level::Info,
            Level::Warning,
            Level::Info,
            Level::Error,
            Level::Info
        ]
    );
    assert!(crumbs[0].data.contains_key("pid"));
    assert_eq!(crumbs[1].data["exit_code"], 4);
    assert!(
        !crumbs[1].data.contains_key("pid"),
        "Command::output does not tell the pid"
    );
    assert_eq!(
        crumbs[2].message.as_deref(),
        Some("echo --secret=[Filtered]")
    );
    assert_eq!(crumbs[2].data["pid"], pid);
    assert!(
        crumbs
            .iter()
            .all(|c| c.category.as_deref() == Some("subprocess"))
    );
}

#[tokio::test]
async fn without_a_client_commands_run_unchanged() {
    let fut = async {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo \"[$SENTRY_TRACE]\"; exit 5"]);
        let out = cmd.output_traced().await.unwrap();
        assert_eq!(cmd.as_std().get_envs().count(), 0, "environment untouched");
        assert_eq!((stdout(&out).as_str(), out.status.code()), ("[]", Some(5)));

        let mut std_cmd = StdCommand::new("sh");
        std_cmd.args(["-c", "exit 6"]);
        assert_eq!(std_cmd.status_traced().unwrap().code(), Some(6));
        assert_eq!(std_cmd.get_envs().count(), 0);
        assert!(std_cmd.spawn_traced().unwrap().wait().unwrap().code() == Some(6));
        assert!(crumbtrail_core::current_client().is_none());
    };
    tokio::time::timeout(LIMIT, fut).await.expect("bounded");
}
