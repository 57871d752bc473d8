//! ACL users shared by the redsql processes of one store (PostgreSQL), so that
//! they behave as one Redis: `ACL SETUSER`, `ACL DELUSER`, `ACL LOAD` and
//! `CONFIG SET requirepass` on one process apply on every process.
//!
//! * The users live in the store's `racl` table, one `ACL LIST` line per
//!   user ([`SharedUsers`]). Each process keeps them in memory as before
//!   (checks cost nothing more); a change is applied locally, then written
//!   to the table with a `U` bus message in the same transaction.
//! * On `U` (and after the bus reconnects, when one may have been missed)
//!   every process reads the table again ([`users_changed`]): existing users
//!   get their new rules in place (their connections use them from their next
//!   command), new ones appear, and the clients of deleted users are
//!   disconnected, as `ACL DELUSER` does.
//! * **Start-up**: a process applies its own `requirepass` and `aclfile`,
//!   then seeds the table with those users only if it is empty (the first
//!   process of a store), and takes the table's users. Once a store has
//!   users, they are the store's: a process started later with another
//!   `requirepass` or `aclfile` uses the table's (and logs that it ignored
//!   its own); change them at run time, from any process.
//!
//! A failure to write the table (PostgreSQL unreachable) is logged; the
//! change then applies to this process only.

use super::{Acl, User, file, pubsub_default_all};
use crate::engine::backend::{SharedUsers, UserRow, UsersChange};
use crate::server::Server;
use crate::server::config::Config;
use bytes::Bytes;
use std::sync::Arc;

impl Acl {
    /// Starts sharing the users on a PostgreSQL store (see the module's
    /// documentation for how the start-up configuration combines).
    pub(super) fn share(&mut self, config: &Config, shared: Arc<dyn SharedUsers>) {
        let local = self.lines(None);
        if let Err(e) = shared.change(UsersChange::Seed(&local)) {
            return crate::log::warn(&format!("ACL users not shared: {e}"));
        }
        self.shared = Some(shared);
        match self.reload(config) {
            Ok(_)
                if self.lines(None) != local
                    && (config.requirepass().is_some() || super::aclfile(config).is_some()) =>
            {
                crate::log::notice(
                    "ACL users come from the store (table racl); this process's requirepass/aclfile were not applied",
                )
            }
            Ok(_) => {}
            Err(e) => crate::log::warn(&format!("ACL users of the store not loaded: {e}")),
        }
    }

    /// Sends this process's changes as the process with bus id `id`, so
    /// that they are not handed back to it.
    pub fn speak_as(&self, id: &str) {
        if let Some(shared) = &self.shared {
            shared.speak_as(id);
        }
    }

    /// Taken by a change for its whole run (local application, then write).
    pub(super) fn lock_changes(&self) -> std::sync::MutexGuard<'_, ()> {
        self.changes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `(name, ACL LIST line)` of the users named (every user with `None`).
    fn lines(&self, names: Option<&[Bytes]>) -> Vec<UserRow> {
        let users = self.users.read().unwrap_or_else(|e| e.into_inner());
        let line = |u: &Arc<User>| {
            (
                u.name.to_vec(),
                [b"user ".as_slice(), &u.name, b" ", &u.rules().describe()].concat(),
            )
        };
        match names {
            None => users.values().map(line).collect(),
            Some(names) => names.iter().filter_map(|n| users.get(n)).map(line).collect(),
        }
    }

    fn write(&self, change: UsersChange<'_>) {
        if let Some(shared) = &self.shared
            && let Err(e) = shared.change(change)
        {
            crate::log::warn(&format!("ACL change not shared with the other processes: {e}"));
        }
    }

    /// Shares the current rules of the users named (after SETUSER, requirepass).
    pub(super) fn share_users(&self, names: &[Bytes]) {
        if self.shared.is_some() {
            self.write(UsersChange::Set(&self.lines(Some(names))));
        }
    }

    /// Shares that the users named are gone (DELUSER).
    pub(super) fn unshare_users(&self, names: &[Bytes]) {
        if self.shared.is_some() {
            let names: Vec<Vec<u8>> = names.iter().map(|n| n.to_vec()).collect();
            self.write(UsersChange::Delete(&names));
        }
    }

    /// Shares every user, replacing the store's (ACL LOAD).
    pub(super) fn share_all(&self) {
        if self.shared.is_some() {
            self.write(UsersChange::ReplaceAll(&self.lines(None)));
        }
    }

    /// Replaces the users by the store's: existing users keep their object
    /// (their connections see the new rules), missing ones are created, and
    /// the users no longer there are removed. Returns those, and the users
    /// that were kept with their previous rules.
    fn reload(&self, config: &Config) -> Result<Reloaded, String> {
        let Some(shared) = &self.shared else {
            return Ok(Reloaded::default());
        };
        let _change = self.lock_changes();
        let rows = shared.load()?;
        let lines = rows.iter().enumerate().map(|(n, (_, line))| (n + 1, line.as_slice()));
        let loaded = file::parse(lines, "racl", pubsub_default_all(config))?;
        let mut users = self.users.write().unwrap_or_else(|e| e.into_inner());
        let mut removed = Vec::new();
        users.retain(|name, user| {
            let keep = *name == self.default.name || loaded.contains_key(name);
            if !keep {
                removed.push(user.clone());
            }
            keep
        });
        let mut changed = Vec::new();
        for (name, rules) in loaded {
            match users.get(&name) {
                Some(user) => {
                    changed.push((user.clone(), user.rules().clone()));
                    user.set_rules(rules);
                }
                None => {
                    users.insert(name.clone(), User::new(name, rules));
                }
            }
        }
        Ok(Reloaded { removed, changed })
    }
}

/// What a reload changed.
#[derive(Default)]
struct Reloaded {
    /// Users no longer in the store.
    removed: Vec<Arc<User>>,
    /// Users still there, with their rules before the reload.
    changed: Vec<(Arc<User>, super::rules::Rules)>,
}

/// The bus's hook: another process (or this one) changed the shared users.
/// Reads them again, and disconnects the clients of the users deleted, and
/// those subscribed to channels their user may no longer use (as the
/// process that ran ACL SETUSER or DELUSER does).
pub fn users_changed(server: &Server) {
    let Reloaded { removed, changed } = match server.acl.reload(&server.config) {
        Ok(r) => r,
        Err(e) => return crate::log::warn(&format!("ACL users of the store not reloaded: {e}")),
    };
    for (user, old) in &changed {
        let new = user.rules().clone();
        for c in super::command::pubsub_clients_to_kill(server, user, old, &new) {
            c.kill();
        }
    }
    if removed.is_empty() {
        return;
    }
    let default = server.acl.default_user();
    for c in server.clients.all() {
        let mut current = c.user.lock().unwrap_or_else(|e| e.into_inner());
        if removed.iter().any(|u| Arc::ptr_eq(&current, u)) {
            *current = default.clone();
            drop(current);
            c.kill();
        }
    }
}
