//! Keyspace notifications (`notify-keyspace-events`), as in Redis 7.0.
//!
//! How events flow:
//!
//! 1. `CONFIG SET notify-keyspace-events <flags>` parses the flags
//!    ([`parse`]) and hands the enabled classes to the engine
//!    (`Engine::set_keyspace_events`). With neither `K` nor `E` the engine
//!    reports nothing, and reporting costs a bit test per event.
//! 2. Write commands report their events in their context
//!    (`Ctx::notify`); the writer keeps each command's events with its
//!    outcome. The expiry sweeper reports the keys it deleted (`expired`).
//! 3. After the commit, before any client of the batch is answered, the
//!    writer tells the commit observer, which [`publish`]es the events in
//!    command order through the Pub/Sub hub. A transaction that failed or was
//!    retried was never committed, so its events never go out twice.
//! 4. Each subscriber's connection writes the messages as they arrive. A
//!    connection subscribed to the events of its own commands writes each
//!    command's messages right before that command's reply, as Redis does
//!    (inside EXEC's array reply: before each queued command's reply). It
//!    knows which queued messages come from which command from the events
//!    the batch's outcome lists ([`OwnMessages`]).
//!
//! `keymiss` events (`m`) are reported around the read commands (see
//! `commands::events::with_misses`); while `m` is on, reads run on the
//! writer so that their events take the same path as the writes'.

use super::bus::Bus;
use super::pubsub::{Hub, Subscriptions};
use crate::commands::events::Place;
use crate::commands::{Class, Classes, Event};
use crate::engine::Commit;
use crate::engine::Reported;
use crate::resp::Reply;
use bytes::{BufMut, Bytes, BytesMut};
use std::collections::VecDeque;

/// The flag characters, with the bits they set (Redis's
/// `keyspaceEventsStringToFlags`).
const FLAGS: &[(u8, u32)] = &[
    (b'A', Classes::ALL),
    (b'g', Class::Generic as u32),
    (b'$', Class::String as u32),
    (b'l', Class::List as u32),
    (b's', Class::Set as u32),
    (b'h', Class::Hash as u32),
    (b'z', Class::ZSet as u32),
    (b'x', Class::Expired as u32),
    (b'e', Classes::EVICTED),
    (b'K', Classes::KEYSPACE),
    (b'E', Classes::KEYEVENT),
    (b't', Classes::STREAM),
    (b'm', Classes::KEY_MISS),
    (b'd', Classes::MODULE),
    (b'n', Class::New as u32),
];

/// Redis's error for a flag it does not know (after `CONFIG SET failed ... - `).
pub const INVALID: &str = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/// Parses `notify-keyspace-events` flags; `None` if a character is not a flag.
pub fn parse(flags: &[u8]) -> Option<Classes> {
    flags.iter().try_fold(Classes(0), |set, c| {
        FLAGS
            .iter()
            .find(|(f, _)| f == c)
            .map(|(_, bits)| Classes(set.0 | bits))
    })
}

/// The flags as `CONFIG GET` shows them (Redis's
/// `keyspaceEventsFlagsToString`): `A` when every class of `A` is on (then
/// `n` is not shown, even if set), else one character per class in a fixed
/// order, then `K`, `E` and `m`.
pub fn render(set: Classes) -> String {
    let has = |bits: u32| set.0 & bits == bits;
    let mut out = String::new();
    if has(Classes::ALL) {
        out.push('A');
    } else {
        for &(c, bits) in FLAGS {
            if !matches!(c, b'A' | b'K' | b'E' | b'm') && has(bits) {
                out.push(c as char);
            }
        }
    }
    for (c, bits) in [
        ('K', Classes::KEYSPACE),
        ('E', Classes::KEYEVENT),
        ('m', Classes::KEY_MISS),
    ] {
        if has(bits) {
            out.push(c);
        }
    }
    out
}

/// The commit observer's part: publishes the events of a commit, in the
/// order the commands (or the sweeper) reported them. On PostgreSQL, `bus`
/// carries them to the subscribers of the other redsql processes too (each
/// process publishes the events of its own commits and sweeps).
pub fn publish(hub: &Hub, bus: Option<&Bus>, commit: &Commit<'_>) {
    if commit.notify == Classes::default() {
        return;
    }
    for w in commit.writes {
        publish_events(hub, bus, commit.notify, w.events);
    }
    publish_events(hub, bus, commit.notify, commit.expired);
}

/// Publishes events through the hub: for each, on `__keyspace@<db>__:<key>`
/// (message: the event name) if `K` is set, then on
/// `__keyevent@<db>__:<event>` (message: the key) if `E` is set.
fn publish_events(hub: &Hub, bus: Option<&Bus>, set: Classes, events: &[Event]) {
    for (channel, message) in events.iter().flat_map(|e| messages(set, e)) {
        hub.publish(false, &channel, &message);
        if let Some(bus) = bus {
            bus.publish(false, &channel, &message);
        }
    }
}

/// The (channel, message) pairs that event `e` is published as, in order,
/// with the classes and destinations of `set` (none if its class is off).
fn messages(set: Classes, e: &Event) -> impl Iterator<Item = (Bytes, Bytes)> + '_ {
    let on = set.has(e.class);
    let keyspace = (on && set.0 & Classes::KEYSPACE != 0).then(|| {
        (
            channel("__keyspace@", e.db, &e.key),
            Bytes::from_static(e.name.as_bytes()),
        )
    });
    let keyevent = (on && set.0 & Classes::KEYEVENT != 0)
        .then(|| (channel("__keyevent@", e.db, e.name.as_bytes()), e.key.clone()));
    keyspace.into_iter().chain(keyevent)
}

/// The messages a batch's own commands published to the connection that
/// ran them, to be written where Redis writes them relative to each
/// command's reply (`Place`: before, after, or inside an array reply).
///
/// Every message queued when the batch's outcome came back is taken from
/// the connection's queue (the batch's own messages were queued before the
/// outcome was given back). For each command and place, the connection
/// knows from its own subscriptions which messages the events there
/// produced (one per matching channel, one per matching pattern), and writes
/// queued messages up to the last of those: messages of other clients that
/// were queued earlier keep their order relative to these.
pub struct OwnMessages {
    backlog: VecDeque<Reply>,
    /// Per (call, place): the channel of each message expected there.
    wants: Vec<(usize, Place, Vec<Bytes>)>,
    proto: u8,
}

impl OwnMessages {
    /// Takes the queued messages of a connection subscribed as `subs`, for
    /// the replies of a batch whose calls reported `events` (published with
    /// the classes `set`).
    pub fn new(subs: &mut Subscriptions, set: Classes, proto: u8, events: &[Reported]) -> OwnMessages {
        let mut wants: Vec<(usize, Place, Vec<Bytes>)> = Vec::new();
        for r in events {
            let channels = messages(set, &r.event)
                .flat_map(|(channel, _)| std::iter::repeat_n(channel.clone(), subs.deliveries(&channel)));
            match wants
                .iter_mut()
                .find(|(call, place, _)| *call == r.call && *place == r.place)
            {
                Some((_, _, want)) => want.extend(channels),
                None => wants.push((r.call, r.place.clone(), channels.collect())),
            }
        }
        OwnMessages {
            backlog: subs.take_queued(),
            wants,
            proto,
        }
    }

    /// Writes the messages that call `call`'s events placed at `place` sent.
    pub fn write(&mut self, call: usize, place: &Place, out: &mut BytesMut) {
        if let Some(at) = self.wants.iter().position(|(c, p, _)| *c == call && p == place) {
            let (_, _, want) = self.wants.swap_remove(at);
            super::pubsub::write_until(&mut self.backlog, want, self.proto, out);
        }
    }

    /// Writes call `call`'s reply with its messages before, inside and after it.
    pub fn write_reply(&mut self, call: usize, reply: &Reply, out: &mut BytesMut) {
        self.write(call, &Place::BeforeReply, out);
        let inside = self
            .wants
            .iter()
            .any(|(c, p, _)| *c == call && matches!(p, Place::BeforeElement(_)));
        if inside {
            self.write_with_stops(call, reply, &mut Vec::new(), out);
        } else {
            reply.write(self.proto, out);
        }
        self.write(call, &Place::AfterReply, out);
    }

    /// Writes `reply`, and before each element of an array reply the
    /// messages placed there (by the path of indices into nested arrays).
    fn write_with_stops(&mut self, call: usize, reply: &Reply, path: &mut Vec<usize>, out: &mut BytesMut) {
        match reply {
            Reply::Array(items) => {
                out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
                for (i, item) in items.iter().enumerate() {
                    path.push(i);
                    self.write(call, &Place::BeforeElement(path.clone()), out);
                    self.write_with_stops(call, item, path, out);
                    path.pop();
                }
            }
            other => other.write(self.proto, out),
        }
    }

    /// Writes the messages left (other clients', queued after these).
    pub fn finish(self, out: &mut BytesMut) {
        for m in self.backlog {
            m.write(self.proto, out);
        }
    }
}

/// `<prefix><db>__:<suffix>`.
fn channel(prefix: &str, db: u32, suffix: &[u8]) -> Bytes {
    let db = db.to_string();
    let mut c = BytesMut::with_capacity(prefix.len() + db.len() + 3 + suffix.len());
    c.put_slice(prefix.as_bytes());
    c.put_slice(db.as_bytes());
    c.put_slice(b"__:");
    c.put_slice(suffix);
    c.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Canonical renderings, as real Redis 7.0 answers CONFIG GET.
    #[test]
    fn flags_render_as_redis_does() {
        for (set, shown) in [
            ("KEA", "AKE"),
            ("Eg$", "g$E"),
            ("A", "A"),
            ("An", "A"),
            ("", ""),
            ("K", "K"),
            ("m", "m"),
            ("Am", "Am"),
            ("gg", "g"),
            ("KEn", "nKE"),
            ("Ag$lshzxeKEtmdn", "AKEm"),
            ("g$lshzxetd", "A"),
            ("nd tex", ""),
            ("ndtexlE", "lxetdnE"),
        ] {
            match parse(set.as_bytes()) {
                Some(s) => assert_eq!(render(s), shown, "{set}"),
                None => assert_eq!(shown, "", "{set} refused"),
            }
        }
        assert!(parse(b"xyz").is_none());
        assert_eq!(parse(b"An").map(|s| s.has(Class::New)), Some(true));
    }

    #[test]
    fn channels_are_named_as_in_redis() {
        assert_eq!(&channel("__keyspace@", 3, b"k\0")[..], b"__keyspace@3__:k\0");
    }
}
