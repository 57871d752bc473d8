//! CONFIG GET / SET / RESETSTAT / REWRITE / HELP over [`super::config::Config`].

use super::commands::ServerSpec;
use super::connection::Session;
use crate::commands::{Command, help};
use crate::resp::Reply;
use bytes::Bytes;
use std::collections::BTreeMap;

/// The CONFIG subcommands.
pub const COMMANDS: &[ServerSpec] = &[
    ServerSpec::now("config|get", config),
    ServerSpec::now("config|set", config),
    ServerSpec::now("config|resetstat", config),
    ServerSpec::now("config|rewrite", config),
    ServerSpec::now("config|help", config),
];

/// Runs a CONFIG subcommand.
fn config(s: &mut Session, cmd: &'static Command, args: &[Bytes]) -> Option<Reply> {
    Some(run(s, cmd.name.strip_prefix("config|").unwrap_or_default(), args))
}

/// Runs `config|<sub>`.
fn run(s: &mut Session, sub: &str, args: &[Bytes]) -> Reply {
    let config = &s.server.config;
    match sub {
        "get" => {
            // Each name once, even when several patterns match it.
            let mut found: BTreeMap<Vec<u8>, String> = BTreeMap::new();
            for pattern in &args[2..] {
                for (name, value) in config.matching(pattern) {
                    let lower = name.to_ascii_lowercase();
                    if !found.keys().any(|k| k.eq_ignore_ascii_case(&lower)) {
                        // The store's URL may hold a password: never shown.
                        let value = if lower == b"db" {
                            crate::util::redact_url(&value)
                        } else {
                            value
                        };
                        found.insert(name, value);
                    }
                }
            }
            Reply::Map(
                found
                    .into_iter()
                    .map(|(k, v)| (Reply::Bulk(k.into()), Reply::Bulk(v.into())))
                    .collect(),
            )
        }
        "set" => {
            if !args.len().is_multiple_of(2) {
                return Reply::error(crate::commands::SYNTAX);
            }
            let pairs: Vec<(String, String)> = args[2..]
                .chunks(2)
                .map(|p| {
                    (
                        String::from_utf8_lossy(&p[0]).into_owned(),
                        String::from_utf8_lossy(&p[1]).into_owned(),
                    )
                })
                .collect();
            match config.set_many(&pairs) {
                Ok(()) => {
                    // `requirepass` is the default user's password.
                    if pairs.iter().any(|(k, _)| k.eq_ignore_ascii_case("requirepass")) {
                        s.server.acl.apply_requirepass(config);
                    }
                    s.server.engine.set_keyspace_events(config.keyspace_events());
                    Reply::ok()
                }
                Err(e) => Reply::error(format!("ERR {e}")),
            }
        }
        "resetstat" => {
            s.server.stats.reset();
            s.server.engine.reset_stats();
            Reply::ok()
        }
        "rewrite" => match config.rewrite() {
            Ok(()) => Reply::ok(),
            Err(e) => Reply::error(format!("ERR {e}")),
        },
        "help" => help(
            "CONFIG",
            &[
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>",
                "    Set the configuration <directive> to <value>.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "REWRITE",
                "    Rewrite the configuration file.",
            ],
        ),
        other => Reply::error(format!("ERR unknown subcommand '{other}'. Try CONFIG HELP.")),
    }
}
