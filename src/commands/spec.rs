//! A command's spec: everything the server and the engine need to know about
//! one command, declared once, in its family's table.
//!
//! The command table ([`super::table`]) joins each spec with Redis's own
//! metadata (arity, flags, key specs, docs). Nothing outside a command's
//! family matches its name: the server and the engine read these facts.
//!
//! Most specs are one line, `Spec::read("get", get)`; the builder methods
//! add the facts that differ from the defaults:
//!
//! | fact | default | builder |
//! |---|---|---|
//! | cost | Redis's `fast` flag: fast runs inline, the rest off the loop | [`Spec::bounded`], [`Spec::off_the_loop`] |
//! | blocking | never blocks | [`Spec::blocks`], [`Spec::blocks_ms`] (a timeout in ms, arguments resolved first) |
//! | `keymiss` keys | read-only commands: all their keys; writes: none | [`Spec::misses`] |
//! | events around the reply | all before it | [`Spec::places`] |
//! | feeds blocked clients | when its ACL categories are `@list`, `@sortedset`, `@geo` or `@stream` | [`Spec::feeds`], [`Spec::touches`] |
//! | inside MULTI | queued | [`Spec::immediate_in_multi`] |
//! | under CLIENT PAUSE WRITE | held when Redis flags it `write` or `may_replicate` | [`Spec::paused_by_write`], [`Spec::paused_as_queued`] |
//! | in RESP2 subscriber mode | refused | [`Spec::in_subscriber_mode`], [`Spec::answers_subscribed`] |
//! | keys | Redis's key specs | [`Spec::keys`] (SORT's STORE), [`Spec::key_access`] (SET ... GET) |
//! | channels (ACL) | none | [`Spec::channels`] |
//! | arguments in logs | as sent | [`Spec::redacts`] (AUTH) |

use super::events::{Event, Place};
use super::{CommandFn, Handler};
use bytes::Bytes;

/// The key positions of a command's arguments that count as looked up for
/// reading (`keymiss` events), given the table entry and the arguments.
pub type MissFn = fn(&super::Command, &[Bytes]) -> Vec<usize>;

/// Where each event a call reported goes relative to its reply.
pub type PlaceFn = fn(&[Bytes], &[Event]) -> Vec<Place>;

/// Whether a read's arguments bound its cost (it then runs inline).
pub type BoundFn = fn(&[Bytes]) -> bool;

/// Redis's key procedure for a command whose key specs are incomplete
/// (SORT's STORE): the key positions in the arguments.
pub type KeysFn = fn(&[Bytes]) -> Vec<usize>;

/// What a command with "variable flags" does with its keys, given its
/// arguments (SET reads its key only with GET).
pub type AccessFn = fn(&[Bytes]) -> super::keyspec::KeyAccess;

/// The channels a command names, for ACL channel rules, and whether they
/// are patterns to match literally (PSUBSCRIBE).
pub type ChannelFn = for<'a> fn(&'a [Bytes]) -> (&'a [Bytes], bool);

/// Hides secrets in a copy of the arguments before logs show them
/// (SLOWLOG, MONITOR): AUTH's password.
pub type RedactFn = fn(&mut [Bytes]);

/// A key or a whole database whose blocked clients a committed write may feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Key(u32, &'a [u8]),
    Db(u32),
}

/// The keys (or databases) a committed write touched, for a command whose
/// targets are not its key arguments in the selected database (MOVE, COPY
/// ... DB, SWAPDB). Given the selected database and the arguments.
pub type TouchFn = for<'a> fn(u32, &'a [Bytes], &mut dyn FnMut(Target<'a>));

/// What a blocking call waits on: its keys and the index of its timeout
/// argument; `None` when these arguments do not block (XREAD without BLOCK).
pub type WaitFn = fn(&[Bytes]) -> Option<(Vec<Bytes>, usize)>;

/// How costly a command is to run, for where it runs.
#[derive(Clone, Copy)]
pub enum Cost {
    /// Redis's `fast` flag decides: fast reads run inline, others on a
    /// background thread.
    Table,
    /// Not `fast` in Redis, but cheap when this says so for the arguments
    /// (LRANGE over a short range): then it runs inline.
    Bounded(BoundFn),
    /// A write that can take seconds on a large database (FLUSHALL): its
    /// batch runs off the event loop.
    OffTheLoop,
}

/// Whether a committed write may feed clients blocked on its keys.
#[derive(Clone, Copy)]
pub enum Feeds {
    /// From the command's ACL categories (`@list`, `@sortedset`, `@geo`, `@stream`).
    ByCategory,
    Yes,
    No,
}

/// How a command behaves under `CLIENT PAUSE WRITE`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Pause {
    /// Held when Redis flags it `write` or `may_replicate`.
    ByFlags,
    /// Held like a write although Redis does not say so in COMMAND INFO
    /// (PUBLISH reaches replicas; scripts may write).
    Write,
    /// Held when any command queued before it is (EXEC).
    AsQueued,
}

/// Rewrites a blocking call's arguments once, before its first attempt,
/// from the state of the store (XREAD's `$` becomes the stream's last id):
/// the first attempt and every attempt after a wake-up run with the
/// rewritten arguments. `None`: keep them.
pub type ResolveFn = fn(&mut super::Ctx, &[Bytes]) -> Result<Option<Vec<Bytes>>, super::CmdError>;

/// A rewrite of a blocking call's arguments ([`Spec::blocks_ms`]).
#[derive(Clone, Copy)]
pub struct Resolve {
    /// Whether these arguments need it (cheap, without the store).
    pub needed: fn(&[Bytes]) -> bool,
    /// The rewrite, run in a transaction of its own.
    pub run: ResolveFn,
}

/// Blocking behaviour: what the call waits on. Its handler is the
/// non-blocking step, run first, again each time a write touches one of the
/// keys, and as the whole command inside MULTI.
#[derive(Clone, Copy)]
pub struct Blocking {
    pub wait: WaitFn,
    /// The timeout argument counts milliseconds (XREAD's BLOCK), not seconds.
    pub millis: bool,
    /// What must be rewritten in the arguments before the first attempt.
    pub resolve: Option<Resolve>,
    /// The step after a wake-up, when it differs from the handler
    /// (XREADGROUP: a destroyed group or a deleted stream is an error).
    pub rerun: Option<super::CommandFn>,
    /// A script calling it with arguments that block gets Redis's
    /// "<name> command is not allowed with BLOCK option from scripts"
    /// (XREAD, XREADGROUP; the list and sorted-set pops just do not block).
    pub refused_in_scripts: bool,
}

/// One command's spec (see the module documentation).
#[derive(Clone, Copy)]
pub struct Spec {
    /// Lowercase name: `get`, or `parent|sub` for a subcommand.
    pub name: &'static str,
    pub handler: Handler,
    pub cost: Cost,
    pub blocking: Option<Blocking>,
    pub misses: Option<MissFn>,
    pub places: Option<PlaceFn>,
    pub feeds: Feeds,
    pub touches: Option<TouchFn>,
    pub immediate_in_multi: bool,
    pub pause: Pause,
    pub in_subscriber_mode: bool,
    /// Its reply in RESP2 subscriber mode, when that differs (PING).
    pub subscribed: Option<SubscribedFn>,
    pub keys: Option<KeysFn>,
    pub key_access: Option<AccessFn>,
    pub channels: Option<ChannelFn>,
    pub redact: Option<RedactFn>,
    /// It may reach keys its arguments do not name (SORT's BY and GET
    /// patterns): the server tells it whether ACL key patterns restrict the
    /// client ([`super::Ctx::keys_restricted`]).
    pub reaches_other_keys: bool,
    /// It runs other commands on the client's behalf (EVAL, FCALL): they
    /// are checked against the client's ACL rules ([`super::Ctx::acl`]).
    pub runs_commands: bool,
}

/// A command's reply in RESP2 subscriber mode (`None`: run it as usual).
pub type SubscribedFn = fn(&[Bytes]) -> Option<crate::resp::Reply>;

impl Spec {
    pub const fn new(name: &'static str, handler: Handler) -> Spec {
        Spec {
            name,
            handler,
            cost: Cost::Table,
            blocking: None,
            misses: None,
            places: None,
            feeds: Feeds::ByCategory,
            touches: None,
            immediate_in_multi: false,
            pause: Pause::ByFlags,
            in_subscriber_mode: false,
            subscribed: None,
            keys: None,
            key_access: None,
            channels: None,
            redact: None,
            reaches_other_keys: false,
            runs_commands: false,
        }
    }

    /// A command that reads keys (runs on a read snapshot).
    pub const fn read(name: &'static str, f: CommandFn) -> Spec {
        Spec::new(name, Handler::Read(f))
    }

    /// A command that writes keys (runs in the writer's transaction).
    pub const fn write(name: &'static str, f: CommandFn) -> Spec {
        Spec::new(name, Handler::Write(f))
    }

    /// A command that needs no storage (PING, ECHO, TIME).
    pub const fn pure(name: &'static str, f: CommandFn) -> Spec {
        Spec::new(name, Handler::Pure(f))
    }

    /// A command run by the server layer, which registers it with its
    /// function and numbers it (see `server::commands`).
    pub const fn server(name: &'static str) -> Spec {
        Spec::new(name, Handler::Server(u16::MAX))
    }

    pub const fn bounded(mut self, f: BoundFn) -> Spec {
        self.cost = Cost::Bounded(f);
        self
    }

    pub const fn off_the_loop(mut self) -> Spec {
        self.cost = Cost::OffTheLoop;
        self
    }

    pub const fn blocks(mut self, wait: WaitFn) -> Spec {
        self.blocking = Some(Blocking {
            wait,
            millis: false,
            resolve: None,
            rerun: None,
            refused_in_scripts: false,
        });
        self
    }

    /// Blocks like [`Spec::blocks`], with a timeout in milliseconds (XREAD's
    /// `BLOCK ms`), its arguments first rewritten by `resolve` if given, and
    /// `rerun` as the step after each wake-up if given; refused in scripts
    /// when the arguments block.
    pub const fn blocks_ms(mut self, wait: WaitFn, resolve: Option<Resolve>, rerun: Option<super::CommandFn>) -> Spec {
        self.blocking = Some(Blocking {
            wait,
            millis: true,
            resolve,
            rerun,
            refused_in_scripts: true,
        });
        self
    }

    pub const fn misses(mut self, f: MissFn) -> Spec {
        self.misses = Some(f);
        self
    }

    pub const fn places(mut self, f: PlaceFn) -> Spec {
        self.places = Some(f);
        self
    }

    pub const fn feeds(mut self, feeds: bool) -> Spec {
        self.feeds = if feeds { Feeds::Yes } else { Feeds::No };
        self
    }

    /// The write feeds the targets `f` names (and, unless told otherwise, may feed).
    pub const fn touches(mut self, f: TouchFn) -> Spec {
        self.touches = Some(f);
        self.feeds = Feeds::Yes;
        self
    }

    pub const fn immediate_in_multi(mut self) -> Spec {
        self.immediate_in_multi = true;
        self
    }

    pub const fn paused_by_write(mut self) -> Spec {
        self.pause = Pause::Write;
        self
    }

    pub const fn paused_as_queued(mut self) -> Spec {
        self.pause = Pause::AsQueued;
        self
    }

    pub const fn in_subscriber_mode(mut self) -> Spec {
        self.in_subscriber_mode = true;
        self
    }

    /// Its keys are where `f` says (Redis's key procedure), not only where
    /// its key specs say.
    pub const fn keys(mut self, f: KeysFn) -> Spec {
        self.keys = Some(f);
        self
    }

    /// What it does with its keys depends on its arguments.
    pub const fn key_access(mut self, f: AccessFn) -> Spec {
        self.key_access = Some(f);
        self
    }

    /// It names channels, which ACL channel rules check.
    pub const fn channels(mut self, f: ChannelFn) -> Spec {
        self.channels = Some(f);
        self
    }

    /// Logs show its arguments through `f`.
    pub const fn redacts(mut self, f: RedactFn) -> Spec {
        self.redact = Some(f);
        self
    }

    /// It may reach keys that its arguments do not name.
    pub const fn reaches_other_keys(mut self) -> Spec {
        self.reaches_other_keys = true;
        self
    }

    /// It runs other commands on the client's behalf (a script).
    pub const fn runs_commands(mut self) -> Spec {
        self.runs_commands = true;
        self
    }

    /// Allowed in RESP2 subscriber mode, with another reply there.
    pub const fn answers_subscribed(mut self, f: SubscribedFn) -> Spec {
        self.in_subscriber_mode = true;
        self.subscribed = Some(f);
        self
    }
}

/// No `keymiss` keys (a read-only command that looks its keys up without
/// counting misses, such as OBJECT or MEMORY).
pub fn no_misses(_: &super::Command, _: &[Bytes]) -> Vec<usize> {
    Vec::new()
}

/// Only the first argument counts as looked up (GETDEL, COPY's source, ...).
pub fn first_key_misses(_: &super::Command, _: &[Bytes]) -> Vec<usize> {
    vec![1]
}

/// Every key but the first (the destination of SINTERSTORE & co.) counts.
pub fn source_key_misses(cmd: &super::Command, args: &[Bytes]) -> Vec<usize> {
    cmd.keys(args).unwrap_or_default().into_iter().skip(1).collect()
}

/// Every key counts (a write that reads all its keys first: PFMERGE).
pub fn all_key_misses(cmd: &super::Command, args: &[Bytes]) -> Vec<usize> {
    cmd.keys(args).unwrap_or_default()
}

/// Places the first `before` events before the reply and the rest after it.
pub fn split_at(events: &[Event], before: usize) -> Vec<Place> {
    (0..events.len())
        .map(|i| {
            if i < before {
                Place::BeforeReply
            } else {
                Place::AfterReply
            }
        })
        .collect()
}

/// The events named `names` that lead the list go before the reply; the
/// rest after it (pushes: their lookup's `keymiss` and the key's `new` come
/// first, then the reply, then the push).
pub fn leading(events: &[Event], names: &[&str]) -> Vec<Place> {
    let n = events.iter().take_while(|e| names.contains(&e.name)).count();
    split_at(events, n)
}

/// Leading `keymiss` events before the reply, the rest after it.
pub fn misses_first(_: &[Bytes], events: &[Event]) -> Vec<Place> {
    leading(events, &["keymiss"])
}

/// Leading `keymiss` and `new` events before the reply, the rest after it.
pub fn lookups_first(_: &[Bytes], events: &[Event]) -> Vec<Place> {
    leading(events, &["keymiss", "new"])
}

/// Every event after the reply.
pub fn all_after(_: &[Bytes], events: &[Event]) -> Vec<Place> {
    split_at(events, 0)
}

/// The blocking keys are every argument between the name and the timeout,
/// which is last (BLPOP, BRPOP, BZPOPMIN, BZPOPMAX).
pub fn wait_keys_then_timeout(args: &[Bytes]) -> Option<(Vec<Bytes>, usize)> {
    let last = args.len() - 1;
    Some((args[1..last].to_vec(), last))
}

/// The keys of `numkeys key ...` after a leading timeout (BLMPOP, BZMPOP).
pub fn wait_timeout_then_numkeys(args: &[Bytes]) -> Option<(Vec<Bytes>, usize)> {
    // numkeys was validated by the first attempt; clamp anyway.
    let n = crate::resp::request::parse_i64(&args[2]).unwrap_or(0).max(0) as usize;
    Some((args[3..].iter().take(n).cloned().collect(), 1))
}
