//! ACL: the parts of Redis's access control lists redsql has. Every client is
//! the `default` user (all commands, all keys; `requirepass` is its
//! password), so `ACL WHOAMI`, `ACL USERS` and `ACL CAT` are implemented; user
//! management (SETUSER, DELUSER, GETUSER, LIST) is not yet, and answers Redis's
//! unknown-subcommand error.

use super::connection::Session;
use crate::commands::Command;
use crate::commands::table::{bytes_of, table};
use crate::resp::Reply;
use bytes::Bytes;

/// Redis 7.0's command categories, in `ACL CAT`'s order.
const CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// `ACL <sub>`; `sub` is the lowercase subcommand.
pub fn run(s: &Session, sub: &str, args: &[Bytes]) -> Reply {
    match sub {
        "whoami" => Reply::Bulk(Bytes::from(s.client.user.lock().unwrap().clone())),
        "users" => Reply::Array(vec![Reply::Bulk(Bytes::from_static(b"default"))]),
        _ => cat(args),
    }
}

/// `ACL CAT [category]`: the categories, or the commands (and subcommands, as
/// `parent|sub`) of one, in no particular order (as Redis).
fn cat(args: &[Bytes]) -> Reply {
    match args.len() {
        2 => Reply::Array(
            CATEGORIES
                .iter()
                .map(|c| Reply::Bulk(Bytes::from_static(c.as_bytes())))
                .collect(),
        ),
        3 => {
            let wanted = String::from_utf8_lossy(&args[2]).to_ascii_lowercase();
            if !CATEGORIES.contains(&wanted.as_str()) {
                let mut msg = b"ERR Unknown category '".to_vec();
                msg.extend_from_slice(&args[2]);
                msg.push(b'\'');
                return Reply::Error(msg.into());
            }
            let mut names = Vec::new();
            for cmd in table().iter() {
                for c in std::iter::once(cmd).chain(cmd.subcommands.values()) {
                    if in_category(c, &wanted) {
                        names.push(Reply::Bulk(Bytes::from(c.name.clone())));
                    }
                }
            }
            Reply::Array(names)
        }
        _ => {
            let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
            msg.extend_from_slice(&args[1]);
            msg.extend_from_slice(b"'. Try ACL HELP.");
            Reply::Error(msg.into())
        }
    }
}

/// Whether `cmd` is in the ACL category `name` (its `COMMAND INFO` entry
/// lists the categories as `@name`).
fn in_category(cmd: &Command, name: &str) -> bool {
    let Reply::Array(info) = &cmd.info else {
        return false;
    };
    let Some(Reply::Array(cats) | Reply::Set(cats)) = info.get(6) else {
        return false;
    };
    cats.iter()
        .filter_map(bytes_of)
        .any(|c| c.strip_prefix(b"@") == Some(name.as_bytes()))
}
