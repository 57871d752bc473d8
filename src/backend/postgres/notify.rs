//! A message bus between the redsql processes sharing one PostgreSQL store,
//! over LISTEN/NOTIFY: what pub/sub and blocked-client wake-ups travel on.
//!
//! The bus carries opaque, binary-safe messages (the server gives them their
//! meaning). Every process sharing a store runs one [`Notifier`]:
//!
//! * **One channel per store.** Notifications go to a PostgreSQL channel
//!   named after the store's schema ([`channel_name`]), so two stores in one
//!   database (`?schema=a`, `?schema=b`) never see each other's messages.
//! * **A sender thread** with its own connection takes messages from a queue
//!   in order and sends everything waiting as one transaction, so messages
//!   arrive everywhere in the order this process sent them. NOTIFY payloads
//!   are text shorter than 8000 bytes: a message is sent hex-encoded inside
//!   the payload when it fits, otherwise it is stored in the `rpubsub` table
//!   in the same transaction and the payload carries its row id. Rows older
//!   than [`KEEP_ROWS`] are deleted by whichever process sends next.
//! * **A listener thread** with its own connection LISTENs, and hands every
//!   message from *another* process to the callback (the payload names the
//!   sending process, so a process skips its own). If the connection is lost
//!   (PostgreSQL restarted), it reconnects, LISTENs again, and reports
//!   [`Incoming::Reconnected`]: messages sent meanwhile are lost, as a Redis
//!   subscriber loses what is published while it is disconnected.
//!
//! Payload: `<process id, 16 hex digits>:<sequence number>:<hex bytes>`, or
//! `...:<sequence number>#<rpubsub id>`. The sequence number keeps equal
//! messages sent in one transaction distinct (PostgreSQL folds identical
//! notifications of one transaction into one).

use super::hex::{hex, unhex};
use super::{PgSettings, describe};
use postgres::Client;
use postgres::fallible_iterator::FallibleIterator;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Longest NOTIFY payload PostgreSQL accepts is 7999 bytes; this leaves room
/// for the header.
const MAX_INLINE_HEX: usize = 7900;
/// How long large messages stay in `rpubsub` (listeners fetch them at once).
const KEEP_ROWS: Duration = Duration::from_secs(60);
/// How often old `rpubsub` rows are deleted.
const CLEAN_EVERY: Duration = Duration::from_secs(20);
/// How long the listener waits for a notification before checking that it
/// should go on (and, when idle for [`PING_EVERY`], that its connection lives).
const POLL: Duration = Duration::from_millis(500);
const PING_EVERY: Duration = Duration::from_secs(5);
/// Longest [`Notifier::start`] waits for the listener to listen.
const READY_WITHIN: Duration = Duration::from_secs(5);
/// Pause between two attempts to reconnect.
const RECONNECT_EVERY: Duration = Duration::from_millis(250);
/// Most messages sent in one transaction.
const MAX_BATCH: usize = 1000;

/// What the listener hands to the callback.
pub enum Incoming {
    /// A message another process sent.
    Message(Vec<u8>),
    /// The listener's connection was lost and is back: messages sent while it
    /// was gone were missed.
    Reconnected,
}

/// The PostgreSQL channel of the store in `schema`: `redsql_<schema>`, or a
/// hash of the schema when that would exceed PostgreSQL's 63-byte names.
pub fn channel_name(schema: &str) -> String {
    let name = format!("redsql_{schema}");
    if name.len() <= 63 {
        name
    } else {
        format!("redsql_{:016x}", crate::store::member_hash(schema.as_bytes()))
    }
}

/// This process's end of the bus. Dropping it stops both threads (the
/// listener within [`POLL`]).
pub struct Notifier {
    queue: Mutex<Sender<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    /// This process's id in payloads (its listener skips them).
    me: String,
}

impl Notifier {
    /// Starts the sender and listener threads, and waits (at most
    /// [`READY_WITHIN`]) until the listener listens, so that a process that
    /// is ready receives what the others send from then on. The threads
    /// connect by themselves and keep reconnecting while PostgreSQL is
    /// unreachable, so this does not fail; `on_incoming` runs on the
    /// listener thread.
    pub fn start(settings: &PgSettings, on_incoming: impl Fn(Incoming) + Send + 'static) -> Notifier {
        let me = format!("{:016x}", crate::util::random_u64());
        let sender_id = me.clone();
        let channel_name = channel_name(&settings.schema);
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = channel();
        let sender = Outbox {
            settings: settings.clone(),
            channel: channel_name.clone(),
            me: me.clone(),
            client: None,
            seq: 0,
            last_clean: None,
        };
        let (ready_tx, ready) = channel();
        let listener = Listener {
            settings: settings.clone(),
            channel: channel_name,
            me,
            stop: stop.clone(),
            ready: Some(ready_tx),
        };
        let spawned = std::thread::Builder::new()
            .name("redsql-notify-send".into())
            .spawn(move || sender.run(rx))
            .and_then(|_| {
                std::thread::Builder::new()
                    .name("redsql-notify-listen".into())
                    .spawn(move || listener.run(&on_incoming))
            });
        match spawned {
            Ok(_) => {
                if ready.recv_timeout(READY_WITHIN).is_err() {
                    crate::log::warn("PostgreSQL notifications: not listening yet; going on without waiting");
                }
            }
            Err(e) => crate::log::warn(&format!("cannot start the PostgreSQL notification threads: {e}")),
        }
        Notifier {
            queue: Mutex::new(tx),
            stop,
            me: sender_id,
        }
    }

    /// This process's id in payloads: messages sent under it (see
    /// [`SharedUsers::speak_as`]) are not handed back to this process.
    pub fn id(&self) -> &str {
        &self.me
    }

    /// Queues a message for every other process (sent in queue order).
    pub fn send(&self, message: Vec<u8>) {
        let _ = self.queue.lock().unwrap_or_else(|e| e.into_inner()).send(message);
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The sender thread's state.
struct Outbox {
    settings: PgSettings,
    channel: String,
    me: String,
    /// Opened on first use, and again after a failure.
    client: Option<Client>,
    seq: u64,
    last_clean: Option<Instant>,
}

impl Outbox {
    /// Sends until the queue's sending side is dropped.
    fn run(mut self, rx: Receiver<Vec<u8>>) {
        loop {
            let first = match rx.recv_timeout(CLEAN_EVERY) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    self.clean();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(m) => batch.push(m),
                    Err(_) => break,
                }
            }
            // One retry on a new connection (the old one may have died
            // idle), unless the failure came at COMMIT: then the messages
            // may have gone out, and sending them again could deliver twice.
            let outcome = match self.send(&batch) {
                Err(Failed {
                    error,
                    commit_sent: false,
                }) => {
                    self.client = None;
                    self.send(&batch).map_err(|e| Failed {
                        error: format!("{error}; then {}", e.error),
                        ..e
                    })
                }
                other => other,
            };
            if let Err(e) = outcome {
                self.client = None;
                let how = if e.commit_sent { "may be lost" } else { "lost" };
                crate::log::warn(&format!(
                    "PostgreSQL notifications {how} ({} messages): {}",
                    batch.len(),
                    e.error
                ));
                std::thread::sleep(RECONNECT_EVERY);
            }
            self.clean();
        }
    }

    fn client(&mut self) -> Result<&mut Client, String> {
        if self.client.as_ref().is_none_or(Client::is_closed) {
            self.client = Some(self.settings.connect().map_err(|e| e.0)?);
        }
        self.client.as_mut().ok_or_else(|| "no connection".to_string())
    }

    /// Sends `batch` in one transaction, large messages through `rpubsub`.
    fn send(&mut self, batch: &[Vec<u8>]) -> Result<(), Failed> {
        let failed = |error: String| Failed {
            error,
            commit_sent: false,
        };
        let mut payloads = Vec::with_capacity(batch.len());
        let mut large = Vec::new();
        for m in batch {
            self.seq += 1;
            if m.len() * 2 <= MAX_INLINE_HEX {
                payloads.push(format!("{}:{}:{}", self.me, self.seq, hex(m)));
            } else {
                large.push((payloads.len(), m));
                payloads.push(String::new());
            }
        }
        let channel = self.channel.clone();
        let (me, seq0) = (self.me.clone(), self.seq - batch.len() as u64);
        let client = self.client().map_err(failed)?;
        let mut tx = client.transaction().map_err(|e| failed(describe(&e)))?;
        for (i, m) in large {
            let row = tx
                .query_one("INSERT INTO rpubsub (payload) VALUES ($1) RETURNING id", &[m])
                .map_err(|e| failed(describe(&e)))?;
            let id: i64 = row.get(0);
            payloads[i] = format!("{me}:{}#{id}", seq0 + i as u64 + 1);
        }
        // unnest yields the payloads in array order: notifications go out in it.
        tx.execute(
            "SELECT count(pg_notify($1, p)) FROM unnest($2::text[]) AS p",
            &[&channel, &payloads],
        )
        .map_err(|e| failed(describe(&e)))?;
        tx.commit().map_err(|e| Failed {
            error: describe(&e),
            commit_sent: true,
        })
    }

    /// Deletes old `rpubsub` rows, at most every [`CLEAN_EVERY`] (any process
    /// may delete any row: listeners fetch a row as soon as they are told).
    fn clean(&mut self) {
        if self.last_clean.is_some_and(|t| t.elapsed() < CLEAN_EVERY) {
            return;
        }
        self.last_clean = Some(Instant::now());
        let sql = format!(
            "DELETE FROM rpubsub WHERE at < now() - interval '{} seconds'",
            KEEP_ROWS.as_secs()
        );
        // Only a process that sends cleans: an idle one keeps no connection.
        if let Some(client) = self.client.as_mut()
            && client.batch_execute(&sql).is_err()
        {
            self.client = None;
        }
    }
}

/// Why a batch was not sent.
struct Failed {
    error: String,
    /// COMMIT was sent: the messages may have gone out.
    commit_sent: bool,
}

/// The listener thread's state.
struct Listener {
    settings: PgSettings,
    channel: String,
    me: String,
    stop: Arc<AtomicBool>,
    /// Told once, when the listener first listens.
    ready: Option<Sender<()>>,
}

impl Listener {
    /// Listens (reconnecting as needed) until the notifier is dropped.
    fn run(mut self, on_incoming: &dyn Fn(Incoming)) {
        let mut connected_before = false;
        let mut failing_since: Option<Instant> = None;
        while !self.stop.load(Ordering::SeqCst) {
            let mut client = match self.connect() {
                Ok(c) => c,
                Err(e) => {
                    if failing_since.is_none() {
                        failing_since = Some(Instant::now());
                        crate::log::warn(&format!("PostgreSQL notifications: cannot listen: {e}; retrying"));
                    }
                    std::thread::sleep(RECONNECT_EVERY);
                    continue;
                }
            };
            if failing_since.take().is_some() {
                crate::log::notice("PostgreSQL notifications: listening again");
            }
            if let Some(ready) = self.ready.take() {
                let _ = ready.send(());
            }
            if std::mem::replace(&mut connected_before, true) {
                on_incoming(Incoming::Reconnected);
            }
            if let Err(e) = self.listen(&mut client, on_incoming) {
                failing_since = Some(Instant::now());
                crate::log::warn(&format!("PostgreSQL notifications: connection lost: {e}; reconnecting"));
            }
        }
    }

    fn connect(&self) -> Result<Client, String> {
        let mut client = self.settings.connect().map_err(|e| e.0)?;
        client
            .batch_execute(&format!("LISTEN \"{}\"", self.channel))
            .map_err(|e| describe(&e))?;
        Ok(client)
    }

    /// Hands over notifications until the connection fails (`Err`) or the
    /// notifier is dropped (`Ok`).
    fn listen(&self, client: &mut Client, on_incoming: &dyn Fn(Incoming)) -> Result<(), String> {
        let mut idle_since = Instant::now();
        let mut payloads = Vec::new();
        while !self.stop.load(Ordering::SeqCst) {
            {
                let mut notifications = client.notifications();
                // Wait for one, then take every one already received.
                let first = notifications.timeout_iter(POLL).next().map_err(|e| describe(&e))?;
                if let Some(n) = first {
                    payloads.push(n.payload().to_string());
                    let mut ready = notifications.iter();
                    while let Some(n) = ready.next().map_err(|e| describe(&e))? {
                        payloads.push(n.payload().to_string());
                    }
                }
            }
            if payloads.is_empty() {
                if client.is_closed() {
                    return Err("connection closed".into());
                }
                if idle_since.elapsed() >= PING_EVERY {
                    client.simple_query("").map_err(|e| describe(&e))?;
                    idle_since = Instant::now();
                }
                continue;
            }
            idle_since = Instant::now();
            for payload in payloads.drain(..) {
                if let Some(message) = self.decode(client, &payload)? {
                    on_incoming(Incoming::Message(message));
                }
            }
        }
        Ok(())
    }

    /// The message a payload carries, `None` if it is this process's own (or
    /// not redsql's), fetching it from `rpubsub` when it was too large to
    /// travel inline.
    fn decode(&self, client: &mut Client, payload: &str) -> Result<Option<Vec<u8>>, String> {
        let Some((from, rest)) = payload.split_once(':') else {
            return Ok(None);
        };
        if from == self.me {
            return Ok(None);
        }
        if let Some((_seq, hex_bytes)) = rest.split_once(':') {
            return Ok(unhex(hex_bytes));
        }
        let Some(id) = rest.split_once('#').and_then(|(_, id)| id.parse::<i64>().ok()) else {
            return Ok(None);
        };
        let row = client
            .query_opt("SELECT payload FROM rpubsub WHERE id = $1", &[&id])
            .map_err(|e| describe(&e))?;
        Ok(row.map(|r| r.get(0)))
    }
}

/// The ACL users shared by the processes of a store, in the table `racl`
/// of its schema: one row per user, `name` and its `ACL LIST` line (`user
/// <name> <rules>`). A change is written in one transaction together with a
/// bus message ([`USERS_CHANGED`]) on the store's channel, so the other
/// processes reload the table once the change is committed.
///
/// Calls connect for each change (ACL changes are rare) on a thread of their
/// own: the synchronous PostgreSQL client cannot run inside an async task.
pub struct SharedUsers {
    settings: PgSettings,
    channel: String,
    /// The id of this process's [`Notifier`], once known: its own changes
    /// are then not handed back to it (it has them already).
    me: OnceLock<String>,
}

pub use crate::engine::backend::{UserRow, UsersChange};

pub use crate::engine::backend::USERS_CHANGED;

const USERS_TABLE: &str = "CREATE TABLE IF NOT EXISTS racl (name bytea PRIMARY KEY, line bytea NOT NULL)";

impl crate::engine::backend::SharedUsers for SharedUsers {
    fn speak_as(&self, id: &str) {
        SharedUsers::speak_as(self, id)
    }

    fn load(&self) -> Result<Vec<UserRow>, String> {
        SharedUsers::load(self)
    }

    fn change(&self, change: UsersChange<'_>) -> Result<(), String> {
        SharedUsers::change(self, change)
    }
}

impl SharedUsers {
    pub fn new(settings: &PgSettings) -> SharedUsers {
        SharedUsers {
            settings: settings.clone(),
            channel: channel_name(&settings.schema),
            me: OnceLock::new(),
        }
    }

    /// Sends the change messages as the process whose notifier has `id`.
    pub fn speak_as(&self, id: &str) {
        let _ = self.me.set(id.to_string());
    }

    /// Every user's (name, line), in name order.
    pub fn load(&self) -> Result<Vec<UserRow>, String> {
        off_runtime(|| {
            let mut client = self.settings.connect().map_err(|e| e.0)?;
            client.batch_execute(USERS_TABLE).map_err(|e| describe(&e))?;
            let rows = client
                .query("SELECT name, line FROM racl ORDER BY name", &[])
                .map_err(|e| describe(&e))?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    /// Applies `change` and tells every process, in one transaction.
    pub fn change(&self, change: UsersChange<'_>) -> Result<(), String> {
        off_runtime(|| {
            let mut client = self.settings.connect().map_err(|e| e.0)?;
            client.batch_execute(USERS_TABLE).map_err(|e| describe(&e))?;
            let mut tx = client.transaction().map_err(|e| describe(&e))?;
            let err = |e: postgres::Error| describe(&e);
            let upsert = "INSERT INTO racl (name, line) VALUES ($1, $2) \
                          ON CONFLICT (name) DO UPDATE SET line = excluded.line";
            match change {
                UsersChange::Set(rows) => {
                    for (name, line) in rows {
                        tx.execute(upsert, &[name, line]).map_err(err)?;
                    }
                }
                UsersChange::Delete(names) => {
                    for name in names {
                        tx.execute("DELETE FROM racl WHERE name = $1", &[name]).map_err(err)?;
                    }
                }
                UsersChange::ReplaceAll(rows) => {
                    tx.execute("DELETE FROM racl", &[]).map_err(err)?;
                    for (name, line) in rows {
                        tx.execute(upsert, &[name, line]).map_err(err)?;
                    }
                }
                UsersChange::Seed(rows) => {
                    // Two processes starting together: one seeds, the other waits and sees rows.
                    tx.execute("LOCK TABLE racl IN EXCLUSIVE MODE", &[]).map_err(err)?;
                    let empty: bool = tx
                        .query_one("SELECT NOT EXISTS (SELECT 1 FROM racl)", &[])
                        .map_err(err)?
                        .get(0);
                    if !empty {
                        return tx.commit().map_err(err);
                    }
                    for (name, line) in rows {
                        tx.execute(upsert, &[name, line]).map_err(err)?;
                    }
                }
            }
            // Before `speak_as` (at start-up), as from nobody in particular.
            let me = self.me.get().map_or("acl", String::as_str);
            let payload = format!("{me}:{}:{}", crate::util::random_u64(), hex(USERS_CHANGED));
            tx.execute("SELECT pg_notify($1, $2)", &[&self.channel, &payload])
                .map_err(err)?;
            tx.commit().map_err(err)
        })
    }
}

/// Runs `f` on a thread of its own and waits for it: the synchronous
/// PostgreSQL client must not run on an async runtime's thread.
fn off_runtime<T: Send>(f: impl FnOnce() -> Result<T, String> + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        scope
            .spawn(f)
            .join()
            .unwrap_or_else(|_| Err("the ACL storage thread panicked".into()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_names_fit_postgresql_identifiers() {
        assert_eq!(channel_name("redsql"), "redsql_redsql");
        let long = "s".repeat(63);
        let name = channel_name(&long);
        assert!(name.len() <= 63 && name.starts_with("redsql_"));
        assert_ne!(name, channel_name(&"t".repeat(63)));
    }
}
