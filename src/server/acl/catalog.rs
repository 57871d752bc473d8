//! The command universe ACL rules are written against: every command and
//! subcommand Redis 7.0 has (from its `COMMAND INFO`, captured in
//! `redis-commands.resp`), with its ACL categories. Rules may name commands
//! redsql does not implement (`+xadd` is valid, as a configuration written
//! for Redis must load), and the category arithmetic behind `ACL GETUSER`'s
//! `commands` string counts the same commands Redis counts, so the
//! descriptions match Redis's.
//!
//! Each command has an id: a bit in a selector's [`Bits`]. One more bit,
//! [`FUTURE`], is set only by `+@all`: it records that the selector started
//! from everything (Redis's "future commands" bit).

use crate::commands::table::{DATA, bytes_of};
use crate::resp::{Reply, value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Redis 7.0's command categories, in `ACL CAT`'s order (bit `i` of a
/// command's category mask is `CATEGORIES[i]`).
pub const CATEGORIES: &[&str] = &[
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

/// Words in a command bitmap: room for Redis's commands and subcommands.
const WORDS: usize = 16;
/// The reserved "future commands" bit.
pub const FUTURE: usize = WORDS * 64 - 1;

/// A set of command ids.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Bits([u64; WORDS]);

impl Bits {
    pub fn all() -> Bits {
        Bits([u64::MAX; WORDS])
    }

    pub fn get(&self, id: usize) -> bool {
        self.0[id / 64] & (1 << (id % 64)) != 0
    }

    pub fn set(&mut self, id: usize, on: bool) {
        if on {
            self.0[id / 64] |= 1 << (id % 64);
        } else {
            self.0[id / 64] &= !(1 << (id % 64));
        }
    }
}

/// One command or subcommand of Redis's table.
pub struct Entry {
    pub id: usize,
    /// Lowercase full name: `get`, `client|list`.
    pub name: String,
    /// Bit mask over [`CATEGORIES`].
    pub categories: u32,
    /// Whether this is a subcommand.
    pub is_sub: bool,
    /// Ids of the subcommands (for a container command).
    pub subs: Vec<usize>,
}

/// All of Redis's commands, in name order (subcommands after their parent).
pub struct Catalog {
    pub entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
}

impl Catalog {
    /// A command or subcommand by its case-insensitive full name.
    pub fn lookup(&self, name: &[u8]) -> Option<&Entry> {
        // Names from the command table are already lowercase: no allocation then.
        let exact = std::str::from_utf8(name).ok().and_then(|n| self.by_name.get(n));
        let id = match exact {
            Some(&id) => id,
            None => *self.by_name.get(&String::from_utf8_lossy(name).to_ascii_lowercase())?,
        };
        Some(&self.entries[id])
    }

    /// The top-level commands, in name order.
    pub fn top_level(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| !e.is_sub)
    }
}

/// The index of a category name (case-insensitive), as a mask bit.
pub fn category(name: &[u8]) -> Option<u32> {
    CATEGORIES
        .iter()
        .position(|c| c.as_bytes().eq_ignore_ascii_case(name))
        .map(|i| 1 << i)
}

/// The catalog, built on first use from Redis's metadata.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(build)
}

fn build() -> Catalog {
    let parsed = match value::parse(DATA) {
        Some((Reply::Array(infos), _)) => infos,
        _ => Vec::new(),
    };
    let mut infos: Vec<&Reply> = parsed.iter().collect();
    infos.sort_by_key(|i| name_of(i));
    let mut catalog = Catalog {
        entries: Vec::new(),
        by_name: HashMap::new(),
    };
    for info in infos {
        let id = add(&mut catalog, info, false);
        let mut subs: Vec<&Reply> = fields(info)
            .get(9)
            .map(|s| list(s).iter().collect())
            .unwrap_or_default();
        subs.sort_by_key(|s| name_of(s));
        for sub in subs {
            let sub_id = add(&mut catalog, sub, true);
            catalog.entries[id].subs.push(sub_id);
        }
    }
    assert!(catalog.entries.len() < FUTURE, "command bitmap too small");
    catalog
}

fn add(catalog: &mut Catalog, info: &Reply, is_sub: bool) -> usize {
    let id = catalog.entries.len();
    let name = name_of(info);
    let categories = fields(info)
        .get(6)
        .map(|c| {
            list(c)
                .iter()
                .filter_map(bytes_of)
                .filter_map(|b| category(b.strip_prefix(b"@")?))
        })
        .into_iter()
        .flatten()
        .fold(0, |mask, bit| mask | bit);
    catalog.by_name.insert(name.clone(), id);
    catalog.entries.push(Entry {
        id,
        name,
        categories,
        is_sub,
        subs: Vec::new(),
    });
    id
}

fn fields(info: &Reply) -> &[Reply] {
    list(info)
}

fn list(r: &Reply) -> &[Reply] {
    match r {
        Reply::Array(v) | Reply::Set(v) => v,
        _ => &[],
    }
}

fn name_of(info: &Reply) -> String {
    fields(info)
        .first()
        .and_then(bytes_of)
        .map(|b| String::from_utf8_lossy(b).to_ascii_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_redis_commands_and_categories() {
        let c = catalog();
        let get = c.lookup(b"GET").unwrap();
        assert_ne!(get.categories & category(b"read").unwrap(), 0);
        assert!(c.lookup(b"client|list").unwrap().is_sub);
        assert!(!c.lookup(b"client").unwrap().subs.is_empty());
        assert!(c.lookup(b"nosuch").is_none());
    }
}
