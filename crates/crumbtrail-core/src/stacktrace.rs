//! `attach_stacktrace`: the caller's stack is captured unresolved on the hot path
//! (`Backtrace::force_capture` only walks the stack) and resolved here, on the sender, when it
//! is formatted.

use std::backtrace::Backtrace;

use crumbtrail_protocol::{Event, Frame, Stacktrace, Thread, Values};

use crate::options::ClientOptions;

/// Module prefixes that are never the application's code.
const NOT_IN_APP: &[&str] = &[
    "std::",
    "core::",
    "alloc::",
    "tokio::",
    "futures",
    "crumbtrail",
    "<",
    "backtrace::",
    "__rust",
    "rust_begin_unwind",
    "test::",
];

/// Frames that may sit between the SDK's own frames on its capture path.
const GLUE: &[&str] = &["std::", "core::", "alloc::", "tokio::", "<"];

/// Puts the caller's stack on the newest exception, or as the current thread when the event
/// has no exception (PROTOCOL.md §4.4, §4.5).
pub(crate) fn attach(event: &mut Event, backtrace: &Backtrace, options: &ClientOptions) {
    let frames = parse(&format!("{backtrace:?}"), options);
    if frames.is_empty() {
        return;
    }
    let newest = event.exception.as_mut().and_then(|e| e.values.last_mut());
    if let Some(exception) = newest {
        if exception.stacktrace.is_none() {
            exception.stacktrace = Some(Stacktrace::from_frames(frames));
        }
        return;
    }
    let thread = Thread {
        current: Some(true),
        crashed: Some(false),
        stacktrace: Some(Stacktrace::from_frames(frames)),
        ..Default::default()
    };
    event.threads = Some(Values::from(vec![thread]));
}

/// Parses std's `Debug` form of a backtrace (`Backtrace [{ fn: "…", file: "…", line: N }, …]`)
/// into frames, outermost first, without the SDK's own frames at the top.
pub(crate) fn parse(debug: &str, options: &ClientOptions) -> Vec<Frame> {
    let mut frames: Vec<Frame> = debug
        .split("{ fn: ")
        .skip(1)
        .filter_map(|chunk| {
            let function = quoted(chunk)?;
            let mut frame = Frame::from_function(strip_hash(&function));
            if let Some(rest) = chunk.split_once("file: ").map(|(_, r)| r) {
                frame.abs_path = quoted(rest);
                frame.filename = frame
                    .abs_path
                    .as_deref()
                    .map(|p| p.rsplit('/').next().unwrap_or(p).to_owned());
            }
            if let Some(rest) = chunk.split_once("line: ").map(|(_, r)| r) {
                frame.lineno = rest
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .ok();
            }
            let module = module_of(frame.function.as_deref().unwrap_or(""));
            frame.in_app = Some(if module.is_empty() {
                // An inlined frame named without its path (`debug = "line-tables-only"`):
                // std and dependencies are known by where their source lives.
                !frame.abs_path.as_deref().is_some_and(is_dependency_path)
            } else {
                in_app(&module, options)
            });
            frame.module = (!module.is_empty()).then_some(module);
            Some(frame)
        })
        .collect();
    // Innermost first in std's output. The top is the SDK's capture path, interleaved with
    // std/tokio glue (thread-locals, task-locals) and, with limited debug info, inlined frames
    // named without their path: cut through the last SDK frame of that leading run, then put
    // the outermost caller first.
    let mut cut = 0;
    for (i, f) in frames.iter().enumerate() {
        let func = f.function.as_deref().unwrap_or("");
        if func.starts_with("crumbtrail") {
            cut = i + 1;
        } else if is_qualified(func) && !GLUE.iter().any(|g| func.starts_with(g)) {
            break;
        }
    }
    frames.drain(..cut);
    frames.reverse();
    frames
}

/// Whether a function name carries its path (`shop::cart::load`), as symbol names and full
/// debug info give it; an inlined frame under `debug = "line-tables-only"` has only its own
/// name (`capture_with`, `{closure#0}<…>`).
fn is_qualified(function: &str) -> bool {
    function
        .split(['<', '{'])
        .next()
        .is_some_and(|head| head.contains("::"))
}

/// Source of std (`/rustc/<hash>/library/…`) or of a crate from a registry or git checkout,
/// wherever `CARGO_HOME` is (`~/.cargo`, `/usr/local/cargo` in Docker images, Windows paths).
fn is_dependency_path(path: &str) -> bool {
    let path = path.replace('\\', "/");
    path.starts_with("/rustc/")
        || path.contains("/registry/src/")
        || path.contains("/git/checkouts/")
}

/// The text between the first pair of unescaped double quotes.
fn quoted(s: &str) -> Option<String> {
    let start = s.find('"')? + 1;
    let mut out = String::new();
    let mut escaped = false;
    for c in s[start..].chars() {
        match (escaped, c) {
            (true, c) => {
                out.push(c);
                escaped = false;
            }
            (false, '\\') => escaped = true,
            (false, '"') => return Some(out),
            (false, c) => out.push(c),
        }
    }
    None
}

/// Drops a symbol hash suffix (`::h0123456789abcdef`).
fn strip_hash(function: &str) -> String {
    match function.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head.to_owned()
        }
        _ => function.to_owned(),
    }
}

/// `shop::cart::load` → `shop::cart`; closures and generics are cut off first.
fn module_of(function: &str) -> String {
    let plain = function.split(['<', '{']).next().unwrap_or(function);
    let plain = plain.trim_end_matches("::");
    plain
        .rsplit_once("::")
        .map(|(m, _)| m.to_owned())
        .unwrap_or_default()
}

fn in_app(module: &str, options: &ClientOptions) -> bool {
    let matches = |prefixes: &[String]| prefixes.iter().any(|p| module.starts_with(p.as_str()));
    if matches(&options.in_app_include) {
        return true;
    }
    if matches(&options.in_app_exclude) {
        return false;
    }
    !NOT_IN_APP.iter().any(|p| module.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"Backtrace [{ fn: "std::backtrace::Backtrace::force_capture", file: "/rustc/x/library/std/src/backtrace.rs", line: 310 }, { fn: "crumbtrail_core::capture::capture_with" }, { fn: "std::thread::local::LocalKey<T>::with" }, { fn: "crumbtrail_core::hub::with_hub" }, { fn: "shop::cart::load::h0123456789abcdef", file: "./src/cart.rs", line: 42 }, { fn: "shop::main::{{closure}}", file: "./src/main.rs", line: 7 }, { fn: "tokio::runtime::park::run", file: "/x/tokio/src/runtime/park.rs", line: 281 }]"#;

    fn functions(frames: &[Frame]) -> Vec<&str> {
        frames
            .iter()
            .map(|f| f.function.as_deref().unwrap())
            .collect()
    }

    #[test]
    fn parses_frames_outermost_first_without_sdk_frames() {
        let frames = parse(SAMPLE, &ClientOptions::default());
        assert_eq!(
            functions(&frames),
            [
                "tokio::runtime::park::run",
                "shop::main::{{closure}}",
                "shop::cart::load"
            ]
        );
        assert_eq!(frames[2].lineno, Some(42));
        assert_eq!(frames[2].filename.as_deref(), Some("cart.rs"));
        assert_eq!(frames[2].module.as_deref(), Some("shop::cart"));
        assert_eq!(frames[2].in_app, Some(true));
        assert_eq!(frames[0].in_app, Some(false));
    }

    #[test]
    fn in_app_rules_apply() {
        let options = ClientOptions {
            in_app_exclude: vec!["shop::cart".into()],
            in_app_include: vec!["tokio::runtime".into()],
            ..Default::default()
        };
        let frames = parse(SAMPLE, &options);
        assert_eq!(frames[0].in_app, Some(true));
        assert_eq!(frames[2].in_app, Some(false));
    }

    /// Under `debug = "line-tables-only"`, inlined frames carry only their own names.
    const LINE_TABLES_ONLY: &str = r#"Backtrace [{ fn: "std::backtrace::Backtrace::force_capture", file: "/rustc/x/library/std/src/backtrace.rs", line: 310 }, { fn: "capture_with", file: "./src/capture.rs", line: 80 }, { fn: "core::option::Option<T>::or_else", file: "/rustc/x/library/core/src/option.rs", line: 1 }, { fn: "crumbtrail_core::capture::capture_full::{{closure}}", file: "./src/capture.rs", line: 60 }, { fn: "try_with<core::cell::RefCell<crumbtrail_core::hub::Hub>>", file: "/rustc/x/library/std/src/thread/local.rs", line: 9 }, { fn: "crumbtrail_core::capture::capture_message", file: "./src/capture.rs", line: 20 }, { fn: "{closure#0}<shop::Cart>", file: "/home/me/.cargo/registry/src/index/tokio-1.54.1/src/task/task_local.rs", line: 5 }, { fn: "shop::cart::load", file: "./src/cart.rs", line: 42 }, { fn: "load_inner", file: "./src/cart.rs", line: 50 }]"#;

    #[test]
    fn sdk_frames_are_cut_when_inlined_frames_have_short_names() {
        let frames = parse(LINE_TABLES_ONLY, &ClientOptions::default());
        assert_eq!(
            functions(&frames),
            ["load_inner", "shop::cart::load", "{closure#0}<shop::Cart>"]
        );
        // Known by path: the user's own inlined frame is the app's, tokio's is not.
        assert_eq!(frames[0].in_app, Some(true));
        assert_eq!(frames[1].in_app, Some(true));
        assert_eq!(frames[2].in_app, Some(false));
    }

    #[test]
    fn dependency_sources_are_known_wherever_cargo_home_is() {
        for path in [
            "/rustc/abc/library/core/src/option.rs",
            "/home/me/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/tokio-1.54.1/src/lib.rs",
            "/usr/local/cargo/registry/src/index.crates.io-x/axum-0.8.9/src/routing/route.rs",
            "/usr/local/cargo/git/checkouts/hyper-abc/1a2b3c/src/lib.rs",
            r"C:\Users\me\.cargo\registry\src\index.crates.io-x\tokio-1.54.1\src\lib.rs",
        ] {
            assert!(is_dependency_path(path), "{path}");
        }
        for path in [
            "./src/cart.rs",
            "/srv/shop/src/main.rs",
            r"C:\shop\src\main.rs",
        ] {
            assert!(!is_dependency_path(path), "{path}");
        }
    }

    #[test]
    fn a_real_backtrace_parses() {
        let bt = Backtrace::force_capture();
        let frames = parse(&format!("{bt:?}"), &ClientOptions::default());
        // Symbols may be missing in some builds; whatever is there must be well-formed.
        assert!(frames.iter().all(|f| f.function.is_some()));
    }
}
