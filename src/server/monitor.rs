//! MONITOR: every command the server runs, streamed to the clients that asked.
//!
//! Executed commands are formatted once, as Redis does
//! (`1700000000.123456 [0 127.0.0.1:54321] "SET" "k" "v"`, arguments quoted
//! with Redis's `sdscatrepr` escaping), and sent on a broadcast channel; each
//! monitoring connection holds a receiver and writes the lines as status
//! replies. Nothing is formatted while nobody monitors. Like Redis, commands
//! flagged `admin` or `skip_monitor` are not shown, commands refused before
//! running (unknown, wrong arity, NOAUTH) are not shown, and AUTH / HELLO AUTH
//! credentials show as `(redacted)`.
//!
//! The database shown is the client's after the command (as Redis feeds
//! monitors after the call); for a pipelined batch of storage commands it is
//! the database at the end of the batch. A monitor that falls more than
//! `CAPACITY` lines behind skips the lines it missed.

use super::clients::ClientHandle;
use crate::commands::Command;
use bytes::Bytes;
use tokio::sync::broadcast;

/// Lines buffered per monitor before a slow one starts missing lines.
const CAPACITY: usize = 16 * 1024;

/// The monitors' channel.
pub struct Monitors {
    tx: broadcast::Sender<Bytes>,
}

impl Default for Monitors {
    fn default() -> Self {
        Monitors {
            tx: broadcast::channel(CAPACITY).0,
        }
    }
}

impl Monitors {
    /// Whether any client is monitoring.
    pub fn active(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    /// A new monitor's receiver.
    pub fn subscribe(&self) -> broadcast::Receiver<Bytes> {
        self.tx.subscribe()
    }

    /// Shows an executed command to the monitors. `unixsocket` is the socket
    /// path, shown for clients connected through it.
    pub fn feed(&self, cmd: &Command, args: &[Bytes], db: u32, client: &ClientHandle, unixsocket: &str) {
        if !self.active() || cmd.has_flag("admin") || cmd.has_flag("skip_monitor") {
            return;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let who = if client.addr.parse::<std::net::SocketAddr>().is_ok() {
            client.addr.clone()
        } else {
            format!("unix:{unixsocket}")
        };
        let mut line = format!("{}.{:06} [{db} {who}]", now.as_secs(), now.subsec_micros()).into_bytes();
        for a in super::slowlog::redacted(cmd, args).iter() {
            line.push(b' ');
            repr(&mut line, a);
        }
        // No receiver left (all monitors gone) is not an error.
        let _ = self.tx.send(Bytes::from(line));
    }
}

/// Waits for the next line of a monitor; never returns for a non-monitor.
pub async fn next_line(rx: &mut Option<broadcast::Receiver<Bytes>>) -> Option<Bytes> {
    let Some(rx) = rx else {
        return std::future::pending().await;
    };
    loop {
        match rx.recv().await {
            Ok(line) => return Some(line),
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}

/// Redis's `sdscatrepr`: a double-quoted string with `\\`, `\"`, `\n`, `\r`,
/// `\t`, `\a`, `\b` escaped and other non-printable bytes as `\xhh`.
pub fn repr(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            7 => out.extend_from_slice(b"\\a"),
            8 => out.extend_from_slice(b"\\b"),
            c if c.is_ascii_graphic() || c == b' ' => out.push(c),
            c => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::repr;

    #[test]
    fn repr_escapes_like_redis() {
        let mut out = Vec::new();
        repr(&mut out, b"a\"b\\c\n\r\t\x07\x08\x00\xff ~");
        assert_eq!(out, b"\"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x00\\xff ~\"");
    }
}
