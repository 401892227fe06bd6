//! Property tests: valid DSNs round-trip through `Display`, arbitrary input never panics, and
//! no error ever shows the secret key.

use proptest::prelude::*;

use super::*;

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec("[a-z][a-z0-9]{0,10}", 1..4).prop_map(|labels| labels.join(".")),
        (0u64..100_000, prop::option::of("[a-z]{2}")).prop_map(|(org, region)| match region {
            Some(r) => format!("o{org}.ingest.{r}.sentry.io"),
            None => format!("o{org}.ingest.sentry.io"),
        }),
        (1u8..=254, any::<u8>(), any::<u8>(), 1u8..=254)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        (1u16..=0xffff).prop_map(|n| format!("[2001:db8::{n:x}]")),
        Just("[::1]".to_owned()),
    ]
}

#[derive(Debug, Clone)]
struct Parts {
    https: bool,
    key: String,
    secret: Option<String>,
    host: String,
    port: Option<u16>,
    prefix: Vec<String>,
    project: String,
}

impl Parts {
    fn to_dsn_string(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        let secret = self
            .secret
            .as_ref()
            .map(|s| format!(":{s}"))
            .unwrap_or_default();
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        let prefix: String = self.prefix.iter().map(|s| format!("/{s}")).collect();
        format!(
            "{scheme}://{}{secret}@{}{port}{prefix}/{}",
            self.key, self.host, self.project
        )
    }
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        any::<bool>(),
        "[a-z0-9]{1,32}",
        prop::option::of("[a-z0-9]{0,32}"),
        host(),
        prop::option::of(any::<u16>()),
        prop::collection::vec("[a-zA-Z0-9_~-]{1,8}", 0..4),
        "[0-9]{1,12}",
    )
        .prop_map(|(https, key, secret, host, port, prefix, project)| Parts {
            https,
            key,
            secret,
            host,
            port,
            prefix,
            project,
        })
}

proptest! {
    #[test]
    fn valid_parts_parse_and_round_trip(p in parts(), slash in any::<bool>(), query in any::<bool>()) {
        let mut text = p.to_dsn_string();
        if slash {
            text.push('/');
        }
        if query {
            text.push_str("?a=b#c");
        }
        let dsn: Dsn = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;

        let scheme = if p.https { Scheme::Https } else { Scheme::Http };
        prop_assert_eq!(dsn.scheme(), scheme);
        prop_assert_eq!(dsn.public_key(), p.key.as_str());
        prop_assert_eq!(dsn.secret_key(), p.secret.as_deref().filter(|s| !s.is_empty()));
        prop_assert_eq!(dsn.host(), p.host.as_str());
        let explicit = p.port.filter(|&port| port != scheme.default_port());
        prop_assert_eq!(dsn.explicit_port(), explicit);
        prop_assert_eq!(dsn.port(), p.port.unwrap_or(scheme.default_port()));
        let prefix: String = p.prefix.iter().map(|s| format!("/{s}")).collect();
        prop_assert_eq!(dsn.path_prefix(), format!("{prefix}/"));
        prop_assert_eq!(dsn.project_id(), p.project.as_str());

        let again: Dsn = dsn.to_string().parse().unwrap();
        prop_assert_eq!(&again, &dsn);
        prop_assert_eq!(again.to_string(), dsn.to_string());
        prop_assert!(dsn.envelope_url().starts_with(&dsn.base_url()));
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        if let Ok(dsn) = s.parse::<Dsn>() {
            prop_assert_eq!(dsn.to_string().parse::<Dsn>().unwrap(), dsn);
        }
    }

    #[test]
    fn dsn_like_strings_never_panic_and_round_trip(
        s in "(https?://|ftp:|//)?[a-z0-9:@/.%\\[\\]?#\\\\ -]{0,40}"
    ) {
        let _ = Dsn::parse_optional(&s);
        if let Ok(dsn) = s.parse::<Dsn>() {
            prop_assert_eq!(dsn.to_string().parse::<Dsn>().unwrap(), dsn);
        }
    }

    #[test]
    fn errors_never_show_the_secret(
        p in parts(),
        secret in "zq[0-9]{8}",
        breakage in 0usize..5,
    ) {
        let p = Parts { secret: Some(secret.clone()), port: None, ..p };
        let text = p.to_dsn_string();
        let text = match breakage {
            0 => format!("{text}x"),
            1 => text.replacen(&format!("//{}:", p.key), "//:", 1),
            2 => text.replacen("http", "ftp", 1),
            3 => text.replacen(&format!("@{}", p.host), &format!("@{}:99999", p.host), 1),
            // No scheme at all. (Dropping the whole "://" was not always a break: with a key
            // starting with `s`, "http" + "s:secret@host" reads as a valid https DSN.)
            _ => text.replacen("://", "//", 1),
        };
        let e = text.parse::<Dsn>().expect_err(&text);
        prop_assert!(!e.to_string().contains(&secret), "{}", e);
        prop_assert!(!format!("{e:?}").contains(&secret), "{:?}", e);
    }
}
