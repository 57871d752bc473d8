//! Pub/Sub, as in Redis 7.0 on a single instance: SUBSCRIBE, UNSUBSCRIBE,
//! PSUBSCRIBE, PUNSUBSCRIBE, SSUBSCRIBE, SUNSUBSCRIBE, PUBLISH, SPUBLISH and
//! PUBSUB.
//!
//! * The [`Hub`] (one per server) maps each channel, pattern and shard
//!   channel to its subscribers: the client id and the sending half of that
//!   connection's message queue. PUBLISH walks the channel's subscribers, then
//!   every pattern that matches (Redis's glob), and pushes a message to each;
//!   it returns the number of deliveries (a client subscribed through two
//!   matching patterns receives, and counts, twice). Shard channels are a
//!   separate namespace reached only by SSUBSCRIBE/SPUBLISH.
//! * Each connection owns [`Subscriptions`]: its own channels, patterns and
//!   shard channels, and an unbounded queue whose receiver the connection loop
//!   waits on next to the socket, writing each message as a push frame as it
//!   arrives (rendered in the connection's protocol at write time).
//! * **RESP2 subscriber mode**: while a RESP2 connection has any
//!   subscription, only (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET
//!   are accepted ([`refuse_in_subscriber_mode`]), and PING answers
//!   `["pong", arg]`. RESP3 connections may run anything.
//! * Confirmations follow Redis: one reply per channel with the connection's
//!   count after it (channels + patterns for the classic commands, shard
//!   channels alone for the shard ones); an UNSUBSCRIBE with no argument
//!   leaves everything, and with nothing to leave answers `[unsubscribe, nil,
//!   0]`. RESET and closing the connection leave everything silently.
//! * **Several processes on one PostgreSQL store**: a message published in
//!   one reaches the subscribers of all (see `bus`); PUBLISH's reply
//!   counts the receivers in the publishing process only, as in Redis
//!   Cluster. PUBSUB CHANNELS / NUMSUB / NUMPAT describe this process.

use super::clients::ClientHandle;
use super::commands::{Run, ServerSpec};
use super::config::OutputLimit;
use super::connection::Session;
use crate::commands::{Command, Spec};
use crate::resp::Reply;
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// The three subscription namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / UNSUBSCRIBE / PUBLISH.
    Channel,
    /// PSUBSCRIBE / PUNSUBSCRIBE.
    Pattern,
    /// SSUBSCRIBE / SUNSUBSCRIBE / SPUBLISH.
    Shard,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Channel, Kind::Pattern, Kind::Shard];

    fn index(self) -> usize {
        self as usize
    }

    /// The confirmation words: (subscribe, unsubscribe).
    fn words(self) -> (&'static str, &'static str) {
        match self {
            Kind::Channel => ("subscribe", "unsubscribe"),
            Kind::Pattern => ("psubscribe", "punsubscribe"),
            Kind::Shard => ("ssubscribe", "sunsubscribe"),
        }
    }
}

/// Subscribers of one channel or pattern: client id → message queue.
type Subscribers = HashMap<u64, Outbox>;

/// A subscriber's queue, with its client (whose counters measure the queue).
#[derive(Clone)]
pub struct Outbox {
    tx: UnboundedSender<Reply>,
    client: Arc<ClientHandle>,
}

/// Every subscription of the server.
pub struct Hub {
    /// Indexed by [`Kind::index`].
    maps: Mutex<[HashMap<Bytes, Subscribers>; 3]>,
    /// `client-output-buffer-limit`'s pubsub class.
    limit: Arc<OutputLimit>,
}

/// Bytes a queued message counts for (its RESP size, about).
fn queued_size(r: &Reply) -> u64 {
    match r {
        Reply::Push(items) | Reply::Array(items) => 8 + items.iter().map(queued_size).sum::<u64>(),
        Reply::Bulk(b) => 16 + b.len() as u64,
        _ => 16,
    }
}

impl Outbox {
    /// Queues `message`, unless the client is over its output buffer limit
    /// (Redis's `checkClientOutputBufferLimits`): it is then disconnected
    /// with Redis's log line, and gets nothing more.
    fn send(&self, message: Reply, limit: &OutputLimit) {
        let c = &self.client;
        if c.killed.load(Ordering::Relaxed) {
            return;
        }
        let size = queued_size(&message);
        let queued = c.queued_bytes.load(Ordering::Relaxed) + size;
        let (hard, soft) = (limit.hard.load(Ordering::Relaxed), limit.soft.load(Ordering::Relaxed));
        let mut over = hard > 0 && queued >= hard;
        if soft > 0 && queued >= soft {
            let now = crate::util::now_ms();
            let since = match c
                .over_soft_since
                .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => now,
                Err(since) => since,
            };
            let secs = limit.soft_secs.load(Ordering::Relaxed) as i64;
            over |= now - since >= secs * 1000;
        } else {
            c.over_soft_since.store(0, Ordering::Relaxed);
        }
        if over {
            crate::log::warn(&format!(
                "Client {} scheduled to be closed ASAP for overcoming of output buffer limits.",
                c.describe(crate::util::now_ms())
            ));
            c.kill();
            return;
        }
        c.queued_bytes.fetch_add(size, Ordering::Relaxed);
        c.queued_messages.fetch_add(1, Ordering::Relaxed);
        let _ = self.tx.send(message);
    }
}

impl Hub {
    pub fn new(limit: Arc<OutputLimit>) -> Hub {
        Hub {
            maps: Default::default(),
            limit,
        }
    }

    /// PUBLISH / SPUBLISH: queues the message for every receiver and returns
    /// how many received it.
    pub fn publish(&self, shard: bool, channel: &Bytes, message: &Bytes) -> i64 {
        let maps = self.maps.lock().unwrap();
        let mut receivers = 0;
        let (kind, word) = if shard {
            (Kind::Shard, "smessage")
        } else {
            (Kind::Channel, "message")
        };
        if let Some(subs) = maps[kind.index()].get(channel) {
            for tx in subs.values() {
                let push = vec![
                    Reply::bulk_str(word),
                    Reply::Bulk(channel.clone()),
                    Reply::Bulk(message.clone()),
                ];
                tx.send(Reply::Push(push), &self.limit);
                receivers += 1;
            }
        }
        if !shard {
            for (pattern, subs) in maps[Kind::Pattern.index()].iter() {
                if !crate::glob::matches(pattern, channel, false) {
                    continue;
                }
                for tx in subs.values() {
                    let push = vec![
                        Reply::bulk_str("pmessage"),
                        Reply::Bulk(pattern.clone()),
                        Reply::Bulk(channel.clone()),
                        Reply::Bulk(message.clone()),
                    ];
                    tx.send(Reply::Push(push), &self.limit);
                    receivers += 1;
                }
            }
        }
        receivers
    }

    fn add(&self, kind: Kind, name: &Bytes, outbox: Outbox) {
        self.maps.lock().unwrap()[kind.index()]
            .entry(name.clone())
            .or_default()
            .insert(outbox.client.id, outbox);
    }

    fn remove(&self, kind: Kind, name: &Bytes, client: u64) {
        let mut maps = self.maps.lock().unwrap();
        let map = &mut maps[kind.index()];
        if let Some(subs) = map.get_mut(name) {
            subs.remove(&client);
            if subs.is_empty() {
                map.remove(name);
            }
        }
    }

    /// Active channels (or shard channels) matching `pattern` (all if `None`).
    fn channels(&self, kind: Kind, pattern: Option<&Bytes>) -> Vec<Bytes> {
        let maps = self.maps.lock().unwrap();
        maps[kind.index()]
            .keys()
            .filter(|c| pattern.is_none_or(|p| crate::glob::matches(p, c, false)))
            .cloned()
            .collect()
    }

    /// Subscriber count of a channel (or shard channel), patterns excluded.
    fn numsub(&self, kind: Kind, channel: &Bytes) -> i64 {
        self.maps.lock().unwrap()[kind.index()]
            .get(channel)
            .map_or(0, |s| s.len() as i64)
    }

    /// A client's subscriptions: (channels and shard channels, patterns).
    /// ACL SETUSER checks them when a user loses channel permissions.
    pub fn subscriptions_of(&self, client: u64) -> (Vec<Bytes>, Vec<Bytes>) {
        let maps = self.maps.lock().unwrap();
        let of = |kind: Kind| -> Vec<Bytes> {
            maps[kind.index()]
                .iter()
                .filter(|(_, subs)| subs.contains_key(&client))
                .map(|(name, _)| name.clone())
                .collect()
        };
        let mut channels = of(Kind::Channel);
        channels.extend(of(Kind::Shard));
        (channels, of(Kind::Pattern))
    }

    /// Number of distinct patterns subscribed to (INFO's `pubsub_patterns`).
    pub fn numpat(&self) -> i64 {
        self.maps.lock().unwrap()[Kind::Pattern.index()].len() as i64
    }

    /// Number of active channels (INFO's `pubsub_channels`).
    pub fn numchannels(&self) -> i64 {
        self.maps.lock().unwrap()[Kind::Channel.index()].len() as i64
    }
}

/// A connection's subscriptions and its message queue.
pub struct Subscriptions {
    /// Per kind: name → subscription sequence number (UNSUBSCRIBE with no
    /// argument leaves them in subscription order).
    names: [HashMap<Bytes, u64>; 3],
    /// The next sequence number.
    seq: u64,
    outbox: Outbox,
    rx: UnboundedReceiver<Reply>,
}

impl Subscriptions {
    /// The subscriptions (none yet) of `client`'s connection.
    pub fn new(client: Arc<ClientHandle>) -> Self {
        let (tx, rx) = unbounded_channel();
        Subscriptions {
            names: Default::default(),
            seq: 0,
            outbox: Outbox { tx, client },
            rx,
        }
    }

    /// A message taken from the queue no longer counts in it.
    fn taken(&self, message: Option<Reply>) -> Option<Reply> {
        if let Some(m) = &message {
            let c = &self.outbox.client;
            c.queued_bytes.fetch_sub(queued_size(m), Ordering::Relaxed);
            c.queued_messages.fetch_sub(1, Ordering::Relaxed);
        }
        message
    }

    /// The next published message for this connection (waits forever if none
    /// comes: the queue's sender is never dropped while the connection lives).
    pub async fn next(&mut self) -> Option<Reply> {
        let m = self.rx.recv().await;
        self.taken(m)
    }

    /// A message already waiting, if any.
    pub fn try_next(&mut self) -> Option<Reply> {
        let m = self.rx.try_recv().ok();
        self.taken(m)
    }

    /// How many messages a publication on `channel` puts in this queue: one
    /// for the channel, one per matching pattern (as [`Hub::publish`]).
    pub fn deliveries(&self, channel: &[u8]) -> usize {
        let exact = usize::from(self.names[Kind::Channel.index()].contains_key(channel));
        let patterns = self.names[Kind::Pattern.index()]
            .keys()
            .filter(|p| crate::glob::matches(p, channel, false))
            .count();
        exact + patterns
    }

    /// Takes every message queued so far (to place them among the replies
    /// of the commands that published them, see [`write_until`]).
    pub fn take_queued(&mut self) -> VecDeque<Reply> {
        std::iter::from_fn(|| self.try_next()).collect()
    }

    /// Subscriptions of every kind (RESP2 subscriber mode while non-zero).
    pub fn total(&self) -> usize {
        self.names.iter().map(HashMap::len).sum()
    }

    /// The count a confirmation reports: channels + patterns, or shard channels.
    fn count(&self, kind: Kind) -> i64 {
        match kind {
            Kind::Shard => self.names[Kind::Shard.index()].len() as i64,
            _ => (self.names[Kind::Channel.index()].len() + self.names[Kind::Pattern.index()].len()) as i64,
        }
    }

    /// The names of one kind, in subscription order.
    fn ordered(&self, kind: Kind) -> Vec<Bytes> {
        let mut names: Vec<(&Bytes, u64)> = self.names[kind.index()].iter().map(|(n, &seq)| (n, seq)).collect();
        names.sort_unstable_by_key(|&(_, seq)| seq);
        names.into_iter().map(|(n, _)| n.clone()).collect()
    }
}

/// Writes messages from `backlog`, in order, until one message on each
/// channel of `want` (with repeats) has been written, or none is left.
/// `want` lists the messages a command published to this connection
/// (see `notify::OwnMessages`): they were queued before its reply was given
/// back, so they are all there, maybe after others' messages.
pub fn write_until(backlog: &mut VecDeque<Reply>, mut want: Vec<Bytes>, proto: u8, out: &mut bytes::BytesMut) {
    while !want.is_empty() {
        let Some(m) = backlog.pop_front() else { break };
        if let Some(at) = channel_of(&m).and_then(|c| want.iter().position(|w| w[..] == c[..])) {
            want.swap_remove(at);
        }
        m.write(proto, out);
    }
}

/// The channel a queued message was published on.
fn channel_of(m: &Reply) -> Option<&Bytes> {
    let Reply::Push(items) = m else { return None };
    match items.as_slice() {
        [_, Reply::Bulk(channel), _] | [_, _, Reply::Bulk(channel), _] => Some(channel),
        _ => None,
    }
}

/// Whether `cmd` is one of the six (un)subscribe commands, answered with one
/// reply per channel by [`subscription`].
/// The kind and direction (true = subscribe) of an (un)subscribe command.
fn kind_of(cmd: &Command) -> Option<(Kind, bool)> {
    Some(match cmd.name.as_str() {
        "subscribe" => (Kind::Channel, true),
        "unsubscribe" => (Kind::Channel, false),
        "psubscribe" => (Kind::Pattern, true),
        "punsubscribe" => (Kind::Pattern, false),
        "ssubscribe" => (Kind::Shard, true),
        "sunsubscribe" => (Kind::Shard, false),
        _ => return None,
    })
}

/// In RESP2 subscriber mode, Redis's error for any command but
/// (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET (their specs say
/// [`Spec::in_subscriber_mode`]).
pub fn refuse_in_subscriber_mode(s: &Session, cmd: &Command) -> Option<Reply> {
    if s.proto != 2 || s.pubsub.total() == 0 || cmd.spec.in_subscriber_mode {
        return None;
    }
    Some(Reply::error(format!(
        "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
        cmd.name
    )))
}

/// A command's own reply in RESP2 subscriber mode, if its spec has one
/// (PING: `["pong", arg or ""]` instead of `+PONG`).
pub fn subscriber_reply(s: &Session, cmd: &Command, args: &[Bytes]) -> Option<Reply> {
    if s.proto != 2 || s.pubsub.total() == 0 {
        return None;
    }
    cmd.spec.subscribed.and_then(|f| f(args))
}

/// Runs an (un)subscribe command: one confirmation per channel or pattern.
fn subscription(s: &mut Session, cmd: &'static Command, args: &[Bytes]) -> Vec<Reply> {
    let Some((kind, subscribe)) = kind_of(cmd) else {
        return vec![Reply::error(format!("ERR '{}' is not a pubsub command", cmd.name))];
    };
    let replies = if subscribe {
        args[1..].iter().map(|name| join(s, kind, name)).collect()
    } else if args.len() > 1 {
        args[1..].iter().map(|name| leave(s, kind, name)).collect()
    } else {
        let names = s.pubsub.ordered(kind);
        if names.is_empty() {
            vec![confirmation(kind.words().1, Reply::Nil, s.pubsub.count(kind))]
        } else {
            names.iter().map(|name| leave(s, kind, name)).collect()
        }
    };
    publish_counts(s);
    replies
}

fn join(s: &mut Session, kind: Kind, name: &Bytes) -> Reply {
    let subs = &mut s.pubsub;
    if !subs.names[kind.index()].contains_key(name) {
        subs.seq += 1;
        subs.names[kind.index()].insert(name.clone(), subs.seq);
        s.server.pubsub.add(kind, name, s.pubsub.outbox.clone());
    }
    confirmation(kind.words().0, Reply::Bulk(name.clone()), s.pubsub.count(kind))
}

fn leave(s: &mut Session, kind: Kind, name: &Bytes) -> Reply {
    if s.pubsub.names[kind.index()].remove(name).is_some() {
        s.server.pubsub.remove(kind, name, s.client.id);
    }
    confirmation(kind.words().1, Reply::Bulk(name.clone()), s.pubsub.count(kind))
}

fn confirmation(word: &'static str, name: Reply, count: i64) -> Reply {
    Reply::Push(vec![Reply::bulk_str(word), name, Reply::Int(count)])
}

/// Leaves every subscription without a reply: RESET and connection close.
pub fn leave_all(s: &mut Session) {
    for kind in Kind::ALL {
        for name in std::mem::take(&mut s.pubsub.names[kind.index()]).into_keys() {
            s.server.pubsub.remove(kind, &name, s.client.id);
        }
    }
    publish_counts(s);
}

/// Mirrors the counts into the client handle for CLIENT LIST.
fn publish_counts(s: &Session) {
    for kind in Kind::ALL {
        s.client.subscriptions[kind.index()].store(s.pubsub.names[kind.index()].len(), Ordering::Relaxed);
    }
}

/// The Pub/Sub commands. The (un)subscribe commands answer one reply per
/// channel or pattern, and may run in RESP2 subscriber mode; PUBLISH reaches
/// replicas in Redis, so `CLIENT PAUSE WRITE` holds it.
pub const COMMANDS: &[ServerSpec] = &[
    ServerSpec::new(
        Spec::server("subscribe").in_subscriber_mode().channels(all_channels),
        Run::Each(subscription),
    ),
    ServerSpec::new(
        Spec::server("unsubscribe").in_subscriber_mode(),
        Run::Each(subscription),
    ),
    ServerSpec::new(
        Spec::server("psubscribe").in_subscriber_mode().channels(all_patterns),
        Run::Each(subscription),
    ),
    ServerSpec::new(
        Spec::server("punsubscribe").in_subscriber_mode(),
        Run::Each(subscription),
    ),
    ServerSpec::new(
        Spec::server("ssubscribe").in_subscriber_mode().channels(all_channels),
        Run::Each(subscription),
    ),
    ServerSpec::new(
        Spec::server("sunsubscribe").in_subscriber_mode(),
        Run::Each(subscription),
    ),
    ServerSpec::new(
        Spec::server("publish").paused_by_write().channels(first_channel),
        Run::Now(publish),
    ),
    ServerSpec::new(
        Spec::server("spublish").paused_by_write().channels(first_channel),
        Run::Now(publish),
    ),
    ServerSpec::now("pubsub|channels", publish),
    ServerSpec::now("pubsub|numsub", publish),
    ServerSpec::now("pubsub|numpat", publish),
    ServerSpec::now("pubsub|shardchannels", publish),
    ServerSpec::now("pubsub|shardnumsub", publish),
    ServerSpec::now("pubsub|help", publish),
];

/// The channels ACL channel rules check: every argument (SUBSCRIBE), as
/// patterns matched literally (PSUBSCRIBE), or the first (PUBLISH).
fn all_channels(args: &[Bytes]) -> (&[Bytes], bool) {
    (&args[1..], false)
}

fn all_patterns(args: &[Bytes]) -> (&[Bytes], bool) {
    (&args[1..], true)
}

fn first_channel(args: &[Bytes]) -> (&[Bytes], bool) {
    (&args[1..2], false)
}

fn publish(s: &mut Session, cmd: &'static Command, args: &[Bytes]) -> Option<Reply> {
    Some(run(s, &cmd.name, args))
}

/// PUBLISH, SPUBLISH and the PUBSUB subcommands (one reply each).
fn run(s: &Session, name: &str, args: &[Bytes]) -> Reply {
    let hub = &s.server.pubsub;
    match name {
        "publish" | "spublish" => {
            let shard = name == "spublish";
            let receivers = hub.publish(shard, &args[1], &args[2]);
            if let Some(bus) = &s.server.bus {
                bus.publish(shard, &args[1], &args[2]);
            }
            Reply::Int(receivers)
        }
        "pubsub|channels" | "pubsub|shardchannels" => {
            if args.len() > 3 {
                let mut msg = b"ERR unknown subcommand or wrong number of arguments for '".to_vec();
                msg.extend_from_slice(&args[1]);
                msg.extend_from_slice(b"'. Try PUBSUB HELP.");
                return Reply::Error(msg.into());
            }
            let kind = if name == "pubsub|channels" {
                Kind::Channel
            } else {
                Kind::Shard
            };
            Reply::Array(hub.channels(kind, args.get(2)).into_iter().map(Reply::Bulk).collect())
        }
        "pubsub|numsub" | "pubsub|shardnumsub" => {
            let kind = if name == "pubsub|numsub" {
                Kind::Channel
            } else {
                Kind::Shard
            };
            let mut out = Vec::with_capacity((args.len() - 2) * 2);
            for channel in &args[2..] {
                out.push(Reply::Bulk(channel.clone()));
                out.push(Reply::Int(hub.numsub(kind, channel)));
            }
            Reply::Array(out)
        }
        "pubsub|numpat" => Reply::Int(hub.numpat()),
        "pubsub|help" => crate::commands::help(
            "PUBSUB",
            &[
                "CHANNELS [<pattern>]",
                "    Return the currently active channels matching a <pattern> (default: '*').",
                "NUMPAT",
                "    Return number of subscriptions to patterns.",
                "NUMSUB [<channel> ...]",
                "    Return the number of subscribers for the specified channels, excluding",
                "    pattern subscriptions(default: no channels).",
                "SHARDCHANNELS [<pattern>]",
                "    Return the currently active shard level channels matching a <pattern> (default: '*').",
                "SHARDNUMSUB [<shardchannel> ...]",
                "    Return the number of subscribers for the specified shard level channel(s)",
            ],
        ),
        other => Reply::error(format!("ERR '{other}' is not a pubsub command")),
    }
}
