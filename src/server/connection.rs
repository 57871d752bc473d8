//! One client connection: read, parse, check, batch, execute, reply.

use super::Server;
use super::clients::ClientHandle;
use super::multi::{self, Multi};
use super::pubsub::{self, Subscriptions};
use crate::commands::{Command, Handler, lookup};
use crate::engine::{Batch, Call, Watch};
use crate::resp::{Reply, RequestParser};
use bytes::{Bytes, BytesMut};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Most commands parsed from the input before their replies are written.
const MAX_COMMANDS_PER_ROUND: usize = 1024;
/// Read buffer size, and the size above which idle buffers are given back.
const BUF_SIZE: usize = 16 * 1024;
/// Most input buffered while commands run (see `process_watching`).
const WATCH_LIMIT: usize = 64 * BUF_SIZE;

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
}

pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(server: Arc<Server>, mut stream: S, addr: String, laddr: String) {
    let client = server.clients.register(addr, laddr);
    server.stats.connections_received.fetch_add(1, Ordering::Relaxed);
    if server.clients.count() > server.config.maxclients() {
        server.stats.rejected_connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.write_all(b"-ERR max number of clients reached\r\n").await;
        server.clients.unregister(client.id);
        return;
    }
    let authenticated = server.config.requirepass().is_none();
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
        pubsub: Subscriptions::default(),
    };
    let mut parser = RequestParser::new(server.config.proto_max_bulk_len());
    let mut buf = BytesMut::with_capacity(BUF_SIZE);
    let mut out = BytesMut::with_capacity(BUF_SIZE);
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
                // Published messages are written as they come, in order.
                let mut msg = Some(msg);
                while let Some(m) = msg {
                    m.write(session.proto, &mut out);
                    msg = session.pubsub.try_next();
                }
                server.stats.net_output_bytes.fetch_add(out.len() as u64, Ordering::Relaxed);
                if stream.write_all(&out).await.is_err() {
                    break;
                }
                out.clear();
                continue;
            }
            _ = client.kill.notified() => break,
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
            out = BytesMut::with_capacity(BUF_SIZE);
        }
        if buf.is_empty() && buf.capacity() > 4 * BUF_SIZE && !parser.in_request() {
            buf = BytesMut::with_capacity(BUF_SIZE);
        }
    }
    let _ = stream.flush().await;
    pubsub::leave_all(&mut session);
    server.clients.unregister(client.id);
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
            self.client.last_cmd_ms.store(crate::util::now_ms(), Ordering::Relaxed);
            *self.client.last_cmd.lock().unwrap() = cmd.name.clone();
            if self.multi.is_some() && !multi::runs_immediately(cmd) {
                // Nothing is pending in MULTI: MULTI itself flushed.
                let reply = multi::queue(self, Call { cmd, args });
                self.emit(reply, out);
                continue;
            }
            match cmd.handler {
                Handler::Server if pubsub::is_subscription_command(cmd) => {
                    self.flush(&mut pending, out).await;
                    for reply in pubsub::subscription(self, cmd, &args) {
                        self.emit(reply, out);
                    }
                }
                _ if let Some(reply) = pubsub::subscriber_ping(self, cmd, &args) => {
                    self.flush(&mut pending, out).await;
                    self.emit(reply, out);
                }
                Handler::Server => {
                    self.flush(&mut pending, out).await;
                    let reply = if multi::is_transaction_command(cmd) {
                        Some(multi::run(self, cmd, &args).await)
                    } else {
                        super::commands::run(self, cmd, &args).await
                    };
                    if let Some(reply) = reply {
                        self.emit(reply, out);
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
        let batch = Batch {
            db: self.db,
            proto: self.proto,
            calls,
        };
        let outcome = self.server.engine.run(batch).await;
        self.db = outcome.db;
        self.client.db.store(self.db, Ordering::Relaxed);
        for reply in outcome.replies {
            self.emit(reply, out);
        }
    }

    /// Appends a reply, honouring `CLIENT REPLY`. Pub/Sub messages already
    /// queued for this connection go first, as they would in Redis's output
    /// buffer (a client publishing to itself gets the message, then the count).
    pub fn emit(&mut self, reply: Reply, out: &mut BytesMut) {
        while let Some(m) = self.pubsub.try_next() {
            m.write(self.proto, out);
        }
        if reply.is_error() {
            self.server.stats.total_error_replies.fetch_add(1, Ordering::Relaxed);
        }
        match self.reply_mode {
            ReplyMode::On => reply.write(self.proto, out),
            ReplyMode::Off => {}
            ReplyMode::Skip => self.reply_mode = ReplyMode::On,
            ReplyMode::SkipNext => self.reply_mode = ReplyMode::Skip,
        }
    }

    /// Redis's checks before running a command, in Redis's order.
    fn check(&self, args: &[Bytes]) -> Result<&'static Command, Reply> {
        let Some(mut cmd) = lookup(&args[0]) else {
            return Err(unknown_command(args));
        };
        if !cmd.subcommands.is_empty() && args.len() >= 2 {
            match cmd.subcommands.get(&args[1].to_ascii_lowercase()) {
                Some(sub) => cmd = sub,
                None => {
                    let mut msg = b"ERR unknown subcommand '".to_vec();
                    msg.extend_from_slice(&args[1][..args[1].len().min(128)]);
                    msg.extend_from_slice(format!("'. Try {} HELP.", cmd.name.to_uppercase()).as_bytes());
                    return Err(Reply::Error(msg.into()));
                }
            }
        }
        if !cmd.arity_ok(args.len()) {
            return Err(Reply::error(format!(
                "ERR wrong number of arguments for '{}' command",
                cmd.name
            )));
        }
        if !self.authenticated && !cmd.no_auth {
            return Err(Reply::error("NOAUTH Authentication required."));
        }
        Ok(cmd)
    }
}

/// `ERR unknown command 'x', with args beginning with: 'a' 'b' ` as Redis words it.
pub fn unknown_command(args: &[Bytes]) -> Reply {
    let mut list = Vec::new();
    for a in &args[1..] {
        if list.len() >= 128 {
            break;
        }
        let room = 128 - list.len();
        list.push(b'\'');
        list.extend_from_slice(&a[..a.len().min(room)]);
        list.extend_from_slice(b"' ");
    }
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(&args[0][..args[0].len().min(128)]);
    msg.extend_from_slice(b"', with args beginning with: ");
    msg.extend_from_slice(&list);
    Reply::Error(msg.into())
}
