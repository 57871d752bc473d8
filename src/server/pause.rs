//! CLIENT PAUSE / UNPAUSE (Redis 7.0): while a pause lasts, clients' commands
//! wait before running — every command with `ALL`, and with `WRITE` only
//! those that may change data or replicate (write and `may_replicate`
//! commands such as PUBLISH, and EXEC of a transaction holding one). The
//! pause ends at its deadline or on CLIENT UNPAUSE; the waiting commands
//! then run in order.

use super::connection::Session;
use crate::commands::Command;
use crate::commands::spec;
use crate::resp::Reply;
use bytes::Bytes;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// What a pause stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    Write,
    All,
}

/// The server's pause state.
#[derive(Default)]
pub struct Pause {
    /// The pause in force: its mode and when it ends.
    state: Mutex<Option<(Mode, Instant)>>,
    /// Whether `state` may hold a pause: read before every command, so that
    /// no lock is taken when nothing is paused.
    on: AtomicBool,
    /// Notified when the pause ends early (UNPAUSE) or changes.
    changed: Notify,
}

impl Pause {
    /// Starts or extends a pause. As in Redis, a later deadline and the more
    /// restrictive mode win over those of a pause already in force.
    pub fn pause(&self, mode: Mode, until: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *state = Some(match *state {
            Some((m, end)) if end > Instant::now() => (m.max(mode), end.max(until)),
            _ => (mode, until),
        });
        self.on.store(true, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    pub fn unpause(&self) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = None;
        self.on.store(false, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    /// The deadline of the pause that stops `mode` commands, if one is in force.
    /// A pause that has run out is forgotten here.
    fn stops(&self, write: bool) -> Option<Instant> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match *state {
            Some((_, end)) if end <= Instant::now() => {
                *state = None;
                self.on.store(false, Ordering::SeqCst);
                None
            }
            Some((mode, end)) if mode == Mode::All || write => Some(end),
            _ => None,
        }
    }

    /// Whether a pause may be in force (a lock-free check before each command).
    pub fn active(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }
}

/// Whether the command counts as a write for `CLIENT PAUSE WRITE`.
fn may_replicate(s: &Session, cmd: &Command) -> bool {
    if cmd.spec.pause == spec::Pause::AsQueued {
        return super::multi::queued_may_replicate(s);
    }
    is_write_like(cmd)
}

/// A write, `may_replicate` in Redis's flags, or held by its spec
/// ([`spec::Pause::Write`]: PUBLISH reaches replicas, scripts may write).
pub fn is_write_like(cmd: &Command) -> bool {
    cmd.write || cmd.has_flag("may_replicate") || cmd.spec.pause == spec::Pause::Write
}

/// Waits while a pause stops this command. Returns early if the client is
/// killed or hangs up.
pub async fn wait(s: &Session, cmd: &Command) {
    let pause = &s.server.pause;
    if !pause.active() {
        return;
    }
    let write = may_replicate(s, cmd);
    loop {
        let changed = pause.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let Some(end) = pause.stops(write) else { return };
        if s.client.killed.load(Ordering::Relaxed) || s.client.hung_up.load(Ordering::Relaxed) {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(end.into()) => {}
            _ = &mut changed => {}
            _ = s.client.kill.notified() => {
                // Leave the notification for the connection loop.
                s.client.kill.notify_one();
                return;
            }
        }
    }
}

/// `CLIENT PAUSE timeout [WRITE|ALL]`.
pub fn client_pause(s: &Session, args: &[Bytes]) -> Reply {
    let Some(ms) = crate::resp::request::parse_i64(&args[2]) else {
        return Reply::error("ERR timeout is not an integer or out of range");
    };
    if ms < 0 {
        return Reply::error("ERR timeout is negative");
    }
    let mode = match args.get(3) {
        None => Mode::All,
        Some(m) if m.eq_ignore_ascii_case(b"write") => Mode::Write,
        Some(m) if m.eq_ignore_ascii_case(b"all") => Mode::All,
        Some(_) => return Reply::error("ERR CLIENT PAUSE mode must be WRITE or ALL"),
    };
    // A timeout beyond any real deadline pauses for a century.
    let until = Instant::now()
        .checked_add(Duration::from_millis(ms as u64))
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 86400));
    s.server.pause.pause(mode, until);
    Reply::ok()
}
