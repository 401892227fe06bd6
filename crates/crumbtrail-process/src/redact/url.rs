//! Secrets in URLs: the user info (`https://user:password@host`) and the values of secret
//! query parameters (`?access_token=…`, `&client_secret=…`, `&sig=…`), also in form data
//! (`a=1&password=…`) and fragments (`#access_token=…`). Other parameters are kept: they are
//! what makes a request recognisable.

use std::borrow::Cow;

use crumbtrail_core::{EventScrubber, FILTERED};

use super::{is_key, is_sensitive};

/// `text` with its URLs' user info and secret parameter values filtered.
pub(super) fn redact_urls<'a>(text: &'a str, scrubber: &EventScrubber) -> Cow<'a, str> {
    match redact_userinfo(text) {
        Cow::Borrowed(text) => redact_params(text, scrubber),
        Cow::Owned(text) => Cow::Owned(redact_params(&text, scrubber).into_owned()),
    }
}

/// Replaces the user info of every `scheme://user:password@host` in `text`:
/// `[Filtered]:[Filtered]@host`, or `[Filtered]@host` for a user alone (often a token).
fn redact_userinfo(text: &str) -> Cow<'_, str> {
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

/// Parts of a parameter name (between `_`, `-` and `.`) that make it secret on top of
/// [`is_sensitive`]: API keys (`?key=`, Google's) and signatures (`sig=`, Azure SAS;
/// `X-Amz-Signature=`, S3 presigned URLs).
const SECRET_PARAM_PARTS: &[&str] = &["key", "sig", "signature"];

/// Whether the value of the parameter `name` is filtered.
fn is_secret_param(name: &str, scrubber: &EventScrubber) -> bool {
    is_sensitive(name, scrubber)
        || name.split(['_', '-', '.']).any(|part| {
            SECRET_PARAM_PARTS
                .iter()
                .any(|p| part.eq_ignore_ascii_case(p))
        })
}

/// Filters the value of every `?name=value`, `&name=value` and `#name=value` whose name is
/// secret. A value ends at the next `&` or `#`; an empty one stays.
fn redact_params<'a>(text: &'a str, scrubber: &EventScrubber) -> Cow<'a, str> {
    let mut out = String::new();
    // `text[..done]` is in `out`.
    let mut done = 0;
    for (i, _) in text.match_indices(['?', '&', '#']) {
        if i < done {
            continue;
        }
        let Some((name, after)) = text[i + 1..].split_once('=') else {
            break;
        };
        let len = after.find(['&', '#']).unwrap_or(after.len());
        if len == 0 || !is_key(name) || !is_secret_param(name, scrubber) {
            continue;
        }
        let start = text.len() - after.len();
        out.push_str(&text[done..start]);
        out.push_str(FILTERED);
        done = start + len;
    }
    if done == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[done..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(text: &str) -> String {
        redact_urls(text, &EventScrubber::default()).into_owned()
    }

    #[test]
    fn user_info_is_filtered() {
        assert_eq!(
            urls("https://u:p@a.test/x?y=1"),
            "https://[Filtered]:[Filtered]@a.test/x?y=1"
        );
        assert_eq!(urls("ssh://ghp_tok@h.test/r"), "ssh://[Filtered]@h.test/r");
        assert_eq!(urls("https://a.test/@x"), "https://a.test/@x");
    }

    #[test]
    fn secret_query_parameters_lose_their_value() {
        assert_eq!(
            urls("https://api.test/v1?access_token=S6&x=1"),
            "https://api.test/v1?access_token=[Filtered]&x=1"
        );
        assert_eq!(
            urls("https://u:p@a.test/?a=1&api_key=S&key=S&sig=S&X-Amz-Signature=S#top"),
            "https://[Filtered]:[Filtered]@a.test/?a=1&api_key=[Filtered]&key=[Filtered]\
             &sig=[Filtered]&X-Amz-Signature=[Filtered]#top"
        );
        assert_eq!(
            urls("https://a.test/cb#access_token=S&expires_in=60"),
            "https://a.test/cb#access_token=[Filtered]&expires_in=60"
        );
        // Form data and URLs without a scheme.
        assert_eq!(
            urls("grant_type=x&client_secret=S&password=S"),
            "grant_type=x&client_secret=[Filtered]&password=[Filtered]"
        );
        assert_eq!(urls("api.test/?token=S?x"), "api.test/?token=[Filtered]");
    }

    #[test]
    fn other_query_parameters_stay() {
        for text in [
            "https://a.test/search?q=token&page=2&keyword=x&design=1&monkey=2",
            "https://a.test/?token=&x=1",
            "https://a.test/?a&b",
            "a&b=c",
            "x?y",
        ] {
            assert_eq!(urls(text), text);
        }
    }
}
