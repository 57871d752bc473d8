//! ACL users' rules: what `ACL SETUSER` changes, and how `ACL LIST` /
//! `ACL GETUSER` describe it, as Redis 7.0 does.
//!
//! A user has flags (on/off, nopass, payload sanitizing), password hashes
//! and selectors. The first selector is the *root* one (the rules written
//! outside parentheses); each `(...)` rule adds another. A command is allowed
//! when any selector allows it (see `check`).

use super::catalog::{Bits, CATEGORIES, FUTURE, catalog, category};
use super::sha256::hex_digest;
use bytes::Bytes;

/// Key pattern permissions (`%R~`, `%W~`; `~` is both).
pub const READ: u8 = 1;
pub const WRITE: u8 = 2;
const READ_WRITE: u8 = READ | WRITE;

/// User flags, in the order Redis lists them.
const FLAGS: &[(u8, &str)] = &[
    (ENABLED, "on"),
    (DISABLED, "off"),
    (NOPASS, "nopass"),
    (SKIP_SANITIZE, "skip-sanitize-payload"),
    (SANITIZE, "sanitize-payload"),
];
const ENABLED: u8 = 1;
const DISABLED: u8 = 2;
const NOPASS: u8 = 4;
const SKIP_SANITIZE: u8 = 8;
const SANITIZE: u8 = 16;

/// Why a rule was refused; `message` is Redis's text for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    UnknownCommand,
    Syntax,
    KeysAfterAll,
    ChannelsAfterAll,
    NoSuchPassword,
    BadHash,
    FirstArgOfSubcommand,
}

impl RuleError {
    pub fn message(self) -> &'static str {
        match self {
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeysAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::ChannelsAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
            }
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
            }
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// A key pattern and whether it allows reading, writing or both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    pub pattern: Bytes,
    pub perms: u8,
}

/// One set of permissions: commands, key patterns, channel patterns.
#[derive(Clone)]
pub struct Selector {
    pub root: bool,
    pub allkeys: bool,
    pub allchannels: bool,
    pub allcommands: bool,
    /// Allowed command ids (see `catalog`), with the `FUTURE` bit.
    pub commands: Bits,
    /// First arguments allowed for otherwise denied commands (`+select|0`), by command id.
    pub firstargs: Vec<(usize, Vec<Bytes>)>,
    pub keys: Vec<KeyPattern>,
    pub channels: Vec<Bytes>,
}

impl Selector {
    /// A selector that allows nothing; `allchannels` follows `acl-pubsub-default`.
    pub fn new(root: bool, allchannels: bool) -> Selector {
        Selector {
            root,
            allkeys: false,
            allchannels,
            allcommands: false,
            commands: Bits::default(),
            firstargs: Vec::new(),
            keys: Vec::new(),
            channels: Vec::new(),
        }
    }

    /// Applies one selector rule (Redis's `ACLSetSelector`).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("allkeys") || is("~*") {
            self.allkeys = true;
            self.keys.clear();
        } else if is("resetkeys") {
            self.allkeys = false;
            self.keys.clear();
        } else if is("allchannels") || is("&*") {
            self.allchannels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.allchannels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.commands = Bits::all();
            self.allcommands = true;
            self.firstargs.clear();
        } else if is("nocommands") || is("-@all") {
            self.commands = Bits::default();
            self.allcommands = false;
            self.firstargs.clear();
        } else if op[0] == b'~' || op[0] == b'%' {
            self.add_key_pattern(op)?;
        } else if op[0] == b'&' {
            if self.allchannels {
                return Err(RuleError::ChannelsAfterAll);
            }
            let pattern = &op[1..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c[..] == *pattern) {
                self.channels.push(Bytes::copy_from_slice(pattern));
            }
        } else if (op[0] == b'+' || op[0] == b'-') && op.get(1) == Some(&b'@') {
            let mask = category(&op[2..]).ok_or(RuleError::UnknownCommand)?;
            self.set_category(mask, op[0] == b'+');
        } else if op[0] == b'+' {
            self.allow(&op[1..])?;
        } else if op[0] == b'-' {
            let entry = catalog().lookup(&op[1..]).ok_or(RuleError::UnknownCommand)?;
            self.change(entry.id, false);
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    /// `~pattern`, `%R~pattern`, `%W~pattern`, `%RW~pattern`.
    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if self.allkeys {
            return Err(RuleError::KeysAfterAll);
        }
        let (perms, offset) = if op[0] == b'%' {
            let mut perms = 0;
            let mut offset = 1;
            while offset < op.len() {
                match op[offset].to_ascii_uppercase() {
                    b'R' if perms & READ == 0 => perms |= READ,
                    b'W' if perms & WRITE == 0 => perms |= WRITE,
                    b'~' => {
                        offset += 1;
                        break;
                    }
                    _ => return Err(RuleError::Syntax),
                }
                offset += 1;
            }
            if perms == 0 {
                return Err(RuleError::Syntax);
            }
            (perms, offset)
        } else {
            (READ_WRITE, 1)
        };
        let pattern = op.get(offset..).unwrap_or_default();
        if has_spaces(pattern) {
            return Err(RuleError::Syntax);
        }
        match self.keys.iter_mut().find(|k| k.pattern[..] == *pattern) {
            Some(existing) => existing.perms |= perms,
            None => self.keys.push(KeyPattern {
                pattern: Bytes::copy_from_slice(pattern),
                perms,
            }),
        }
        Ok(())
    }

    /// `+cmd`, `+cmd|sub` (a subcommand) or `+cmd|arg` (a first argument of a
    /// command without subcommands).
    fn allow(&mut self, name: &[u8]) -> Result<(), RuleError> {
        let cat = catalog();
        let Some(bar) = name.iter().rposition(|&c| c == b'|') else {
            let entry = cat.lookup(name).ok_or(RuleError::UnknownCommand)?;
            self.change(entry.id, true);
            return Ok(());
        };
        let (parent, arg) = (&name[..bar], &name[bar + 1..]);
        let entry = cat.lookup(parent).ok_or(RuleError::UnknownCommand)?;
        if entry.is_sub {
            return Err(RuleError::FirstArgOfSubcommand);
        }
        if arg.is_empty() {
            return Err(RuleError::Syntax);
        }
        if !entry.subs.is_empty() {
            let sub = cat.lookup(name).ok_or(RuleError::UnknownCommand)?;
            self.change(sub.id, true);
        } else {
            let id = entry.id;
            let slot = match self.firstargs.iter().position(|(c, _)| *c == id) {
                Some(i) => &mut self.firstargs[i].1,
                None => {
                    self.firstargs.push((id, Vec::new()));
                    &mut self.firstargs.last_mut().expect("just pushed").1
                }
            };
            if !slot.iter().any(|a| a.eq_ignore_ascii_case(arg)) {
                slot.push(Bytes::copy_from_slice(arg));
            }
        }
        Ok(())
    }

    /// Sets one command bit; clearing any bit ends `allcommands`.
    fn set_bit(&mut self, id: usize, on: bool) {
        self.commands.set(id, on);
        if !on {
            self.allcommands = false;
        }
    }

    /// Allows or denies a command and, for a container, all its subcommands
    /// (Redis's `ACLChangeSelectorPerm`).
    fn change(&mut self, id: usize, on: bool) {
        self.set_bit(id, on);
        self.firstargs.retain(|(c, _)| *c != id);
        for &sub in &catalog().entries[id].subs {
            self.set_bit(sub, on);
        }
    }

    /// `+@category` / `-@category`.
    fn set_category(&mut self, mask: u32, on: bool) {
        for e in &catalog().entries {
            if e.categories & mask != 0 {
                self.change(e.id, on);
            }
        }
    }

    /// (allowed, denied) counts of the commands in a category.
    fn count_category(&self, mask: u32) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for e in catalog().entries.iter().filter(|e| e.categories & mask != 0) {
            if self.commands.get(e.id) {
                on += 1;
            } else {
                off += 1;
            }
        }
        (on, off)
    }

    /// The command rules that rebuild this selector's bitmap, as Redis 7.0
    /// writes them: `+@all` or `-@all`, then the categories that fit best,
    /// then single commands and first arguments. Redis emits the single
    /// commands in its hash table's order; redsql in name order.
    pub fn describe_commands(&self) -> String {
        let additive = !self.commands.get(FUTURE);
        let mut rules = String::from(if additive { "-@all " } else { "+@all " });
        let mut fake = Selector::new(false, false);
        fake.apply(if additive { b"-@all" } else { b"+@all" })
            .expect("valid rule");
        let mut temp = self.clone();
        let mut applied = [false; CATEGORIES.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, _) in CATEGORIES.iter().enumerate().filter(|(j, _)| !applied[*j]) {
                let (on, off) = temp.count_category(1 << j);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            fake.set_category(1 << j, additive);
            temp.set_category(1 << j, !additive);
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(CATEGORIES[j]);
            rules.push(' ');
            applied[j] = true;
        }
        let cat = catalog();
        for top in cat.top_level() {
            for id in std::iter::once(top.id).chain(top.subs.iter().copied()) {
                let mine = self.commands.get(id);
                if mine != fake.commands.get(id) {
                    rules.push(if mine { '+' } else { '-' });
                    rules.push_str(&cat.entries[id].name);
                    rules.push(' ');
                    fake.change(id, mine);
                }
                if !mine && let Some((_, args)) = self.firstargs.iter().find(|(c, _)| *c == id) {
                    for a in args {
                        rules.push('+');
                        rules.push_str(&cat.entries[id].name);
                        rules.push('|');
                        rules.push_str(&String::from_utf8_lossy(a));
                        rules.push(' ');
                    }
                }
            }
        }
        rules.pop();
        rules
    }

    /// The key patterns as `ACL GETUSER` shows them (`~a %R~b`).
    pub fn describe_keys(&self) -> Vec<u8> {
        if self.allkeys {
            return b"~*".to_vec();
        }
        let mut out = Vec::new();
        for k in &self.keys {
            if !out.is_empty() {
                out.push(b' ');
            }
            out.extend_from_slice(match k.perms {
                READ => b"%R~",
                WRITE => b"%W~",
                _ => b"~",
            });
            out.extend_from_slice(&k.pattern);
        }
        out
    }

    /// The channel patterns as `ACL GETUSER` shows them (`&a &b`).
    pub fn describe_channels(&self) -> Vec<u8> {
        if self.allchannels {
            return b"&*".to_vec();
        }
        let mut out = Vec::new();
        for c in &self.channels {
            if !out.is_empty() {
                out.push(b' ');
            }
            out.push(b'&');
            out.extend_from_slice(c);
        }
        out
    }

    /// The whole selector in `ACL LIST`'s form.
    fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let keys = self.describe_keys();
        if !keys.is_empty() {
            out.extend_from_slice(&keys);
            out.push(b' ');
        }
        if self.allchannels {
            out.extend_from_slice(b"&* ");
        } else {
            out.extend_from_slice(b"resetchannels ");
            for c in &self.channels {
                out.push(b'&');
                out.extend_from_slice(c);
                out.push(b' ');
            }
        }
        out.extend_from_slice(self.describe_commands().as_bytes());
        out
    }
}

/// Whether a pattern or user name contains whitespace or NUL (refused by Redis).
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&c| c.is_ascii_whitespace() || c == 0 || c == 0x0b)
}

/// Everything `ACL SETUSER` can change about a user.
#[derive(Clone)]
pub struct Rules {
    flags: u8,
    /// SHA-256 hex digests of the passwords, in the order they were added.
    pub passwords: Vec<String>,
    /// The root selector first.
    pub selectors: Vec<Selector>,
    /// `acl-pubsub-default` is `allchannels`: new selectors (and `reset`)
    /// start with all channels.
    allchannels_default: bool,
}

impl Rules {
    /// A new user: off, no passwords, no permissions.
    pub fn new(allchannels_default: bool) -> Rules {
        Rules {
            flags: DISABLED,
            passwords: Vec::new(),
            selectors: vec![Selector::new(true, allchannels_default)],
            allchannels_default,
        }
    }

    /// Redis's default user: `on nopass ~* &* +@all`.
    pub fn default_user() -> Rules {
        let mut r = Rules::new(false);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            r.apply(op.as_bytes()).expect("valid rule");
        }
        r
    }

    /// Follows `acl-pubsub-default` as it is now (for `reset` and new selectors).
    pub fn set_pubsub_default(&mut self, allchannels: bool) {
        self.allchannels_default = allchannels;
    }

    pub fn enabled(&self) -> bool {
        self.flags & ENABLED != 0
    }

    pub fn nopass(&self) -> bool {
        self.flags & NOPASS != 0
    }

    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    /// True if the user may run anything on any key and channel.
    pub fn unrestricted(&self) -> bool {
        let r = self.root();
        r.allcommands && r.allkeys && r.allchannels
    }

    /// Whether `password` is one of the user's (or the user needs none).
    pub fn password_ok(&self, password: &[u8]) -> bool {
        if self.nopass() {
            return true;
        }
        let hashed = hex_digest(password);
        // Compare every stored hash in full, whatever matches, as Redis's
        // time-independent comparison does.
        self.passwords.iter().fold(false, |found, p| {
            found | constant_time_eq(p.as_bytes(), hashed.as_bytes())
        })
    }

    /// The flags `ACL GETUSER` lists.
    pub fn flag_names(&self) -> Vec<&'static str> {
        FLAGS
            .iter()
            .filter(|(f, _)| self.flags & f != 0)
            .map(|(_, n)| *n)
            .collect()
    }

    /// Applies one `ACL SETUSER` rule (Redis's `ACLSetUser`).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("on") {
            self.flags = (self.flags | ENABLED) & !DISABLED;
        } else if is("off") {
            self.flags = (self.flags | DISABLED) & !ENABLED;
        } else if is("skip-sanitize-payload") {
            self.flags = (self.flags | SKIP_SANITIZE) & !SANITIZE;
        } else if is("sanitize-payload") {
            self.flags = (self.flags | SANITIZE) & !SKIP_SANITIZE;
        } else if is("nopass") {
            self.flags |= NOPASS;
            self.passwords.clear();
        } else if is("resetpass") {
            self.flags &= !NOPASS;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = password_hash(op)?;
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.flags &= !NOPASS;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = password_hash(op)?;
            let i = self
                .passwords
                .iter()
                .position(|p| *p == hash)
                .ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(i);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut selector = Selector::new(false, self.allchannels_default);
            // Split like Redis's sdssplitargs (quotes allowed); unbalanced
            // quotes leave the selector empty, as in Redis.
            let parts = crate::resp::request::split_args(&op[1..op.len() - 1]).unwrap_or_default();
            for part in parts.iter().filter(|p| !p.is_empty()) {
                selector.apply(part)?;
            }
            self.selectors.push(selector);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            for op in ["resetpass", "resetkeys", "resetchannels"] {
                self.apply(op.as_bytes())?;
            }
            if self.allchannels_default {
                self.apply(b"allchannels")?;
            }
            for op in ["off", "sanitize-payload", "clearselectors", "-@all"] {
                self.apply(op.as_bytes())?;
            }
        } else {
            self.selectors[0].apply(op)?;
        }
        Ok(())
    }

    /// The user in `ACL LIST`'s form (without `user <name> `).
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for name in self.flag_names() {
            out.extend_from_slice(name.as_bytes());
            out.push(b' ');
        }
        for p in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(p.as_bytes());
            out.push(b' ');
        }
        for s in &self.selectors {
            if s.root {
                out.extend_from_slice(&s.describe());
            } else {
                out.extend_from_slice(b" (");
                out.extend_from_slice(&s.describe());
                out.push(b')');
            }
        }
        out
    }
}

/// The stored hash for `>pass`, `<pass` (hashed) or `#hash`, `!hash` (checked).
fn password_hash(op: &[u8]) -> Result<String, RuleError> {
    let rest = &op[1..];
    if op[0] == b'>' || op[0] == b'<' {
        return Ok(hex_digest(rest));
    }
    if rest.len() != 64 || !rest.iter().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c)) {
        return Err(RuleError::BadHash);
    }
    Ok(String::from_utf8_lossy(rest).into_owned())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Joins selector rules that `ACL SETUSER` received split over several
/// arguments (`(~a` `+get)` → `(~a +get)`). `Err(i)`: the selector opened at
/// argument `i` is never closed.
pub fn merge_selector_args(args: &[Bytes]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (i, op) in args.iter().enumerate() {
        if let Some((start, mut sel)) = open.take() {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(sel);
            } else {
                open = Some((start, sel));
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((i, op.to_vec()));
            continue;
        }
        out.push(op.to_vec());
    }
    match open {
        Some((start, _)) => Err(start),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(ops: &[&str]) -> Rules {
        let mut r = Rules::new(false);
        for op in ops {
            r.apply(op.as_bytes()).unwrap();
        }
        r
    }

    #[test]
    fn describes_like_redis() {
        assert_eq!(Rules::default_user().describe(), b"on nopass ~* &* +@all");
        let u = user(&[
            "on",
            ">p1",
            "~k*",
            "%R~r*",
            "&ch*",
            "+get",
            "+@string",
            "-@dangerous",
            "+client|id",
        ]);
        assert_eq!(
            String::from_utf8(u.describe()).unwrap(),
            "on #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a ~k* %R~r* resetchannels &ch* -@all +@string +client|id"
        );
        assert_eq!(
            user(&["+@read", "+@write", "-@read"]).root().describe_commands(),
            "-@all +@write"
        );
        assert_eq!(user(&["reset"]).describe(), b"off sanitize-payload resetchannels -@all");
    }

    #[test]
    fn refuses_like_redis() {
        let mut r = Rules::new(false);
        assert_eq!(r.apply(b"%"), Err(RuleError::Syntax));
        assert_eq!(r.apply(b"%RR~a"), Err(RuleError::Syntax));
        assert_eq!(r.apply(b"+config|get|x"), Err(RuleError::FirstArgOfSubcommand));
        assert_eq!(r.apply(b"+nosuch"), Err(RuleError::UnknownCommand));
        assert_eq!(r.apply(b"-select|0"), Err(RuleError::UnknownCommand));
        assert_eq!(r.apply(b"+get|"), Err(RuleError::Syntax));
        assert_eq!(r.apply(b"<x"), Err(RuleError::NoSuchPassword));
        assert_eq!(r.apply(b"#abc"), Err(RuleError::BadHash));
        r.apply(b"allkeys").unwrap();
        assert_eq!(r.apply(b"~a"), Err(RuleError::KeysAfterAll));
    }
}
