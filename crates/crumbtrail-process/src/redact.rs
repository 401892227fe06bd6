//! Secrets out of command lines: `--password=…`, `--token …`, `API_TOKEN=…`,
//! `Authorization: …` and credentials in URLs become `[Filtered]`.

use std::borrow::Cow;
use std::ffi::OsString;

use crumbtrail_core::{EventScrubber, FILTERED};

/// The arguments with secrets replaced by `[Filtered]` (lossy UTF-8).
pub(crate) fn redact_args(args: &[OsString], scrubber: &EventScrubber) -> Vec<String> {
    let mut filter_next = false;
    args.iter()
        .map(|arg| {
            if std::mem::take(&mut filter_next) {
                return FILTERED.to_owned();
            }
            redact_arg(&arg.to_string_lossy(), scrubber, &mut filter_next)
        })
        .collect()
}

/// One argument. Sets `filter_next` when it is a flag (`--token`) whose value follows.
fn redact_arg(arg: &str, scrubber: &EventScrubber, filter_next: &mut bool) -> String {
    // `Authorization: Bearer …` (curl -H, wget --header)
    if let Some((name, value)) = arg.split_once(':') {
        if is_key(name) && !value.trim().is_empty() && is_sensitive(name, scrubber) {
            return format!("{name}: {FILTERED}");
        }
    }
    if !arg.contains(char::is_whitespace) {
        return redact_word(arg, scrubber, filter_next).into_owned();
    }
    // `--password=a b` is one value; otherwise a script (`sh -c '…'`): word by word.
    if let Some((key, _)) = arg.split_once('=') {
        let name = key.trim_start_matches('-');
        if key.starts_with('-') && is_key(name) && is_sensitive(name, scrubber) {
            return format!("{key}={FILTERED}");
        }
    }
    let mut out = String::with_capacity(arg.len());
    let mut inner_next = false;
    let mut rest = arg;
    while !rest.is_empty() {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_end);
        if !word.is_empty() {
            if std::mem::take(&mut inner_next) {
                out.push_str(FILTERED);
            } else {
                out.push_str(&redact_word(word, scrubber, &mut inner_next));
            }
        }
        let space_end = tail
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(tail.len());
        out.push_str(&tail[..space_end]);
        rest = &tail[space_end..];
    }
    out
}

/// A word without whitespace: `key=value`, `--flag` (value next), or text with URLs.
fn redact_word<'a>(
    word: &'a str,
    scrubber: &EventScrubber,
    filter_next: &mut bool,
) -> Cow<'a, str> {
    if let Some((key, _)) = word.split_once('=') {
        let name = key.trim_start_matches('-');
        if is_key(name) && is_sensitive(name, scrubber) {
            return Cow::Owned(format!("{key}={FILTERED}"));
        }
    } else if word.starts_with('-') {
        let name = word.trim_start_matches('-');
        if is_key(name) && is_sensitive(name, scrubber) {
            *filter_next = true;
            return Cow::Borrowed(word);
        }
    }
    redact_urls(word)
}

/// A name made of letters, digits, `_`, `-` and `.`.
fn is_key(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Words that make any key that contains them sensitive (`PGPASSWORD`, `client_secret_b64`).
const SENSITIVE_WORDS: &[&str] = &["password", "passwd", "secret", "token"];

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

/// Replaces the user info of every `scheme://user:password@host` in `text`:
/// `[Filtered]:[Filtered]@host`, or `[Filtered]@host` for a user alone (often a token).
pub(crate) fn redact_urls(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, after) = rest.split_at(i + 3);
        out.push_str(head);
        let end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) if at > 0 => {
                let userinfo = &authority[..at];
                if userinfo.contains(':') {
                    out.push_str(FILTERED);
                    out.push(':');
                }
                out.push_str(FILTERED);
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
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
        redact_args(&args, &EventScrubber::default())
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
