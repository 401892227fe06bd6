//! Secrets out of command lines, best effort; each becomes `[Filtered]`:
//!
//! - `--password=…`, `-token=…`, `API_TOKEN=…` (a key that [`is_sensitive`]) lose their value;
//!   a sensitive flag alone (`--token`, `--passphrase`) hides the next argument;
//! - `--user` / `--proxy-user` `name:password` keeps the name (`name:[Filtered]`);
//! - a `Name: value` header whose name is sensitive (`Authorization: …`), also as the value of a
//!   flag (`--header=Authorization: …`, `-HAuthorization: …`);
//! - openssl's `pass:…` password argument;
//! - in URLs, the user info and the values of secret query parameters ([`url`]);
//! - program-specific short flags: `mysql -p…`, `sshpass -p …`, `curl -u name:…` ([`tools`]);
//! - arguments with whitespace are shell scripts (`sh -c '…'`), redacted word by word ([`shell`]).

use std::borrow::Cow;
use std::ffi::OsString;

use crumbtrail_core::{EventScrubber, FILTERED};

mod shell;
mod tools;
mod url;

use tools::Tool;

/// The arguments of `program` with secrets replaced by `[Filtered]` (lossy UTF-8).
pub(crate) fn redact_args(
    program: &str,
    args: &[OsString],
    scrubber: &EventScrubber,
) -> Vec<String> {
    let mut state = State::new(scrubber);
    tools::track(program, &mut state.tool);
    args.iter()
        .map(|arg| redact_arg(&arg.to_string_lossy(), &mut state))
        .collect()
}

/// What the words read so far say about the next ones.
struct State<'s> {
    scrubber: &'s EventScrubber,
    /// What the previous word says about this one.
    next: Next,
    /// The program the words belong to, when its short flags carry passwords.
    tool: Option<Tool>,
    /// How many values deep this is (a script in a flag's value in a script…).
    depth: u8,
}

/// What a flag says about the argument after it.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum Next {
    #[default]
    Plain,
    /// A secret (after `--token`): filtered whole.
    Secret,
    /// `name:password` (after `--user`): the password is filtered.
    UserPassword,
}

/// Values nested deeper than this are filtered whole rather than read.
const MAX_DEPTH: u8 = 8;

impl<'s> State<'s> {
    fn new(scrubber: &'s EventScrubber) -> Self {
        State {
            scrubber,
            next: Next::Plain,
            tool: None,
            depth: 0,
        }
    }

    /// A state for a value inside the current word: a flag's value, a script.
    fn inner(&self) -> Self {
        State {
            depth: self.depth.saturating_add(1),
            ..State::new(self.scrubber)
        }
    }
}

/// One argument, as the program receives it.
fn redact_arg(arg: &str, st: &mut State<'_>) -> String {
    match std::mem::take(&mut st.next) {
        Next::Secret => return FILTERED.to_owned(),
        Next::UserPassword => {
            if let Some(redacted) = user_password(arg) {
                return redacted;
            }
        }
        Next::Plain => {}
    }
    if st.depth > MAX_DEPTH {
        return FILTERED.to_owned();
    }
    let redacted = tools::redact(arg, st).unwrap_or_else(|| redact_value(arg, st));
    tools::track(arg, &mut st.tool);
    redacted
}

/// One argument, past the program-specific flags.
fn redact_value(arg: &str, st: &mut State<'_>) -> String {
    // `Authorization: Bearer …` (curl -H, wget --header)
    if let Some((name, value)) = arg.split_once(':') {
        if is_key(name) && !value.trim().is_empty() && is_sensitive(name, st.scrubber) {
            return format!("{name}: {FILTERED}");
        }
    }
    if let Some(redacted) = flag_value(arg, st) {
        return redacted;
    }
    // openssl `-passin pass:…` (`env:VAR`, `file:path` stay)
    if arg.strip_prefix("pass:").is_some_and(|p| !p.is_empty()) {
        return format!("pass:{FILTERED}");
    }
    if arg.contains(char::is_whitespace) {
        shell::redact_script(arg, &mut st.inner())
    } else {
        redact_word(arg, st).into_owned()
    }
}

/// `--flag=value` or `-Xvalue` (`-HAuthorization: …`), when the value holds a secret: filtered
/// whole after a sensitive flag (`--password=a b`), else redacted as an argument of its own
/// (`--header=Authorization: …`, `--url=https://u:p@…`). Inside a value (a quoted word of a
/// script), `KEY=a b` is one assignment too; at the top, `KEY=a b c` is a script.
fn flag_value(arg: &str, st: &State<'_>) -> Option<String> {
    if let Some((flag, value)) = arg.split_once('=') {
        let name = flag.trim_start_matches('-');
        let is_flag = flag.starts_with('-');
        if is_key(name) && (is_flag || st.depth > 0) {
            if is_sensitive(name, st.scrubber) {
                return Some(format!("{flag}={FILTERED}"));
            }
            if USER_FLAGS.contains(&flag) {
                return user_password(value).map(|v| format!("{flag}={v}"));
            }
            if is_flag {
                let redacted = redact_arg(value, &mut st.inner());
                return (redacted != value).then(|| format!("{flag}={redacted}"));
            }
        }
    }
    let mut chars = arg.chars();
    let short = chars.next() == Some('-') && chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let value = arg.get(2..).filter(|v| short && !v.is_empty())?;
    let redacted = redact_arg(value, &mut st.inner());
    (redacted != value).then(|| format!("{}{redacted}", &arg[..2]))
}

/// Flags whose value is `name:password` (curl, also docker's `uid:gid`, which loses its gid).
const USER_FLAGS: &[&str] = &["--user", "--proxy-user"];

/// `name:password` as `name:[Filtered]`; `None` without a password.
fn user_password(value: &str) -> Option<String> {
    let (name, password) = value.split_once(':')?;
    (!password.is_empty()).then(|| format!("{name}:{FILTERED}"))
}

/// A word without whitespace: `KEY=value`, `--flag` (value next), or text with URLs.
fn redact_word<'a>(word: &'a str, st: &mut State<'_>) -> Cow<'a, str> {
    if let Some((key, _)) = word.split_once('=') {
        if is_key(key) && is_sensitive(key, st.scrubber) {
            return Cow::Owned(format!("{key}={FILTERED}"));
        }
    } else if word.starts_with('-') {
        let name = word.trim_start_matches('-');
        if is_key(name) && is_sensitive(name, st.scrubber) {
            st.next = Next::Secret;
            return Cow::Borrowed(word);
        }
        if USER_FLAGS.contains(&word) {
            st.next = Next::UserPassword;
            return Cow::Borrowed(word);
        }
    }
    url::redact_urls(word, st.scrubber)
}

/// A name made of letters, digits, `_`, `-` and `.`.
fn is_key(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Words that make any key that contains them sensitive (`PGPASSWORD`, `client_secret_b64`,
/// gpg's `--passphrase`).
const SENSITIVE_WORDS: &[&str] = &["password", "passwd", "passphrase", "secret", "token"];

/// Whether `name`, or a suffix of it that starts after a `_`, `-` or `.` (`db-password`,
/// `GITHUB_TOKEN`), is in the denylist, reading `-` and `_` as the same; or whether it contains
/// one of [`SENSITIVE_WORDS`].
pub(crate) fn is_sensitive(name: &str, scrubber: &EventScrubber) -> bool {
    let lower = name.to_ascii_lowercase();
    if SENSITIVE_WORDS.iter().any(|w| lower.contains(w)) {
        return true;
    }
    let mut rest = name;
    loop {
        if !rest.is_empty()
            && (scrubber.is_denied(rest)
                || scrubber.is_denied(&rest.replace('-', "_"))
                || scrubber.is_denied(&rest.replace('_', "-")))
        {
            return true;
        }
        match rest.find(['_', '-', '.']) {
            Some(i) => rest = &rest[i + 1..],
            None => return false,
        }
    }
}

/// The command line for the crumb's message: words that need it are single-quoted, POSIX style.
pub(crate) fn command_line(program: &str, args: &[String]) -> String {
    let mut line = quote(program).into_owned();
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line
}

fn quote(word: &str) -> Cow<'_, str> {
    let plain = !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '-' | '_' | '.' | '/' | '=' | ':' | ',' | '@' | '%' | '+' | '[' | ']'
                )
        });
    if plain {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(args: &[&str]) -> Vec<String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        redact_args("true", &args, &EventScrubber::default())
    }

    #[test]
    fn key_value_arguments_lose_their_value() {
        assert_eq!(
            redact(&[
                "--password=hunter2",
                "-token=abc",
                "API_KEY=k",
                "user=bob",
                "--db-password=x"
            ]),
            [
                "--password=[Filtered]",
                "-token=[Filtered]",
                "API_KEY=[Filtered]",
                "user=bob",
                "--db-password=[Filtered]"
            ]
        );
        assert_eq!(
            redact(&["GITHUB_TOKEN=ghp_x", "X-Api-Key=1"]),
            ["GITHUB_TOKEN=[Filtered]", "X-Api-Key=[Filtered]"]
        );
    }

    #[test]
    fn a_sensitive_flag_hides_the_next_argument() {
        assert_eq!(
            redact(&["login", "--token", "abc", "--user", "bob", "--secret"]),
            [
                "login",
                "--token",
                "[Filtered]",
                "--user",
                "bob",
                "--secret"
            ]
        );
        // A bare word is not a flag.
        assert_eq!(redact(&["token", "abc"]), ["token", "abc"]);
    }

    #[test]
    fn headers_and_urls_with_credentials() {
        assert_eq!(
            redact(&["-H", "Authorization: Bearer abc", "-H", "Accept: text/html"]),
            ["-H", "Authorization: [Filtered]", "-H", "Accept: text/html"]
        );
        assert_eq!(
            redact(&[
                "https://u:p@a.test/x?y=1",
                "--url=postgres://me:pw@db:5432/app",
                "ssh://ghp_tok@h.test/r",
                "https://a.test/@x"
            ]),
            [
                "https://[Filtered]:[Filtered]@a.test/x?y=1",
                "--url=postgres://[Filtered]:[Filtered]@db:5432/app",
                "ssh://[Filtered]@h.test/r",
                "https://a.test/@x"
            ]
        );
    }

    #[test]
    fn user_passwords_keep_the_user() {
        assert_eq!(
            redact(&["--user=admin:S2", "--proxy-user", "p:S", "--user", "bob"]),
            [
                "--user=admin:[Filtered]",
                "--proxy-user",
                "p:[Filtered]",
                "--user",
                "bob"
            ]
        );
        // `-u` is curl's only after `curl` (see `tools`).
        assert_eq!(redact(&["-u", "a:b"]), ["-u", "a:b"]);
    }

    #[test]
    fn headers_as_flag_values() {
        assert_eq!(
            redact(&[
                "--header=Authorization: Bearer S3",
                "-HAuthorization: Bearer S4",
                "-HProxy-Authorization:Basic S",
                "--header",
                "Cookie: a=S",
            ]),
            [
                "--header=Authorization: [Filtered]",
                "-HAuthorization: [Filtered]",
                "-HProxy-Authorization: [Filtered]",
                "--header",
                "Cookie: [Filtered]",
            ]
        );
        assert_eq!(
            redact(&[
                "--header=Accept: a/b",
                "-HX-Trace: 1",
                "-vH",
                "--url=https://u:p@h/"
            ]),
            [
                "--header=Accept: a/b",
                "-HX-Trace: 1",
                "-vH",
                "--url=https://[Filtered]:[Filtered]@h/"
            ]
        );
    }

    #[test]
    fn passphrases_and_openssl_passwords() {
        assert_eq!(
            redact(&[
                "--passphrase",
                "S10",
                "--passphrase=S",
                "-passin",
                "pass:S9"
            ]),
            [
                "--passphrase",
                "[Filtered]",
                "--passphrase=[Filtered]",
                "-passin",
                "pass:[Filtered]"
            ]
        );
        assert_eq!(
            redact(&[
                "-passout",
                "env:PW",
                "-pass",
                "file:/k",
                "pass:",
                "--passive",
                "bypass:x"
            ]),
            [
                "-passout",
                "env:PW",
                "-pass",
                "file:/k",
                "pass:",
                "--passive",
                "bypass:x"
            ]
        );
        assert_eq!(
            redact(&["-pass", "pass:S", "-kfile", "pass:S"]),
            ["-pass", "pass:[Filtered]", "-kfile", "pass:[Filtered]"]
        );
    }

    #[test]
    fn query_strings_in_arguments() {
        assert_eq!(
            redact(&[
                "https://api.test/v1?access_token=S6&x=1",
                "-d",
                "id=1&client_secret=S"
            ]),
            [
                "https://api.test/v1?access_token=[Filtered]&x=1",
                "-d",
                "id=1&client_secret=[Filtered]"
            ]
        );
    }

    #[test]
    fn ordinary_arguments_stay() {
        let args = [
            "-p",
            "8080",
            "-p8080",
            "-u",
            "1000",
            "-v",
            "/a:/b",
            "--name=web",
            "host:80",
            "Accept: */*",
            "--author=bob",
            "--port=5432",
            "https://a.test/search?q=1",
            "git@github.com:o/r.git",
            "echo 'a b'",
        ];
        assert_eq!(redact(&args), args);
    }

    #[test]
    fn the_review_probe_cases() {
        let cases: &[(&str, &[&str])] = &[
            ("curl", &["-u", "admin:SECRET1", "https://a.test/"]),
            ("curl", &["--user=admin:SECRET2", "https://a.test/"]),
            (
                "wget",
                &["--header=Authorization: Bearer SECRET3", "https://a.test/"],
            ),
            ("curl", &["-HAuthorization: Bearer SECRET4"]),
            (
                "sh",
                &[
                    "-c",
                    "curl -H 'Authorization: Bearer SECRET5' https://a.test/",
                ],
            ),
            ("curl", &["https://api.test/v1?access_token=SECRET6&x=1"]),
            ("mysql", &["-uroot", "-pSECRET7"]),
            ("sshpass", &["-p", "SECRET8", "ssh", "h"]),
            ("openssl", &["-passin", "pass:SECRET9"]),
            ("gpg", &["--passphrase", "SECRET10"]),
            ("sh", &["-c", "export API_TOKEN=\"SECRET11 more\"; run"]),
        ];
        for (program, args) in cases {
            let os: Vec<OsString> = args.iter().map(OsString::from).collect();
            let redacted = redact_args(program, &os, &EventScrubber::default());
            let line = command_line(program, &redacted);
            assert!(!line.contains("SECRET"), "{line}");
        }
    }

    #[test]
    fn scripts_are_redacted_word_by_word() {
        assert_eq!(
            redact(&[
                "-c",
                "PGPASSWORD=pw psql  --token t http://u:p@h/ ; echo ok"
            ]),
            [
                "-c",
                "PGPASSWORD=[Filtered] psql  --token [Filtered] http://[Filtered]:[Filtered]@h/ ; echo ok"
            ]
        );
        assert_eq!(redact(&["--password=a b"]), ["--password=[Filtered]"]);
    }

    #[test]
    fn extra_scrubber_keys_count() {
        let scrubber = EventScrubber::default().with_keys(["card_number"]);
        assert!(is_sensitive(
            "--card-number".trim_start_matches('-'),
            &scrubber
        ));
        assert!(!is_sensitive("card", &scrubber));
        assert!(is_sensitive("connect.sid", &scrubber));
        assert!(!is_sensitive("author", &scrubber));
        assert!(!is_sensitive("sessions", &scrubber));
        assert!(is_sensitive("PGPASSWORD", &scrubber));
        assert!(is_sensitive("mysql-pwd", &scrubber));
    }

    #[test]
    fn command_lines_quote_what_needs_it() {
        let args = [
            "-c".to_owned(),
            "echo 'hi'".to_owned(),
            String::new(),
            "--password=[Filtered]".to_owned(),
        ];
        assert_eq!(
            command_line("sh", &args),
            r"sh -c 'echo '\''hi'\''' '' --password=[Filtered]"
        );
    }
}
