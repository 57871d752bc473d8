//! One client connection: read, parse, check, batch, execute, reply.

use super::Server;
use super::clients::ClientHandle;
use super::commands::{self, Run};
use super::multi::{self, Multi};
use super::notify::OwnMessages;
use super::pubsub::{self, Subscriptions};
use crate::commands::events::Place;
use crate::commands::{Command, Handler};
use crate::engine::{Batch, Call, Reported, Watch};
use crate::resp::{Reply, RequestParser};
use bytes::{Bytes, BytesMut};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Most commands parsed from the input before their replies are written.
const MAX_COMMANDS_PER_ROUND: usize = 1024;
/// Read buffer size, and the size above which idle buffers are given back.
const BUF_SIZE: usize = 16 * 1024;
/// A new connection's read buffer. Most connections are idle or send one
/// small command at a time, and 10,000 of them should not cost 10,000 full
/// buffers; a connection that fills it grows it to `BUF_SIZE` on its next read.
/// (Its reply buffer starts empty and grows with its first replies.)
const FIRST_BUF_SIZE: usize = 2 * 1024;
/// Most input buffered while commands run (see `process_watching`).
const WATCH_LIMIT: usize = 64 * BUF_SIZE;

/// Most bytes of published messages taken from a connection's queue for one
/// write: the others stay in the queue, where the output buffer limit
/// counts them.
const PUBSUB_WRITE: usize = 64 << 10;

/// Redis's answer to a non-loopback client in protected mode (the connection then closes).
const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Protected mode (Redis's `protected-mode yes`, the default): while the
/// default user is `nopass`, only loopback clients are served. `peer` is
/// the client's address as `ip:port`; anything else (a Unix socket path) is
/// local. The setting and the password are read per connection, so
/// `CONFIG SET protected-mode no` applies to the next connection.
fn denied_by_protected_mode(server: &Server, peer: &str) -> bool {
    if !server.config.get_bool("protected-mode") || !server.acl.default_nopass() {
        return false;
    }
    peer.parse::<std::net::SocketAddr>().is_ok_and(|a| !is_loopback(&a))
}

/// Whether a TCP peer counts as local for protected mode: exactly 127.0.0.1
/// or ::1, as Redis 7.0's `islocalClient` compares them (127.0.0.2 and the
/// rest of 127.0.0.0/8 are not), and 127.0.0.1 mapped into IPv6
/// (`::ffff:127.0.0.1`), which a dual-stack listener reports for it.
pub fn is_loopback(peer: &std::net::SocketAddr) -> bool {
    const LOCAL: std::net::Ipv4Addr = std::net::Ipv4Addr::LOCALHOST;
    match peer.ip() {
        std::net::IpAddr::V4(ip) => ip == LOCAL,
        std::net::IpAddr::V6(ip) => ip == std::net::Ipv6Addr::LOCALHOST || ip.to_ipv4_mapped() == Some(LOCAL),
    }
}

/// `CLIENT REPLY` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the reply of the next command only.
    Skip,
    /// Set by `CLIENT REPLY SKIP`; becomes `Skip` after the current command.
    SkipNext,
}

/// A connection's private state.
pub struct Session {
    pub server: Arc<Server>,
    pub client: Arc<ClientHandle>,
    pub db: u32,
    pub proto: u8,
    pub authenticated: bool,
    pub reply_mode: ReplyMode,
    /// Set by QUIT: close after writing the replies.
    pub quit: bool,
    /// The transaction being queued, between MULTI and EXEC/DISCARD.
    pub multi: Option<Multi>,
    /// Keys WATCHed since the last EXEC, DISCARD, UNWATCH or RESET.
    pub watched: Vec<Watch>,
    /// Pub/Sub subscriptions and the queue of messages published to them.
    pub pubsub: Subscriptions,
    /// Set by MONITOR: the executed commands this connection streams.
    pub monitor: Option<tokio::sync::broadcast::Receiver<Bytes>>,
    /// The events reported by the storage step of the server command being
    /// run (a blocking pop that popped), so that its reply is written with
    /// its own keyspace messages where Redis writes them.
    pub own_events: Vec<Reported>,
}

pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(server: Arc<Server>, mut stream: S, addr: String, laddr: String) {
    let client = server.clients.register(addr, laddr, server.acl.default_user());
    server.stats.connections_received.fetch_add(1, Ordering::Relaxed);
    if server.clients.count() > server.config.maxclients() {
        server.stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.write_all(b"-ERR max number of clients reached\r\n").await;
        server.clients.unregister(client.id);
        return;
    }
    if denied_by_protected_mode(&server, &client.addr) {
        server.stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.write_all(PROTECTED_MODE_DENIED).await;
        server.clients.unregister(client.id);
        return;
    }
    let authenticated = super::acl::starts_authenticated(&server);
    let mut session = Session {
        server: server.clone(),
        client: client.clone(),
        db: 0,
        proto: 2,
        authenticated,
        reply_mode: ReplyMode::On,
        quit: false,
        multi: None,
        watched: Vec::new(),
        pubsub: Subscriptions::new(client.clone()),
        monitor: None,
        own_events: Vec::new(),
    };
    let mut parser = RequestParser::new(server.config.proto_max_bulk_len());
    let mut buf = BytesMut::with_capacity(FIRST_BUF_SIZE);
    let mut out = BytesMut::new();
    'conn: loop {
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(BUF_SIZE);
        }
        let n = tokio::select! {
            r = stream.read_buf(&mut buf) => match r {
                Ok(n) => n,
                Err(_) => break,
            },
            Some(msg) = session.pubsub.next() => {
                // Published messages are written as they come, in order, a
                // few at a time: the rest stay counted in the queue (the
                // output buffer limit), and a slow reader's kill is seen
                // while its write waits.
                let mut msg = Some(msg);
                while let Some(m) = msg {
                    m.write(session.proto, &mut out);
                    msg = if out.len() < PUBSUB_WRITE { session.pubsub.try_next() } else { None };
                }
                server.stats.net_output_bytes.fetch_add(out.len() as u64, Ordering::Relaxed);
                tokio::select! {
                    r = stream.write_all(&out) => if r.is_err() { break },
                    _ = client.kill.notified() => break,
                }
                out.clear();
                continue;
            }
            _ = client.kill.notified() => break,
            line = super::monitor::next_line(&mut session.monitor) => {
                let Some(line) = line else { break };
                let mut status = Vec::with_capacity(line.len() + 3);
                status.push(b'+');
                status.extend_from_slice(&line);
                status.extend_from_slice(b"\r\n");
                if stream.write_all(&status).await.is_err() {
                    break;
                }
                continue;
            }
        };
        if n == 0 || client.killed.load(Ordering::Relaxed) {
            break;
        }
        client.input_bytes.fetch_add(n as u64, Ordering::Relaxed);
        // CONFIG SET proto-max-bulk-len applies from the next read on.
        parser.max_bulk = server.config.proto_max_bulk_len();
        server.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
        loop {
            let mut cmds = Vec::new();
            let mut proto_error = None;
            let unauth_limits = !session.authenticated;
            while cmds.len() < MAX_COMMANDS_PER_ROUND {
                match parser.next(&mut buf, !unauth_limits) {
                    Ok(Some(args)) => cmds.push(args),
                    Ok(None) => break,
                    Err(e) => {
                        proto_error = Some(e);
                        break;
                    }
                }
            }
            let more = cmds.len() == MAX_COMMANDS_PER_ROUND;
            let got_more = process_watching(&mut session, cmds, &mut out, &mut stream, &mut buf).await;
            if let Some(e) = proto_error {
                e.reply().write(session.proto, &mut out);
                let _ = stream.write_all(&out).await;
                break 'conn;
            }
            if !out.is_empty() {
                server
                    .stats
                    .net_output_bytes
                    .fetch_add(out.len() as u64, Ordering::Relaxed);
                if stream.write_all(&out).await.is_err() {
                    break 'conn;
                }
                out.clear();
            }
            if session.quit || client.killed.load(Ordering::Relaxed) {
                break 'conn;
            }
            if !more && !got_more {
                break;
            }
        }
        if out.capacity() > 4 * BUF_SIZE {
            release(std::mem::replace(&mut out, BytesMut::with_capacity(BUF_SIZE)));
        }
        if buf.is_empty() && buf.capacity() > 4 * BUF_SIZE && !parser.in_request() {
            release(std::mem::replace(&mut buf, BytesMut::with_capacity(BUF_SIZE)));
        }
    }
    let _ = stream.flush().await;
    release(out);
    release(buf);
    pubsub::leave_all(&mut session);
    server.clients.unregister(client.id);
}

/// Frees a buffer that grew for one big request or reply off the event
/// loop: returning hundreds of megabytes to the OS (`munmap`) takes tens of
/// milliseconds, which would stall every other client.
fn release(buffer: BytesMut) {
    if buffer.capacity() >= 1 << 20 {
        crate::engine::background::spawn(move || drop(buffer));
    }
}

/// Runs a round of commands while watching the socket, as Redis's event loop
/// does: input that arrives meanwhile is appended to `buf` (up to
/// `WATCH_LIMIT`), and if the peer closes the connection the client is
/// marked hung up, which ends a blocked command's wait (Redis frees a blocked
/// client whose connection closes). True if more input was read.
async fn process_watching<S: AsyncRead + Unpin>(
    session: &mut Session,
    cmds: Vec<Vec<Bytes>>,
    out: &mut BytesMut,
    stream: &mut S,
    buf: &mut BytesMut,
) -> bool {
    let client = session.client.clone();
    let server = session.server.clone();
    let process = session.process(cmds, out);
    tokio::pin!(process);
    let (mut open, mut got_more) = (!client.hung_up.load(Ordering::Relaxed), false);
    loop {
        tokio::select! {
            _ = &mut process => return got_more,
            r = stream.read_buf(buf), if open && buf.len() < WATCH_LIMIT => match r {
                Ok(0) | Err(_) => {
                    open = false;
                    client.hang_up();
                }
                Ok(n) => {
                    got_more = true;
                    client.input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                    server.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
            },
        }
    }
}

impl Session {
    /// Runs a round of parsed commands, appending their replies to `out` in order.
    async fn process(&mut self, cmds: Vec<Vec<Bytes>>, out: &mut BytesMut) {
        let mut pending: Vec<Call> = Vec::new();
        for args in cmds {
            if self.quit {
                break;
            }
            self.server.stats.commands_processed.fetch_add(1, Ordering::Relaxed);
            let cmd = match self
                .check(&args)
                .and_then(|cmd| match pubsub::refuse_in_subscriber_mode(self, cmd) {
                    Some(reply) => Err(reply),
                    None => Ok(cmd),
                }) {
                Ok(cmd) => cmd,
                Err(reply) => {
                    self.flush(&mut pending, out).await;
                    let reply = multi::refused(self, &args, reply);
                    self.emit(reply, out);
                    continue;
                }
            };
            if self.server.pause.active() {
                // CLIENT PAUSE: earlier commands finish, this one waits.
                self.flush(&mut pending, out).await;
                super::pause::wait(self, cmd).await;
            }
            self.client.last_cmd_ms.store(crate::util::now_ms(), Ordering::Relaxed);
            // clone_from reuses the buffer: no allocation per command.
            self.client.last_cmd.lock().unwrap().clone_from(&cmd.name);
            if self.multi.is_some() && !cmd.spec.immediate_in_multi {
                // Nothing is pending in MULTI: MULTI itself flushed.
                let reply = multi::queue(self, Call { cmd, args });
                self.emit(reply, out);
                continue;
            }
            if let Some(reply) = pubsub::subscriber_reply(self, cmd, &args) {
                self.flush(&mut pending, out).await;
                self.emit(reply, out);
                continue;
            }
            if let Some(blocking) = cmd.spec.blocking
                && let Some(wait) = (blocking.wait)(&args)
            {
                self.flush(&mut pending, out).await;
                let started = Instant::now();
                let reply = super::blocking::run(self, cmd, &args, wait).await;
                self.executed(cmd, &args, crate::util::micros_since(started));
                let events = std::mem::take(&mut self.own_events);
                if let Some(reply) = reply {
                    self.emit_outcome(vec![reply], &events, out);
                }
                continue;
            }
            match cmd.spec.handler {
                Handler::Server(index) => {
                    self.flush(&mut pending, out).await;
                    let started = Instant::now();
                    let reply = match commands::run_of(index) {
                        Run::Each(f) => {
                            for reply in f(self, cmd, &args) {
                                self.emit(reply, out);
                            }
                            continue;
                        }
                        Run::Now(f) => f(self, cmd, &args),
                        Run::Later(f) => f(self, cmd, &args).await,
                    };
                    self.executed(cmd, &args, crate::util::micros_since(started));
                    let events = std::mem::take(&mut self.own_events);
                    if let Some(reply) = reply {
                        self.emit_outcome(vec![reply], &events, out);
                    }
                }
                handler => {
                    if matches!(handler, Handler::Write(_)) {
                        self.server.dirty.fetch_add(1, Ordering::Relaxed);
                    }
                    pending.push(Call { cmd, args })
                }
            }
        }
        self.flush(&mut pending, out).await;
    }

    /// Runs the pending storage commands as one batch.
    async fn flush(&mut self, pending: &mut Vec<Call>, out: &mut BytesMut) {
        if pending.is_empty() {
            return;
        }
        let calls = std::mem::take(pending);
        // The arguments outlive the batch only when a log may want them.
        let traced: Option<Vec<(&'static Command, Vec<Bytes>)>> = self
            .tracing()
            .then(|| calls.iter().map(|c| (c.cmd, c.args.clone())).collect());
        let keys_restricted = super::acl::keys_restricted(self, &calls);
        let acl = super::acl::restrictions(self, &calls);
        let batch = Batch {
            db: self.db,
            proto: self.proto,
            calls,
            keys_restricted,
            acl,
        };
        let outcome = self.server.engine.run(batch).await;
        self.db = outcome.db;
        self.client.db.store(self.db, Ordering::Relaxed);
        if let Some(traced) = traced {
            // A batch runs as one engine job: its commands share the time it
            // ran (as in Redis, not the time it waited behind other clients'
            // writes or for its commit).
            let each = outcome.micros / traced.len() as i64;
            for (cmd, args) in &traced {
                self.executed(cmd, args, each);
            }
        }
        self.emit_outcome(outcome.replies, &outcome.events, out);
    }

    /// Appends the replies of a batch. A connection subscribed to the
    /// keyspace events its own commands reported gets each command's
    /// messages where Redis writes them: around, or inside, that command's
    /// reply (see `notify::OwnMessages`).
    fn emit_outcome(&mut self, replies: Vec<Reply>, events: &[Reported], out: &mut BytesMut) {
        if events.is_empty() || self.pubsub.total() == 0 {
            for reply in replies {
                self.emit(reply, out);
            }
            return;
        }
        let set = self.server.config.keyspace_events().reported();
        let mut own = OwnMessages::new(&mut self.pubsub, set, self.proto, events);
        for (i, reply) in replies.into_iter().enumerate() {
            if self.reply_mode == ReplyMode::On {
                if reply.is_error() {
                    self.server.stats.total_error_replies.fetch_add(1, Ordering::Relaxed);
                }
                own.write_reply(i, &reply, out);
            } else {
                own.write(i, &Place::BeforeReply, out);
                self.emit_reply(reply, out);
                own.write(i, &Place::AfterReply, out);
            }
        }
        own.finish(out);
    }

    /// Appends a reply, honouring `CLIENT REPLY`. Pub/Sub messages already
    /// queued for this connection go first, as they would in Redis's output
    /// buffer (a client publishing to itself gets the message, then the count).
    pub fn emit(&mut self, reply: Reply, out: &mut BytesMut) {
        while let Some(m) = self.pubsub.try_next() {
            m.write(self.proto, out);
        }
        self.emit_reply(reply, out);
    }

    /// [`Session::emit`] without the queued messages first.
    fn emit_reply(&mut self, reply: Reply, out: &mut BytesMut) {
        if reply.is_error() {
            self.server.stats.total_error_replies.fetch_add(1, Ordering::Relaxed);
        }
        match self.reply_mode {
            // A reply rendered ahead (a big slow read, see the engine's
            // `prerender`) becomes the output buffer itself when that is
            // empty, instead of being copied into it on the event loop.
            ReplyMode::On => match reply {
                Reply::Raw(raw) if out.is_empty() => match raw.try_into_mut() {
                    Ok(raw) => *out = raw,
                    Err(raw) => out.extend_from_slice(&raw),
                },
                reply => reply.write(self.proto, out),
            },
            ReplyMode::Off => {}
            ReplyMode::Skip => self.reply_mode = ReplyMode::On,
            ReplyMode::SkipNext => self.reply_mode = ReplyMode::Skip,
        }
    }

    /// Whether executed commands must be reported (slow log on, or monitors).
    pub(super) fn tracing(&self) -> bool {
        let config = &self.server.config;
        (config.slowlog_log_slower_than() >= 0 && config.slowlog_max_len() > 0) || self.server.monitors.active()
    }

    /// Reports a command that ran `micros` microseconds to the slow log and the monitors.
    pub(super) fn executed(&self, cmd: &Command, args: &[Bytes], micros: i64) {
        let server = &self.server;
        server.slowlog.record(&server.config, cmd, args, micros, &self.client);
        if server.monitors.active() {
            let socket = server.config.get("unixsocket").unwrap_or_default();
            server.monitors.feed(cmd, args, self.db, &self.client, &socket);
        }
    }

    /// Redis's checks before running a command, in Redis's order.
    fn check(&self, args: &[Bytes]) -> Result<&'static Command, Reply> {
        let cmd = crate::commands::table::check(commands::table(), args)?;
        super::acl::check_command(self, cmd, args)?;
        if self.monitor.is_some() && ["write", "readonly", "may_replicate"].iter().any(|f| cmd.has_flag(f)) {
            // Redis treats a monitor as a replica, which may not use keys.
            return Err(Reply::error("ERR Replica can't interact with the keyspace"));
        }
        Ok(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_peers() {
        for a in ["127.0.0.1:5", "[::1]:80", "[::ffff:127.0.0.1]:9"] {
            assert!(is_loopback(&a.parse().unwrap()), "{a}");
        }
        for a in [
            "127.0.0.2:6379",
            "127.255.255.254:1",
            "[::ffff:127.0.0.2]:9",
            "10.0.0.1:5",
            "192.168.1.2:6379",
            "0.0.0.0:1",
            "[::2]:80",
            "[::ffff:10.0.0.1]:9",
            "[fe80::1]:3",
        ] {
            assert!(!is_loopback(&a.parse().unwrap()), "{a}");
        }
    }
}
