//! Shell scripts (`sh -c '…'`, `ssh host '…'`), redacted word by word. A word is what the shell
//! makes of it, quotes and escapes removed (`'Authorization: Bearer …'` is one argument), and is
//! redacted as an argument; a redacted word is written back single-quoted when it needs it.
//! `;`, `|` and `&` end a word and the command of the program flags of [`super::tools`].

use super::{State, quote, redact_arg, tools};

/// The characters that separate commands (`;`, `&&`, `|`, `||`, `&`).
const OPERATORS: [char; 3] = [';', '|', '&'];

/// `script` with each of its words redacted, the whitespace between them kept.
pub(super) fn redact_script(script: &str, st: &mut State<'_>) -> String {
    let mut out = String::with_capacity(script.len());
    let mut rest = script;
    loop {
        let word_start = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..word_start]);
        rest = &rest[word_start..];
        if rest.is_empty() {
            return out;
        }
        let ops = rest.len() - rest.trim_start_matches(OPERATORS).len();
        if ops > 0 {
            out.push_str(&rest[..ops]);
            tools::track(&rest[..ops], &mut st.tool);
            rest = &rest[ops..];
            continue;
        }
        let (len, value) = shell_word(rest);
        let redacted = redact_arg(&value, st);
        if redacted == value {
            out.push_str(&rest[..len]);
        } else {
            out.push_str(&quote(&redacted));
        }
        rest = &rest[len..];
    }
}

/// The first word of `script` (which starts with one): its length in `script` and its value,
/// POSIX style: `'…'` is literal, `"…"` and `\` escape; whitespace or an operator outside
/// quotes ends it. An unclosed quote runs to the end.
fn shell_word(script: &str) -> (usize, String) {
    let mut value = String::new();
    let mut quote = None;
    let mut chars = script.char_indices();
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() || OPERATORS.contains(&c) => return (i, value),
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None | Some('"'), '\\') => match chars.next() {
                Some((_, e)) => {
                    if quote.is_some() && !matches!(e, '"' | '\\' | '$' | '`') {
                        value.push('\\');
                    }
                    value.push(e);
                }
                None => value.push('\\'),
            },
            _ => value.push(c),
        }
    }
    (script.len(), value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crumbtrail_core::EventScrubber;

    /// As `redact_value` reads an argument with whitespace.
    fn script(text: &str) -> String {
        redact_script(text, &mut State::new(&EventScrubber::default()).inner())
    }

    #[test]
    fn words_are_read_as_the_shell_reads_them() {
        assert_eq!(shell_word("a b"), (1, "a".to_owned()));
        assert_eq!(shell_word("'a b'c d"), (6, "a bc".to_owned()));
        assert_eq!(
            shell_word(r#""a \"b\" \n" x"#),
            (12, r#"a "b" \n"#.to_owned())
        );
        assert_eq!(shell_word(r"a\ b c"), (4, "a b".to_owned()));
        assert_eq!(shell_word("'open"), (5, "open".to_owned()));
        assert_eq!(shell_word("é\\"), (3, "é\\".to_owned()));
    }

    #[test]
    fn quoted_headers_and_values_are_filtered_whole() {
        assert_eq!(
            script("curl -H 'Authorization: Bearer S5' https://a.test/"),
            "curl -H 'Authorization: [Filtered]' https://a.test/"
        );
        assert_eq!(
            script(r#"curl -H "Authorization: Bearer $TOKEN" -H 'Accept: a/b' x"#),
            "curl -H 'Authorization: [Filtered]' -H 'Accept: a/b' x"
        );
        assert_eq!(
            script(r#"export API_TOKEN="S11 more"; run --token 'a b' --x 'y z'"#),
            "export API_TOKEN=[Filtered]; run --token [Filtered] --x 'y z'"
        );
        assert_eq!(
            script("curl https://a.test/?x=1&token=S&y=2"),
            "curl https://a.test/?x=1&token=[Filtered]&y=2"
        );
    }

    #[test]
    fn nested_scripts_are_redacted_too() {
        assert_eq!(
            script(r#"ssh h "mysql -uroot -pS1 -e 'select 1'""#),
            "ssh h 'mysql -uroot -p[Filtered] -e '\\''select 1'\\'''"
        );
        // Too deep to read: filtered whole.
        let mut deep = "--password=x".to_owned();
        for _ in 0..12 {
            deep = format!("sh -c {}", quote(&deep));
        }
        assert!(!script(&deep).contains("password=x"));
    }

    #[test]
    fn scripts_without_secrets_are_kept_as_written() {
        let text = r#"cd "$HOME" && echo 'it''s' \"ok\" | grep -c x; ssh -p 22 h"#;
        assert_eq!(script(text), text);
    }
}
