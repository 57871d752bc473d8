//! The client registry: what `CLIENT LIST`, `CLIENT KILL` and INFO see.

use super::acl::User;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// The part of a connection's state that other connections can see.
pub struct ClientHandle {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    /// Unix ms when the connection was accepted.
    pub created_ms: i64,
    /// Unix ms of the last command.
    pub last_cmd_ms: AtomicI64,
    pub name: Mutex<Option<Bytes>>,
    /// The ACL user the connection is authenticated as.
    pub user: Mutex<Arc<User>>,
    pub db: AtomicU32,
    pub resp: AtomicU8,
    /// Last command name, lowercased (`client|list` for subcommands).
    pub last_cmd: Mutex<String>,
    pub no_evict: AtomicBool,
    pub no_touch: AtomicBool,
    /// Commands queued since MULTI, or -1 outside MULTI (`CLIENT LIST`'s `multi=`).
    pub multi: AtomicI64,
    /// Channels, patterns and shard channels subscribed to (`sub=`, `psub=`, `ssub=`).
    pub subscriptions: [AtomicUsize; 3],
    /// Set by MONITOR (`CLIENT LIST`'s `O` flag).
    pub monitor: AtomicBool,
    pub killed: AtomicBool,
    /// Notified by `kill` and when the peer closes the connection while a
    /// command runs (`hung_up`), so that a blocked command stops waiting.
    pub kill: Notify,
    /// Waiting in a blocking command (flag `b`).
    pub blocked: AtomicBool,
    /// The peer closed the connection while a command was running.
    pub hung_up: AtomicBool,
    pub input_bytes: AtomicU64,
    /// Published messages queued for the connection and not yet written
    /// (`CLIENT LIST`'s `oll` and `omem`; the output buffer limit).
    pub queued_messages: AtomicU64,
    pub queued_bytes: AtomicU64,
    /// Unix ms since the queue has been over the soft limit (0: it is not).
    pub over_soft_since: AtomicI64,
}

impl ClientHandle {
    /// Asks the connection to close after its current command.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.kill.notify_one();
    }

    /// Records that the peer closed the connection (seen while a command
    /// runs): a blocked command stops waiting.
    pub fn hang_up(&self) {
        self.hung_up.store(true, Ordering::SeqCst);
        self.kill.notify_one();
    }

    /// Sets the name (`CLIENT SETNAME`, `HELLO SETNAME`); empty removes it.
    pub fn set_name(&self, name: &Bytes) {
        *self.name.lock().unwrap() = if name.is_empty() { None } else { Some(name.clone()) };
    }

    /// One `CLIENT LIST` / `CLIENT INFO` line (without the trailing newline),
    /// with Redis 7.0's fields. Buffer sizes are not tracked and show Redis's
    /// values for an idle connection.
    pub fn describe(&self, now_ms: i64) -> String {
        let name = self.name.lock().unwrap().clone().unwrap_or_default();
        let multi = self.multi.load(Ordering::Relaxed);
        let [sub, psub, ssub] = [0, 1, 2].map(|i| self.subscriptions[i].load(Ordering::Relaxed));
        // Redis's order of flags: O (monitor), P (pub/sub), x (MULTI), b (blocked); N for none.
        let mut flags = String::new();
        if self.monitor.load(Ordering::Relaxed) {
            flags.push('O');
        }
        if sub + psub + ssub > 0 {
            flags.push('P');
        }
        if multi >= 0 {
            flags.push('x');
        }
        if self.blocked.load(Ordering::Relaxed) {
            flags.push('b');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        format!(
            "id={} addr={} laddr={} fd=8 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll={} omem={} tot-mem={} events=r cmd={} user={} redir=-1 resp={}",
            self.id,
            self.addr,
            self.laddr,
            String::from_utf8_lossy(&name),
            (now_ms - self.created_ms).max(0) / 1000,
            (now_ms - self.last_cmd_ms.load(Ordering::Relaxed)).max(0) / 1000,
            flags,
            self.db.load(Ordering::Relaxed),
            sub,
            psub,
            ssub,
            multi,
            self.queued_messages.load(Ordering::Relaxed),
            self.queued_bytes.load(Ordering::Relaxed),
            16384 + self.queued_bytes.load(Ordering::Relaxed),
            self.last_cmd.lock().unwrap(),
            String::from_utf8_lossy(&self.user.lock().unwrap().name),
            self.resp.load(Ordering::Relaxed),
        )
    }
}

/// All connected clients, by id.
#[derive(Default)]
pub struct Clients {
    next_id: AtomicU64,
    map: Mutex<BTreeMap<u64, Arc<ClientHandle>>>,
}

impl Clients {
    /// A new connection, authenticated as `user` (the default user).
    pub fn register(&self, addr: String, laddr: String, user: Arc<User>) -> Arc<ClientHandle> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let now = crate::util::now_ms();
        let h = Arc::new(ClientHandle {
            id,
            addr,
            laddr,
            created_ms: now,
            last_cmd_ms: AtomicI64::new(now),
            name: Mutex::new(None),
            user: Mutex::new(user),
            db: AtomicU32::new(0),
            resp: AtomicU8::new(2),
            last_cmd: Mutex::new("NULL".into()),
            no_evict: AtomicBool::new(false),
            no_touch: AtomicBool::new(false),
            multi: AtomicI64::new(-1),
            subscriptions: Default::default(),
            monitor: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            kill: Notify::new(),
            blocked: AtomicBool::new(false),
            hung_up: AtomicBool::new(false),
            input_bytes: AtomicU64::new(0),
            queued_messages: AtomicU64::new(0),
            queued_bytes: AtomicU64::new(0),
            over_soft_since: AtomicI64::new(0),
        });
        self.map.lock().unwrap().insert(id, h.clone());
        h
    }

    pub fn unregister(&self, id: u64) {
        self.map.lock().unwrap().remove(&id);
    }

    pub fn all(&self) -> Vec<Arc<ClientHandle>> {
        self.map.lock().unwrap().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientHandle>> {
        self.map.lock().unwrap().get(&id).cloned()
    }

    pub fn count(&self) -> usize {
        self.map.lock().unwrap().len()
    }
}
