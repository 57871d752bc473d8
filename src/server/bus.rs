//! What the redsql processes sharing one PostgreSQL store tell each other, so
//! that they behave as one Redis: published messages, and the keys a commit
//! may have given elements to (for clients blocked in BLPOP, BZPOPMIN, ...),
//! and that the ACL users changed.
//!
//! It travels on the backend's message bus ([`engine::backend::Bus`]:
//! PostgreSQL's LISTEN/NOTIFY). A SQLite store has none: [`Bus::start`]
//! returns `None` and nothing changes there.
//!
//! [`engine::backend::Bus`]: crate::engine::backend::Bus
//!
//! * **PUBLISH / SPUBLISH** deliver to this process's subscribers at once,
//!   then queue the message for the others, which deliver it to theirs: every
//!   subscriber receives it once, and the messages of one publishing process
//!   arrive in the order they were published. The reply counts this
//!   process's receivers only (as Redis Cluster counts the receivers of the
//!   node that ran PUBLISH).
//! * **Blocked clients**: after each commit, the keys its list, sorted set
//!   and keyspace writes touched ([`blocking::wakeups`]) go to the other
//!   processes, which wake their first waiters on those keys. When the bus
//!   was down for a while, every waiter is woken (it retries its pop).
//!
//! Wire format of a message (binary):
//! * `P` or `S` (PUBLISH or SPUBLISH), channel length (u32, big endian),
//!   channel, message;
//! * `W`, then per target: database (u32), `K` + key length (u32) + key, or
//!   `D` (every key of the database);
//! * `A`: wake every waiter (sent instead of a `W` too long for one
//!   notification);
//! * `U`: the ACL users shared in the `racl` table changed: reload them
//!   (see `acl::shared`).

use super::blocking::{self, Blocking, Wakeup};
use super::pubsub::Hub;
use crate::engine::backend::{BusIncoming, USERS_CHANGED};
use crate::engine::{Committed, Engine};
use bytes::Bytes;
use std::sync::{Arc, OnceLock};

/// Longest `W` message sent as is; longer ones become `A` (a wake-up list
/// that long is cheaper to replace by "everyone retry" than to store).
const MAX_WAKE_MESSAGE: usize = 3900;

/// A message between processes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Publish {
        shard: bool,
        channel: Bytes,
        message: Bytes,
    },
    Wake(Vec<Wakeup>),
    WakeAll,
    /// The shared ACL users changed (sent by the backend's
    /// `SharedUsers::change`, as [`USERS_CHANGED`]).
    UsersChanged,
}

/// What to do when the shared ACL users changed (or may have: the bus was down).
type UsersHook = Box<dyn Fn() + Send + Sync>;

/// This process's side of the conversation.
pub struct Bus {
    notifier: Arc<dyn crate::engine::backend::Bus>,
    /// Installed once the server exists ([`Bus::on_users_changed`]).
    users_hook: Arc<OnceLock<UsersHook>>,
}

impl Bus {
    /// Starts the engine's bus when its backend has one (`None` otherwise):
    /// other processes' messages go to `hub`'s subscribers and wake
    /// `blocking`'s waiters.
    pub fn start(engine: &Engine, hub: Arc<Hub>, blocking: Arc<Blocking>) -> Option<Arc<Bus>> {
        let users_hook: Arc<OnceLock<UsersHook>> = Arc::default();
        let users_changed = users_hook.clone();
        let reload_users = move || {
            if let Some(hook) = users_changed.get() {
                hook();
            }
        };
        let notifier = engine.start_bus(Box::new(move |incoming| match incoming {
            BusIncoming::Message(m) => match decode(&m) {
                Some(Event::Publish {
                    shard,
                    channel,
                    message,
                }) => {
                    hub.publish(shard, &channel, &message);
                }
                Some(Event::Wake(targets)) => blocking.wake(&targets),
                Some(Event::WakeAll) => blocking.wake_all(),
                Some(Event::UsersChanged) => reload_users(),
                None => crate::log::warn("ignored a malformed message from another redsql process"),
            },
            // Wake-ups and user changes may have been missed: every waiter
            // retries, and the users are read again.
            BusIncoming::Reconnected => {
                blocking.wake_all();
                reload_users();
            }
        }))?;
        Some(Arc::new(Bus { notifier, users_hook }))
    }

    /// This process's id on the bus (see `SharedUsers::speak_as`).
    pub fn id(&self) -> &str {
        self.notifier.id()
    }

    /// Installs what runs (on the bus's listener thread) when the shared ACL
    /// users changed. There is one; a second call is ignored.
    pub fn on_users_changed(&self, hook: impl Fn() + Send + Sync + 'static) {
        let _ = self.users_hook.set(Box::new(hook));
    }

    /// Sends a published message to the other processes (this one's
    /// subscribers already have it).
    pub fn publish(&self, shard: bool, channel: &Bytes, message: &Bytes) {
        self.notifier.send(encode(&Event::Publish {
            shard,
            channel: channel.clone(),
            message: message.clone(),
        }));
    }

    /// The engine's commit observer's second half: tells the other processes
    /// which keys the commit may have given elements to.
    pub fn committed(&self, writes: &[Committed<'_>]) {
        let targets = blocking::wakeups(writes);
        if targets.is_empty() {
            return;
        }
        let mut message = encode(&Event::Wake(targets));
        if message.len() > MAX_WAKE_MESSAGE {
            message = encode(&Event::WakeAll);
        }
        self.notifier.send(message);
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    // Channels and keys are at most 512 MB: a u32 holds their length.
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

fn encode(event: &Event) -> Vec<u8> {
    let mut out = Vec::new();
    match event {
        Event::Publish {
            shard,
            channel,
            message,
        } => {
            out.reserve(5 + channel.len() + message.len());
            out.push(if *shard { b'S' } else { b'P' });
            put_bytes(&mut out, channel);
            out.extend_from_slice(message);
        }
        Event::Wake(targets) => {
            out.push(b'W');
            for t in targets {
                match t {
                    Wakeup::Key(db, key) => {
                        out.extend_from_slice(&db.to_be_bytes());
                        out.push(b'K');
                        put_bytes(&mut out, key);
                    }
                    Wakeup::Db(db) => {
                        out.extend_from_slice(&db.to_be_bytes());
                        out.push(b'D');
                    }
                }
            }
        }
        Event::WakeAll => out.push(b'A'),
        Event::UsersChanged => out.extend_from_slice(USERS_CHANGED),
    }
    out
}

/// Reads the message at the front of `input`, `None` if malformed.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn bytes(&mut self) -> Option<Bytes> {
        let n = self.u32()? as usize;
        Some(Bytes::copy_from_slice(self.take(n)?))
    }
}

fn decode(input: &[u8]) -> Option<Event> {
    let (&tag, rest) = input.split_first()?;
    let mut r = Reader(rest);
    match tag {
        b'P' | b'S' => {
            let channel = r.bytes()?;
            Some(Event::Publish {
                shard: tag == b'S',
                channel,
                message: Bytes::copy_from_slice(r.0),
            })
        }
        b'W' => {
            let mut targets = Vec::new();
            while !r.0.is_empty() {
                let db = r.u32()?;
                targets.push(match r.take(1)? {
                    b"K" => Wakeup::Key(db, r.bytes()?),
                    b"D" => Wakeup::Db(db),
                    _ => return None,
                });
            }
            Some(Event::Wake(targets))
        }
        b'A' if rest.is_empty() => Some(Event::WakeAll),
        b'U' if rest.is_empty() => Some(Event::UsersChanged),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_binary_safe() {
        let events = [
            Event::Publish {
                shard: false,
                channel: Bytes::from_static(b"ch\0\xff"),
                message: Bytes::from_static(b"\0\xffmsg\r\n"),
            },
            Event::Publish {
                shard: true,
                channel: Bytes::new(),
                message: Bytes::new(),
            },
            Event::Wake(vec![Wakeup::Key(3, Bytes::from_static(b"k\0")), Wakeup::Db(9)]),
            Event::Wake(Vec::new()),
            Event::WakeAll,
            Event::UsersChanged,
        ];
        for e in events {
            assert_eq!(decode(&encode(&e)), Some(e));
        }
    }

    #[test]
    fn malformed_messages_are_rejected() {
        for bad in [
            &b""[..],
            b"X",
            b"P\0\0\0\x05ab",
            b"W\0\0\0\x01Z",
            b"W\0\0",
            b"Ax",
            b"Ux",
        ] {
            assert_eq!(decode(bad), None, "{bad:?}");
        }
    }
}
