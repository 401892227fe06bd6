//! `crumbtrail-devserver`: run a local Sentry-compatible collector and print what arrives.
//!
//! ```text
//! cargo run -p crumbtrail-devserver -- [--port N] [--data-dir PATH] [--quiet]
//! ```
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use crumbtrail_devserver::{DevServer, DevServerConfig};

/// The port the binary listens on unless told otherwise (fixed, so the DSN stays the same
/// across restarts).
const DEFAULT_PORT: u16 = 8989;

const USAGE: &str = "\
usage: crumbtrail-devserver [--port N] [--data-dir PATH] [--quiet]
                            [--project-id ID] [--public-key KEY]

  --port N          listen on 127.0.0.1:N (default 8989; 0 = any free port)
  --data-dir PATH   keep envelopes in PATH/envelopes.log so they survive a restart
  --quiet           do not print arriving events
  --project-id ID   the project id to serve (default 1)
  --public-key KEY  the public key to accept (default devkey)
  -h, --help        show this help";

/// What the command line asked for.
#[derive(Debug, PartialEq)]
enum Command {
    Run(DevServerConfig),
    Help,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut config = DevServerConfig::default()
        .with_port(DEFAULT_PORT)
        .with_print_events(true);
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--quiet" | "-q" => config.print_events = false,
            "--port" | "-p" => {
                let v = value("--port")?;
                config.port = v
                    .parse()
                    .map_err(|_| format!("--port must be a number from 0 to 65535, got {v:?}"))?;
            }
            "--data-dir" => config.data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "--project-id" => config.project_id = value("--project-id")?,
            "--public-key" => config.public_key = value("--public-key")?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Command::Run(config))
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("crumbtrail-devserver: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let server = match DevServer::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("crumbtrail-devserver: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stored = match &server.config().data_dir {
        Some(dir) => format!(
            "{} ({} envelopes loaded)",
            dir.display(),
            server.envelopes().len()
        ),
        None => "none (in memory only; use --data-dir to keep envelopes)".to_owned(),
    };
    println!(
        "crumbtrail devserver listening on {url}\n\n    export SENTRY_DSN={dsn}\n\n\
         web view:  {url}\nJSON API:  {url}api/0/events\ndata dir:  {stored}\n\
         Press Ctrl-C to stop.\n",
        url = server.url(),
        dsn = server.dsn(),
    );
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("crumbtrail-devserver: cannot listen for Ctrl-C ({e}); stopping");
    }
    println!("\nshutting down...");
    server.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_every_option() {
        let Ok(Command::Run(c)) = parse_args(args(
            "--port 9000 --data-dir /tmp/x --quiet --project-id 7 --public-key=abc",
        )) else {
            panic!("expected a config");
        };
        assert_eq!(c.port, 9000);
        assert_eq!(c.data_dir, Some(PathBuf::from("/tmp/x")));
        assert!(!c.print_events);
        assert_eq!((c.project_id.as_str(), c.public_key.as_str()), ("7", "abc"));

        let Ok(Command::Run(c)) = parse_args(args("--port=0")) else {
            panic!("expected a config");
        };
        assert!(c.print_events);
        assert_eq!(c.port, 0);
        let Ok(Command::Run(c)) = parse_args(args("")) else {
            panic!("expected a config");
        };
        assert_eq!(c.port, DEFAULT_PORT);
        assert_eq!(parse_args(args("-h")), Ok(Command::Help));
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        assert!(
            parse_args(args("--port"))
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(
            parse_args(args("--port x"))
                .unwrap_err()
                .contains("0 to 65535")
        );
        assert!(
            parse_args(args("--bogus"))
                .unwrap_err()
                .contains("unknown argument")
        );
    }
}
