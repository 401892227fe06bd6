//! The HTTP transport's settings: timeouts, proxies, and the `reqwest::Client` built from them.

use std::time::Duration;

use crumbtrail_protocol::{Dsn, Scheme};

use crate::options::ClientOptions;

/// The default [`ClientOptions::connect_timeout`]: 5 s to open the TCP (and TLS) connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The default [`ClientOptions::request_timeout`]: 30 s for a whole request, from connecting
/// to the end of the response (PROTOCOL.md §2.3).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Which proxy the transport's own `reqwest::Client` uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProxyChoice<'a> {
    /// No option set: reqwest reads `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY`.
    Env,
    /// An empty option: no proxy at all, whatever the environment says.
    Direct,
    /// This proxy, for every request (the environment is ignored).
    Url(&'a str),
}

/// The proxy for a DSN of `scheme`: `http_proxy` for http; for https, `https_proxy`, else
/// `http_proxy` (Sentry's unified API: "also used for HTTPS unless `https_proxy` is set").
pub(crate) fn proxy_choice<'a>(
    scheme: Scheme,
    http_proxy: Option<&'a str>,
    https_proxy: Option<&'a str>,
) -> ProxyChoice<'a> {
    let chosen = match scheme {
        Scheme::Http => http_proxy,
        Scheme::Https => https_proxy.or(http_proxy),
    };
    match chosen.map(str::trim) {
        None => ProxyChoice::Env,
        Some("") => ProxyChoice::Direct,
        Some(url) => ProxyChoice::Url(url),
    }
}

/// The `reqwest::Client` the transport sends with: the user's own when given, otherwise one
/// built from the options (HTTP/1.1, rustls, no redirects followed).
pub(crate) fn build_client(
    dsn: &Dsn,
    options: &ClientOptions,
    user_agent: &str,
) -> Result<reqwest::Client, String> {
    if let Some(client) = &options.reqwest_client {
        return Ok(client.clone());
    }
    let mut builder = reqwest::Client::builder()
        .user_agent(user_agent)
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        // A redirect is an unexpected answer (PROTOCOL.md §11: `send_error`); following it
        // would turn the POST into a GET and report the wrong status.
        .redirect(reqwest::redirect::Policy::none());
    match proxy_choice(
        dsn.scheme(),
        options.http_proxy.as_deref(),
        options.https_proxy.as_deref(),
    ) {
        ProxyChoice::Env => {}
        ProxyChoice::Direct => builder = builder.no_proxy(),
        ProxyChoice::Url(url) => {
            let proxy = reqwest::Proxy::all(url)
                .map_err(|e| format!("invalid proxy URL {:?}: {e}", redact_userinfo(url)))?;
            builder = builder.proxy(proxy);
        }
    }
    builder.build().map_err(|e| e.to_string())
}

/// A proxy URL fit for an error message: any `user:password@` replaced.
fn redact_userinfo(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    match url[after_scheme..authority_end].rfind('@') {
        Some(at) => format!(
            "{}[redacted]@{}",
            &url[..after_scheme],
            &url[after_scheme + at + 1..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_follows_the_dsn_scheme_and_https_falls_back_to_http_proxy() {
        use ProxyChoice::*;
        let (h, s) = (Some("http://h:1"), Some("http://s:2"));
        assert_eq!(proxy_choice(Scheme::Http, None, None), Env);
        assert_eq!(proxy_choice(Scheme::Http, h, s), Url("http://h:1"));
        assert_eq!(proxy_choice(Scheme::Http, None, s), Env);
        assert_eq!(proxy_choice(Scheme::Https, h, s), Url("http://s:2"));
        assert_eq!(proxy_choice(Scheme::Https, h, None), Url("http://h:1"));
        assert_eq!(proxy_choice(Scheme::Https, None, None), Env);
        assert_eq!(proxy_choice(Scheme::Https, h, Some(" ")), Direct);
        assert_eq!(proxy_choice(Scheme::Http, Some(""), None), Direct);
    }

    #[test]
    fn proxy_credentials_never_reach_an_error_message() {
        assert_eq!(
            redact_userinfo("http://user:pw@proxy:3128/x"),
            "http://[redacted]@proxy:3128/x"
        );
        assert_eq!(redact_userinfo("u:p@proxy:3128"), "[redacted]@proxy:3128");
        assert_eq!(redact_userinfo("http://proxy:3128"), "http://proxy:3128");
    }
}
