//! The ACL log (`ACL LOG`): refused commands, keys, channels and failed
//! authentications, newest first. Like Redis, an event equal to one of the
//! 10 newest entries (same reason, context, object and user, within 60
//! seconds) bumps that entry's count and moves it to the front instead of
//! adding a new one; the log keeps `acllog-max-len` entries.

use crate::resp::Reply;
use bytes::Bytes;
use std::collections::VecDeque;

/// Events within this many ms of an entry are grouped into it.
const GROUPING_MAX_MS: i64 = 60_000;
/// How many of the newest entries are searched for one to group with.
const GROUPING_SCAN: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Command,
    Key,
    Channel,
    Auth,
}

impl Reason {
    fn name(self) -> &'static str {
        match self {
            Reason::Command => "command",
            Reason::Key => "key",
            Reason::Channel => "channel",
            Reason::Auth => "auth",
        }
    }
}

/// Where the refused command was: on its own, or queued in MULTI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Toplevel,
    Multi,
    /// A command a script ran.
    Lua,
}

/// One logged event.
pub struct Event {
    pub reason: Reason,
    pub context: Context,
    /// The command name, key, channel, or for AUTH the command as sent.
    pub object: Bytes,
    pub username: Bytes,
    /// The client's `CLIENT LIST` line.
    pub client_info: String,
}

struct Entry {
    event: Event,
    count: u64,
    /// Unix ms of the latest occurrence.
    at: i64,
}

#[derive(Default)]
pub struct Log {
    entries: VecDeque<Entry>,
}

impl Log {
    /// Records an event at `now` (Unix ms), keeping at most `max_len` entries.
    pub fn add(&mut self, event: Event, now: i64, max_len: usize) {
        let similar = self.entries.iter().take(GROUPING_SCAN).position(|e| {
            e.event.reason == event.reason
                && e.event.context == event.context
                && (e.at - now).abs() <= GROUPING_MAX_MS
                && e.event.object == event.object
                && e.event.username == event.username
        });
        if let Some(i) = similar
            && let Some(mut e) = self.entries.remove(i)
        {
            e.count += 1;
            e.at = now;
            e.event.client_info = event.client_info;
            self.entries.push_front(e);
            return;
        }
        self.entries.push_front(Entry {
            event,
            count: 1,
            at: now,
        });
        self.entries.truncate(max_len);
    }

    pub fn reset(&mut self) {
        self.entries.clear();
    }

    /// The `count` newest entries as `ACL LOG` shows them.
    pub fn reply(&self, count: usize, now: i64) -> Reply {
        let bulk = |s: &str| Reply::bulk_str(s);
        Reply::Array(
            self.entries
                .iter()
                .take(count)
                .map(|e| {
                    Reply::Map(vec![
                        (bulk("count"), Reply::Int(e.count as i64)),
                        (bulk("reason"), bulk(e.event.reason.name())),
                        (
                            bulk("context"),
                            bulk(match e.event.context {
                                Context::Toplevel => "toplevel",
                                Context::Multi => "multi",
                                Context::Lua => "lua",
                            }),
                        ),
                        (bulk("object"), Reply::Bulk(e.event.object.clone())),
                        (bulk("username"), Reply::Bulk(e.event.username.clone())),
                        (bulk("age-seconds"), Reply::Double((now - e.at) as f64 / 1000.0)),
                        (bulk("client-info"), bulk(&e.event.client_info)),
                    ])
                })
                .collect(),
        )
    }
}
