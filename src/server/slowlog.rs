//! SLOWLOG: the commands that ran longer than `slowlog-log-slower-than`
//! microseconds (0 logs every command, a negative value disables the log),
//! newest first, at most `slowlog-max-len` entries.
//!
//! Entries are Redis's: `[id, unix time, duration µs, args, client addr,
//! client name]`, with the arguments shortened as Redis does (at most 32, the
//! last one then saying `... (N more arguments)`; each at most 128 bytes,
//! followed by `... (N more bytes)`). AUTH's and HELLO AUTH's credentials are
//! logged as `(redacted)`, and commands flagged `skip_slowlog` (EXEC) are not
//! logged.
//!
//! Durations: a server-level command is timed alone; storage commands run in
//! batches (a pipeline's consecutive commands share one engine job), so each
//! command of a batch is given the batch's duration divided by its size.

/// The SLOWLOG subcommands.
pub const COMMANDS: &[ServerSpec] = &[
    ServerSpec::now("slowlog|get", slowlog),
    ServerSpec::now("slowlog|len", slowlog),
    ServerSpec::now("slowlog|reset", slowlog),
    ServerSpec::now("slowlog|help", slowlog),
];

/// Runs a SLOWLOG subcommand.
fn slowlog(s: &mut Session, cmd: &'static Command, args: &[Bytes]) -> Option<Reply> {
    let sub = cmd.name.strip_prefix("slowlog|").unwrap_or_default();
    Some(s.server.slowlog.command(sub, args))
}

use super::clients::ClientHandle;
use super::commands::ServerSpec;
use super::config::Config;
use super::connection::Session;
use crate::commands::Command;
use crate::resp::Reply;
use bytes::Bytes;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Most arguments kept per entry (the last one then counts the rest).
const MAX_ARGS: usize = 32;
/// Most bytes kept per argument.
const MAX_ARG_BYTES: usize = 128;

struct Entry {
    id: i64,
    time: i64,
    micros: i64,
    args: Vec<Bytes>,
    addr: String,
    name: Bytes,
}

#[derive(Default)]
struct Log {
    next_id: i64,
    /// Newest first.
    entries: VecDeque<Entry>,
}

/// The server's slow log.
#[derive(Default)]
pub struct SlowLog {
    log: Mutex<Log>,
}

impl SlowLog {
    /// Whether a command taking `micros` would be logged: cheap, so callers
    /// can skip keeping the arguments otherwise.
    pub fn wants(config: &Config, micros: i64) -> bool {
        let threshold = config.slowlog_log_slower_than();
        threshold >= 0 && config.slowlog_max_len() > 0 && micros >= threshold
    }

    /// Logs a command that ran `micros` microseconds, if it was slow enough.
    pub fn record(&self, config: &Config, cmd: &Command, args: &[Bytes], micros: i64, client: &ClientHandle) {
        if !Self::wants(config, micros) || cmd.has_flag("skip_slowlog") {
            return;
        }
        let entry_args = shorten(&redacted(cmd, args));
        let name = client.name.lock().unwrap().clone().unwrap_or_default();
        let mut log = self.log.lock().unwrap();
        let id = log.next_id;
        log.next_id += 1;
        log.entries.push_front(Entry {
            id,
            time: crate::util::now_ms() / 1000,
            micros,
            args: entry_args,
            addr: client.addr.clone(),
            name,
        });
        let max = config.slowlog_max_len().max(0) as usize;
        log.entries.truncate(max);
    }

    /// `SLOWLOG GET|LEN|RESET|HELP`; `sub` is the lowercase subcommand.
    pub fn command(&self, sub: &str, args: &[Bytes]) -> Reply {
        match sub {
            "get" => self.get(args),
            "len" => Reply::Int(self.log.lock().unwrap().entries.len() as i64),
            "reset" => {
                self.log.lock().unwrap().entries.clear();
                Reply::ok()
            }
            _ => crate::commands::help(
                "SLOWLOG",
                &[
                    "GET [<count>]",
                    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                    "    Entries are made of:",
                    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                    "    client name",
                    "LEN",
                    "    Return the length of the slowlog.",
                    "RESET",
                    "    Reset the slowlog.",
                ],
            ),
        }
    }

    /// `SLOWLOG GET [count]`: the newest `count` entries (10 by default, -1 for all).
    fn get(&self, args: &[Bytes]) -> Reply {
        if args.len() > 3 {
            let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
            msg.extend_from_slice(&args[1]);
            msg.extend_from_slice(b"'. Try SLOWLOG HELP.");
            return Reply::Error(msg.into());
        }
        let count = match args.get(2) {
            None => 10,
            Some(a) => match crate::commands::args::int(a) {
                Ok(-1) => usize::MAX,
                Ok(n) if n >= 0 => n as usize,
                _ => return Reply::error("ERR count should be greater than or equal to -1"),
            },
        };
        let log = self.log.lock().unwrap();
        let entries = log.entries.iter().take(count).map(|e| {
            Reply::Array(vec![
                Reply::Int(e.id),
                Reply::Int(e.time),
                Reply::Int(e.micros),
                Reply::Array(e.args.iter().cloned().map(Reply::Bulk).collect()),
                Reply::Bulk(Bytes::from(e.addr.clone())),
                Reply::Bulk(e.name.clone()),
            ])
        });
        Reply::Array(entries.collect())
    }
}

/// The arguments as logs show them (SLOWLOG, MONITOR): AUTH's arguments,
/// HELLO's `AUTH username password` and ACL SETUSER's user and rules replaced
/// by `(redacted)`, as Redis 7.0 does.
pub fn redacted<'a>(cmd: &Command, args: &'a [Bytes]) -> Cow<'a, [Bytes]> {
    match cmd.spec.redact {
        Some(redact) => {
            let mut v = args.to_vec();
            redact(&mut v);
            Cow::Owned(v)
        }
        None => Cow::Borrowed(args),
    }
}

/// What a redacted argument becomes.
pub const REDACTED: Bytes = Bytes::from_static(b"(redacted)");

/// AUTH: every argument.
pub fn redact_all(args: &mut [Bytes]) {
    args[1..].fill(REDACTED);
}

/// HELLO: the user and password of `AUTH user password`.
pub fn redact_hello(v: &mut [Bytes]) {
    let mut i = 2;
    while i < v.len() {
        if v[i].eq_ignore_ascii_case(b"AUTH") && i + 2 < v.len() {
            v[i + 1] = REDACTED;
            v[i + 2] = REDACTED;
            i += 3;
        } else if v[i].eq_ignore_ascii_case(b"SETNAME") {
            i += 2;
        } else {
            i += 1;
        }
    }
}

/// Redis's shortening of a slowlog entry's arguments.
fn shorten(args: &[Bytes]) -> Vec<Bytes> {
    let kept = args.len().min(MAX_ARGS);
    let mut out = Vec::with_capacity(kept);
    for (i, a) in args.iter().take(kept).enumerate() {
        if kept != args.len() && i == kept - 1 {
            out.push(Bytes::from(format!("... ({} more arguments)", args.len() - kept + 1)));
        } else if a.len() > MAX_ARG_BYTES {
            let mut s = a[..MAX_ARG_BYTES].to_vec();
            s.extend_from_slice(format!("... ({} more bytes)", a.len() - MAX_ARG_BYTES).as_bytes());
            out.push(Bytes::from(s));
        } else {
            out.push(a.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_arguments_are_shortened_like_redis() {
        let args: Vec<Bytes> = (0..40).map(|i| Bytes::from(format!("a{i}"))).collect();
        let s = shorten(&args);
        assert_eq!(s.len(), 32);
        assert_eq!(s[30], Bytes::from("a30"));
        assert_eq!(s[31], Bytes::from("... (9 more arguments)"));
        let big = vec![Bytes::from(vec![b'x'; 130])];
        let s = shorten(&big);
        assert_eq!(&s[0][..128], &[b'x'; 128][..]);
        assert_eq!(&s[0][128..], b"... (2 more bytes)");
        let exact: Vec<Bytes> = (0..32).map(|i| Bytes::from(format!("{i}"))).collect();
        assert_eq!(shorten(&exact), exact);
    }
}
