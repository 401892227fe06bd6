//! Short flags that carry a password only for some programs: `mysql -pSECRET`,
//! `sshpass -p SECRET`, `curl -u name:SECRET`.
//!
//! Elsewhere `-p` is a port (`ssh -p 22`, `psql -p 5432`, `docker run -p 80:80`) and `-u` a
//! user, a uid or "update" (`rsync -u`), so these rules apply only after a word that names the
//! program (the program itself, `docker exec db mysql …`, `sh -c 'sshpass …'`), up to the next
//! `;`, `|` or `&`.

use crumbtrail_core::FILTERED;

use super::{Next, State, user_password};

/// A program whose short flags carry passwords.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Tool {
    /// The MySQL and MariaDB clients: `-pSECRET`. A bare `-p` prompts for the password, and
    /// the argument after it is the database, so it stays.
    MySql,
    /// `-p SECRET` or `-pSECRET`, once: the command it runs (`ssh -p 22`) comes after.
    SshPass,
    /// `-u` / `-U` (proxy) `name:SECRET`, also attached (`-uname:SECRET`).
    Curl,
}

/// The MySQL client programs (MariaDB's are `mariadb` and `mariadb-*`).
const MYSQL_PROGRAMS: &[&str] = &[
    "mysql",
    "mysqldump",
    "mysqladmin",
    "mysqlimport",
    "mysqlshow",
    "mysqlcheck",
    "mysqlpump",
    "mysqlslap",
    "mysqlsh",
];

impl Tool {
    /// The tool `word` names, as a path or a bare name (`/usr/bin/mysql`, `curl.exe`).
    fn named(word: &str) -> Option<Tool> {
        // A drive (`C:\…`) is fine; any other `:` or `=` is not a program (`mysql:8`).
        let path = match word.as_bytes() {
            [drive, b':', b'\\' | b'/', ..] if drive.is_ascii_alphabetic() => &word[2..],
            _ => word,
        };
        if path.contains([':', '=']) {
            return None;
        }
        let name = word.rsplit(['/', '\\']).next()?.to_ascii_lowercase();
        let name = name.strip_suffix(".exe").unwrap_or(&name);
        match name {
            "sshpass" => Some(Tool::SshPass),
            "curl" => Some(Tool::Curl),
            "mariadb" => Some(Tool::MySql),
            _ if name.starts_with("mariadb-") || MYSQL_PROGRAMS.contains(&name) => {
                Some(Tool::MySql)
            }
            _ => None,
        }
    }
}

/// Notes which program the words after `word` belong to: the one it names, none after a
/// command separator, else the same.
pub(super) fn track(word: &str, tool: &mut Option<Tool>) {
    let separator = !word.is_empty() && word.chars().all(|c| matches!(c, ';' | '|' | '&'));
    if separator || word.ends_with(';') {
        *tool = None;
    } else if let Some(named) = Tool::named(word) {
        *tool = Some(named);
    }
}

/// `arg` redacted when it is a password flag of the current program; `None` otherwise. A
/// flag whose value comes next is returned as is and sets [`State::next`].
pub(super) fn redact(arg: &str, st: &mut State<'_>) -> Option<String> {
    match st.tool? {
        tool @ (Tool::MySql | Tool::SshPass) => {
            let password = arg.strip_prefix("-p")?;
            if password.is_empty() && tool == Tool::MySql {
                return None;
            }
            if tool == Tool::SshPass {
                st.tool = None;
            }
            if password.is_empty() {
                st.next = Next::Secret;
                return Some(arg.to_owned());
            }
            Some(format!("-p{FILTERED}"))
        }
        Tool::Curl => {
            if arg == "-u" || arg == "-U" {
                st.next = Next::UserPassword;
                return Some(arg.to_owned());
            }
            let user = arg.strip_prefix("-u").or_else(|| arg.strip_prefix("-U"))?;
            user_password(user).map(|redacted| format!("{}{redacted}", &arg[..2]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::redact_args;
    use super::*;
    use crumbtrail_core::EventScrubber;
    use std::ffi::OsString;

    fn redact(program: &str, args: &[&str]) -> Vec<String> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        redact_args(program, &args, &EventScrubber::default())
    }

    #[test]
    fn programs_are_named_by_path_or_name() {
        assert_eq!(Tool::named("/usr/bin/mysql"), Some(Tool::MySql));
        assert_eq!(Tool::named("MySQLDump.exe"), Some(Tool::MySql));
        assert_eq!(Tool::named("mariadb-dump"), Some(Tool::MySql));
        assert_eq!(Tool::named(r"C:\bin\curl.exe"), Some(Tool::Curl));
        assert_eq!(Tool::named("sshpass"), Some(Tool::SshPass));
        assert_eq!(Tool::named("mysql:8"), None);
        assert_eq!(Tool::named("data:/var/lib/mysql"), None);
        assert_eq!(Tool::named("mysqld"), None);
        assert_eq!(Tool::named("psql"), None);
    }

    #[test]
    fn mysql_attached_password() {
        assert_eq!(
            redact("mysql", &["-uroot", "-pS7", "db"]),
            ["-uroot", "-p[Filtered]", "db"]
        );
        assert_eq!(
            redact("/usr/bin/mariadb-dump", &["-pS", "--port", "3306"]),
            ["-p[Filtered]", "--port", "3306"]
        );
        // `-p db` prompts for the password: `db` is the database.
        assert_eq!(
            redact("mysql", &["-u", "root", "-p", "db"]),
            ["-u", "root", "-p", "db"]
        );
        assert_eq!(
            redact("docker", &["exec", "c", "mysql", "-pS", "-e", "select 1"]),
            ["exec", "c", "mysql", "-p[Filtered]", "-e", "select 1"]
        );
    }

    #[test]
    fn sshpass_password_once() {
        assert_eq!(
            redact("sshpass", &["-p", "S", "ssh", "-p", "22", "h"]),
            ["-p", "[Filtered]", "ssh", "-p", "22", "h"]
        );
        assert_eq!(
            redact("sshpass", &["-pS", "ssh", "-p", "22", "h"]),
            ["-p[Filtered]", "ssh", "-p", "22", "h"]
        );
    }

    #[test]
    fn curl_user_password() {
        assert_eq!(
            redact("curl", &["-u", "admin:S1", "-U", "p:S2", "https://a.test/"]),
            [
                "-u",
                "admin:[Filtered]",
                "-U",
                "p:[Filtered]",
                "https://a.test/"
            ]
        );
        assert_eq!(
            redact("curl", &["-uadmin:S", "-u", "admin"]),
            ["-uadmin:[Filtered]", "-u", "admin"]
        );
    }

    #[test]
    fn other_programs_keep_their_short_flags() {
        let args = ["-p", "2222", "-p2222", "-u", "a:b", "-ua:b"];
        for program in ["ssh", "psql", "true", "rsync"] {
            assert_eq!(redact(program, &args), args, "{program}");
        }
        assert_eq!(
            redact(
                "docker",
                &["run", "-p", "3306:3306", "-u", "1000:1000", "mysql:8"]
            ),
            ["run", "-p", "3306:3306", "-u", "1000:1000", "mysql:8"]
        );
    }

    #[test]
    fn a_separator_ends_the_program() {
        assert_eq!(
            redact(
                "sh",
                &[
                    "-c",
                    "mysql -pS1 db; psql -p5432 && curl -u a:S2 x | ssh -p22 h"
                ]
            ),
            [
                "-c",
                "mysql -p[Filtered] db; psql -p5432 && curl -u a:[Filtered] x | ssh -p22 h"
            ]
        );
        assert_eq!(
            redact("find", &["-exec", "mysql", "{}", ";", "-p1"]),
            ["-exec", "mysql", "{}", ";", "-p1"]
        );
    }
}
