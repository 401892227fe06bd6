//! Hiding the secret key of a DSN before it goes into an error message.

use url::{Position, Url};

/// What a secret key is replaced with.
pub(super) const REDACTED: &str = "[redacted]";

/// Removes what the URL parser ignores anyway: surrounding C0 controls and spaces, and ASCII
/// tabs and newlines anywhere.
pub(super) fn clean(input: &str) -> String {
    input
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect()
}

/// The DSN to show for a URL that parsed: the URL's own serialization with the password
/// replaced when it has one; the input as written when it is an http(s) URL without one.
/// Other schemes read the text differently (`pk:sk@host/1` has the scheme `pk`), so their
/// input gets the cautious [`redact_unparsed`] treatment.
pub(super) fn redact_parsed(input: &str, url: &Url) -> String {
    if url.password().is_none() {
        return match url.scheme() {
            "http" | "https" => clean(input),
            _ => redact_unparsed(input),
        };
    }
    format!(
        "{}{REDACTED}{}",
        &url[..Position::BeforePassword],
        &url[Position::AfterPassword..]
    )
}

/// The DSN to show for an input the URL parser refused. Errs on the side of hiding too much:
/// everything between the first `:` of the user-info part and the last `@` before the query
/// goes, so no spelling of a password survives.
pub(super) fn redact_unparsed(input: &str) -> String {
    let s = clean(input);
    let start = s.find("://").map_or(0, |i| i + 3);
    let end = s[start..].find(['?', '#']).map_or(s.len(), |i| start + i);
    let Some(at) = s[start..end].rfind('@').map(|i| start + i) else {
        return s;
    };
    match s[start..at].find(':').map(|i| start + i) {
        Some(colon) if colon + 1 < at => format!("{}{REDACTED}{}", &s[..=colon], &s[at..]),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsed_urls_hide_only_the_password() {
        let url = Url::parse("https://pk:sk@host/abc").unwrap();
        assert_eq!(
            redact_parsed("https://pk:sk@host/abc", &url),
            "https://pk:[redacted]@host/abc"
        );
        let url = Url::parse(" https://pk@host/abc\n").unwrap();
        assert_eq!(
            redact_parsed(" https://pk@host/abc\n", &url),
            "https://pk@host/abc"
        );
        let url = Url::parse("pk:sk@host/1").unwrap();
        assert_eq!(redact_parsed("pk:sk@host/1", &url), "pk:[redacted]@host/1");
    }

    #[test]
    fn unparsed_inputs_hide_anything_that_may_be_a_password() {
        let cases = [
            (
                "https://pk:sk@host:99999/1",
                "https://pk:[redacted]@host:99999/1",
            ),
            ("pk:sk@host/1", "pk:[redacted]@host/1"),
            ("https:pk:sk@host:99999/1", "https:[redacted]@host:99999/1"),
            (
                "https://pk:s/k@host:99999/1",
                "https://pk:[redacted]@host:99999/1",
            ),
            (
                "https://pk:s@k@host:99999/1",
                "https://pk:[redacted]@host:99999/1",
            ),
            (
                "https://pk:s\tk@host:99999/1",
                "https://pk:[redacted]@host:99999/1",
            ),
            ("https://pk:@host:99999/1", "https://pk:@host:99999/1"),
            ("pk@host/1", "pk@host/1"),
            (
                "https://pk@host:99999/1?x=a:b@c",
                "https://pk@host:99999/1?x=a:b@c",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact_unparsed(input), want, "{input}");
        }
    }
}
