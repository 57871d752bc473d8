//! Whether a user may run a command with given arguments (Redis's
//! `ACLCheckAllUserCommandPerm`): the command must be allowed, every key must
//! match a key pattern with the permissions the command needs, and every
//! Pub/Sub channel a channel pattern — all by one selector.

use super::catalog::catalog;
use super::rules::{READ, Rules, Selector, WRITE};
use crate::commands::Command;
use crate::commands::keyspec::{self, KeyAccess};
use bytes::Bytes;

/// Why a command was refused. Variants are ordered as Redis ranks them when
/// several selectors refuse for different reasons (the highest is reported);
/// keys and channels carry the index of the offending argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    Command,
    Key(usize),
    Channel(usize),
}

impl Denied {
    fn rank(self) -> (u8, usize) {
        match self {
            Denied::Command => (1, 0),
            Denied::Key(i) => (2, i),
            Denied::Channel(i) => (4, i),
        }
    }
}

/// Checks `args` (the command name at 0) against the user's selectors.
pub fn check(rules: &Rules, cmd: &Command, args: &[Bytes]) -> Result<(), Denied> {
    if rules.unrestricted() {
        return Ok(());
    }
    let mut keys = None;
    let mut worst = Denied::Command;
    for s in &rules.selectors {
        match check_selector(s, cmd, args, &mut keys) {
            Ok(()) => return Ok(()),
            Err(d) if d.rank() > worst.rank() => worst = d,
            Err(_) => {}
        }
    }
    Err(worst)
}

/// Whether some selector that allows the command also lets it reach every
/// key for reading (Redis's `ACLUserCheckCmdWithUnrestrictedKeyAccess`):
/// SORT may then use BY and GET patterns.
pub fn unrestricted_key_access(rules: &Rules, cmd: &Command, args: &[Bytes]) -> bool {
    if rules.unrestricted() {
        return true;
    }
    let mut keys = None;
    rules.selectors.iter().any(|s| {
        check_selector(s, cmd, args, &mut keys).is_ok()
            && (s.allkeys || s.keys.iter().any(|k| k.perms & READ == READ && &k.pattern[..] == b"*"))
    })
}

fn check_selector(
    s: &Selector,
    cmd: &Command,
    args: &[Bytes],
    keys: &mut Option<Vec<(usize, KeyAccess)>>,
) -> Result<(), Denied> {
    if !s.allcommands && !cmd.no_auth && !command_allowed(s, cmd, args) {
        return Err(Denied::Command);
    }
    if !s.allkeys && cmd.has_keys() {
        let keys = keys.get_or_insert_with(|| command_keys(cmd, args));
        for &(i, access) in keys.iter() {
            if !key_allowed(s, &args[i], access) {
                return Err(Denied::Key(i));
            }
        }
    }
    if !s.allchannels {
        let (channels, literal) = match cmd.spec.channels {
            Some(f) => f(args),
            None => (&args[..0], false),
        };
        for (i, ch) in channels.iter().enumerate() {
            if !channel_allowed(&s.channels, ch, literal) {
                return Err(Denied::Channel(i + 1));
            }
        }
    }
    Ok(())
}

/// The command's bit, or an allowed first argument (`+select|0`).
fn command_allowed(s: &Selector, cmd: &Command, args: &[Bytes]) -> bool {
    let Some(entry) = catalog().lookup(cmd.name.as_bytes()) else {
        return false;
    };
    if s.commands.get(entry.id) {
        return true;
    }
    let idx = if entry.is_sub { 2 } else { 1 };
    let Some(arg) = args.get(idx) else { return false };
    s.firstargs
        .iter()
        .find(|(id, _)| *id == entry.id)
        .is_some_and(|(_, allowed)| allowed.iter().any(|a| a.eq_ignore_ascii_case(arg)))
}

/// The keys and what the command does with them. A command with "variable
/// flags" (SET, BITFIELD) says from its arguments ([`crate::commands::Spec::key_access`]).
fn command_keys(cmd: &Command, args: &[Bytes]) -> Vec<(usize, KeyAccess)> {
    let mut keys = keyspec::with_access(cmd.spec.keys, &cmd.key_specs, args).unwrap_or_default();
    if let Some(access) = cmd.spec.key_access {
        let access = access(args);
        for (_, a) in &mut keys {
            *a = access;
        }
    }
    keys
}

fn key_allowed(s: &Selector, key: &[u8], access: KeyAccess) -> bool {
    let needed = if access.read { READ } else { 0 } | if access.write { WRITE } else { 0 };
    s.keys
        .iter()
        .any(|p| p.perms & needed == needed && crate::glob::matches(&p.pattern, key, false))
}

/// A channel against the allowed patterns; `literal` (PSUBSCRIBE's patterns)
/// must equal an allowed pattern exactly.
pub fn channel_allowed(patterns: &[Bytes], channel: &[u8], literal: bool) -> bool {
    patterns.iter().any(|p| {
        if literal {
            p[..] == *channel
        } else {
            crate::glob::matches(p, channel, false)
        }
    })
}
