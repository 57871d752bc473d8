//! The ACL file (`aclfile`): loaded at start-up and by `ACL LOAD`, written by
//! `ACL SAVE`, one `user <name> <rules>` line per user as `ACL LIST` shows
//! them. Loading is all or nothing, with Redis's error texts.

use super::rules::{self, Rules};
use super::{Acl, User, pubsub_default_all};
use crate::server::config::Config;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::Arc;

fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

impl Acl {
    /// Replaces the users with those of an ACL file (Redis's `ACLLoadFromFile`):
    /// all or nothing. Returns the users that are gone, whose clients must be disconnected.
    pub(super) fn load(&self, path: &str, config: &Config) -> Result<Vec<Arc<User>>, String> {
        let text = std::fs::read(path).map_err(|e| format!("Error loading ACLs, opening file '{path}': {e}"))?;
        let lines = text.split(|&c| c == b'\n').enumerate().map(|(n, l)| (n + 1, l));
        let mut loaded = parse(lines, path, pubsub_default_all(config))?;
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let mut removed = Vec::new();
        for (name, user) in users.iter() {
            if !loaded.contains_key(name) && user.name != self.default.name {
                removed.push(user.clone());
            }
        }
        // A file without the default user resets it.
        self.default
            .set_rules(loaded.remove(&self.default.name).unwrap_or_else(Rules::default_user));
        users.retain(|name, _| *name == self.default.name);
        for (name, rules) in loaded {
            users.insert(name.clone(), User::new(name, rules));
        }
        Ok(removed)
    }

    /// Writes the users to the ACL file, as `ACL LIST` shows them.
    pub(super) fn save(&self, path: &str) -> std::io::Result<()> {
        let mut text = Vec::new();
        for line in self.list() {
            text.extend_from_slice(&line);
            text.push(b'\n');
        }
        let tmp = format!("{path}.tmp-{}", std::process::id());
        std::fs::write(&tmp, &text)?;
        std::fs::rename(&tmp, path)
    }
}

/// Parses numbered `user <name> <rules>` lines (of the file `origin`), all
/// or nothing, with Redis's error texts.
pub(super) fn parse<'a>(
    lines: impl Iterator<Item = (usize, &'a [u8])>,
    origin: &str,
    allchannels: bool,
) -> Result<BTreeMap<Bytes, Rules>, String> {
    let path = origin;
    let mut loaded: BTreeMap<Bytes, Rules> = BTreeMap::new();
    let mut errors = String::new();
    for (lineno, line) in lines {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        // Redis splits on single spaces: empty words are no-op rules.
        let words: Vec<Bytes> = line.split(|&c| c == b' ').map(Bytes::copy_from_slice).collect();
        if &words[0][..] != b"user" || words.len() < 2 {
            errors.push_str(&format!(
                "{path}:{lineno} should start with user keyword followed by the username. "
            ));
            continue;
        }
        let name = &words[1];
        if rules::has_spaces(name) {
            // Redis's message begins with a stray quote.
            errors.push_str(&format!(
                "'{path}:{lineno}: username '{}' contains invalid characters. ",
                lossy(name)
            ));
            continue;
        }
        if loaded.contains_key(name) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{}' found on line {lineno}. ",
                lossy(name)
            ));
            continue;
        }
        let ops = rules::merge_selector_args(&words[2..]).unwrap_or_else(|_| {
            errors.push_str(&format!(
                "{path}:{lineno}: Unmatched parenthesis in selector definition."
            ));
            Vec::new()
        });
        let mut r = Rules::new(allchannels);
        for op in &ops {
            let op = op.trim_ascii();
            if let Err(e) = r.apply(op) {
                errors.push_str(&format!(
                    "{path}:{lineno}: Error in applying operation '{}': {}. ",
                    lossy(op),
                    e.message()
                ));
            }
        }
        loaded.insert(name.clone(), r);
    }
    if !errors.is_empty() {
        errors.push_str("WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        return Err(errors);
    }
    Ok(loaded)
}
