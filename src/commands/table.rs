//! The command table: Redis's metadata for every command redsql implements.
//!
//! `redis-commands.resp` holds the raw RESP3 replies of `COMMAND INFO` and
//! `COMMAND DOCS` from a real Redis 7.0 (regenerate it with
//! `tools/gen_command_table.py`). At start-up it is joined with the handlers
//! that the command modules register, keeping only implemented commands and
//! subcommands, so `COMMAND`, `COMMAND DOCS`, arity checks, flags and key
//! positions all say exactly what Redis says about what redsql does.

use super::{FAMILIES, Handler, Spec};
use crate::resp::{Reply, value};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Commands by lowercase name. Looked up once per command run, so with a
/// fast hasher (std's SipHash cost ~190 instructions a lookup, about 5% of a
/// pipelined GET); the keys are Redis's own command names, not client data.
pub type ByName = HashMap<Vec<u8>, Command, foldhash::fast::RandomState>;

pub(crate) static DATA: &[u8] = include_bytes!("redis-commands.resp");

/// One command (or subcommand, named `parent|sub`).
pub struct Command {
    /// Lowercase full name: `get`, `client|setname`.
    pub name: String,
    /// Redis arity: N exactly, or -N for at least N (the name counts).
    pub arity: i64,
    pub flags: Vec<String>,
    pub first_key: i64,
    pub last_key: i64,
    pub key_step: i64,
    /// Redis 7 key specifications (see [`super::keyspec`]).
    pub key_specs: Vec<super::keyspec::KeySpec>,
    /// What redsql knows about the command: its handler, cost, blocking,
    /// events and so on (see [`super::spec`]).
    pub spec: Spec,
    /// The `COMMAND INFO` entry (subcommands limited to implemented ones).
    pub info: Reply,
    /// The `COMMAND DOCS` value (subcommands limited to implemented ones).
    pub docs: Reply,
    /// Implemented subcommands, by lowercase name (without the parent prefix).
    pub subcommands: ByName,
    pub write: bool,
    pub readonly: bool,
    pub fast: bool,
    pub noscript: bool,
    pub no_auth: bool,
    pub no_multi: bool,
    pub pubsub: bool,
    pub blocking: bool,
    pub loading: bool,
}

impl Command {
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    /// True if `argc` arguments (including the name) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let a = self.arity;
        (a >= 0 && argc as i64 == a) || (a < 0 && argc as i64 >= -a)
    }

    /// The name as Redis prints it in errors (`client|setname`).
    pub fn display_name(&self) -> &str {
        &self.name
    }

    /// True if the command takes keys at all.
    pub fn has_keys(&self) -> bool {
        super::keyspec::has_keys(self.spec.keys, &self.key_specs)
    }

    /// Positions of the key arguments in `args` (name at 0), from the key
    /// specs as Redis reads them; `None` if the arguments do not fit them.
    pub fn keys(&self, args: &[bytes::Bytes]) -> Option<Vec<usize>> {
        super::keyspec::positions(self.spec.keys, &self.key_specs, args)
    }
}

pub struct Table {
    commands: ByName,
}

impl Table {
    pub fn get(&self, name: &[u8]) -> Option<&Command> {
        if name.len() > 64 {
            return None;
        }
        let mut lower = [0u8; 64];
        let lower = &mut lower[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.commands.get(&lower[..])
    }

    pub fn iter(&self) -> impl Iterator<Item = &Command> {
        self.commands.values()
    }

    pub fn len(&self) -> usize {
        self.commands.len()
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }
}

/// The table of storage commands ([`FAMILIES`]), built on first use: what
/// the library runs. The server builds its own, with its commands added
/// ([`Table::build`]).
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| Table::build(FAMILIES.iter().copied().flatten().copied()))
}

/// Checks a request against `table` as Redis does before running it: the
/// command (and subcommand) must exist and the arity fit, with Redis's exact
/// errors. The server adds its own checks (ACL, MONITOR) after this one.
/// The error is a ready error reply (it may hold the request's binary bytes).
pub fn check(table: &'static Table, args: &[Bytes]) -> Result<&'static Command, Reply> {
    let Some(name) = args.first() else {
        return Err(Reply::error("ERR empty command"));
    };
    let Some(mut cmd) = table.get(name) else {
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
    Ok(cmd)
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

/// Whether Redis 7.0 has a command of this name (implemented here or not).
pub fn is_redis_command(name: &[u8]) -> bool {
    static NAMES: OnceLock<std::collections::HashSet<Vec<u8>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| {
        let Some((Reply::Array(infos), _)) = value::parse(DATA) else {
            return Default::default();
        };
        infos
            .iter()
            .filter_map(|e| Some(bytes_of(array(e)?.first()?)?.to_ascii_lowercase()))
            .collect()
    });
    names.contains(&name.to_ascii_lowercase())
}

/// Looks a command up by name, case-insensitively.
pub fn lookup(name: &[u8]) -> Option<&'static Command> {
    table().get(name)
}

impl Table {
    /// Joins `specs` with Redis's metadata: only these commands (and
    /// subcommands) are in the table. A container whose subcommands have
    /// specs but which has none itself gets [`Handler::Container`].
    pub fn build(specs: impl IntoIterator<Item = Spec>) -> Table {
        build(specs.into_iter().map(|s| (s.name, s)).collect())
    }
}

fn build(handlers: HashMap<&'static str, Spec>) -> Table {
    let (info, used) = value::parse(DATA).expect("command info data");
    let (docs, _) = value::parse(&DATA[used..]).expect("command docs data");
    let Reply::Array(infos) = info else {
        panic!("command info is an array")
    };
    let Reply::Map(docs) = docs else {
        panic!("command docs is a map")
    };
    let docs: HashMap<Vec<u8>, Reply> = docs
        .into_iter()
        .filter_map(|(k, v)| Some((bytes_of(&k)?.to_vec(), v)))
        .collect();
    let infos: HashMap<Vec<u8>, Reply> = infos
        .into_iter()
        .filter_map(|e| Some((bytes_of(array(&e)?.first()?)?.to_vec(), e)))
        .collect();

    let mut commands = ByName::default();
    for (name, spec) in &handlers {
        if name.contains('|') {
            continue;
        }
        let info = infos
            .get(name.as_bytes())
            .unwrap_or_else(|| panic!("no Redis metadata for command {name}"));
        let doc = docs.get(name.as_bytes()).cloned().unwrap_or(Reply::Map(vec![]));
        commands.insert(name.as_bytes().to_vec(), make(info, doc, *spec, &handlers));
    }
    // Containers whose subcommands are implemented but which have no handler of their own.
    for name in handlers.keys() {
        if let Some((parent, _)) = name.split_once('|')
            && !commands.contains_key(parent.as_bytes())
        {
            let info = infos
                .get(parent.as_bytes())
                .unwrap_or_else(|| panic!("no Redis metadata for {parent}"));
            let doc = docs.get(parent.as_bytes()).cloned().unwrap_or(Reply::Map(vec![]));
            let container = Spec::new(parent, Handler::Container);
            commands.insert(parent.as_bytes().to_vec(), make(info, doc, container, &handlers));
        }
    }
    Table { commands }
}

fn make(info: &Reply, docs: Reply, spec: Spec, handlers: &HashMap<&'static str, Spec>) -> Command {
    let fields = array(info).expect("info entry");
    let name = String::from_utf8_lossy(bytes_of(&fields[0]).unwrap()).to_lowercase();
    let int = |i: usize| match fields.get(i) {
        Some(Reply::Int(n)) => *n,
        _ => 0,
    };
    let flags: Vec<String> = array(&fields[2])
        .unwrap_or(&[])
        .iter()
        .filter_map(bytes_of)
        .map(|b| String::from_utf8_lossy(b).into())
        .collect();

    // Subcommands: only the implemented ones.
    let mut subcommands = ByName::default();
    let mut info_fields = fields.to_vec();
    if let Some(subs) = fields.get(9).and_then(array) {
        let mut kept = Vec::new();
        for sub in subs {
            let sub_name = String::from_utf8_lossy(bytes_of(&array(sub).unwrap()[0]).unwrap()).to_lowercase();
            if let Some(h) = handlers.get(sub_name.as_str()) {
                let sub_docs = subcommand_docs(&docs, &sub_name);
                let cmd = make(sub, sub_docs, *h, handlers);
                let short = sub_name.split_once('|').map(|(_, s)| s).unwrap_or(&sub_name);
                subcommands.insert(short.as_bytes().to_vec(), cmd);
                kept.push(sub.clone());
            }
        }
        // Keep Redis's shape: an (empty) set in RESP3, as Redis replies it.
        info_fields[9] = match &fields[9] {
            Reply::Set(_) => Reply::Set(kept),
            _ => Reply::Array(kept),
        };
    }
    let docs = filter_doc_subcommands(docs, handlers);
    let has = |f: &str| flags.iter().any(|x| x == f);
    Command {
        arity: int(1),
        first_key: int(3),
        last_key: int(4),
        key_step: int(5),
        key_specs: super::keyspec::parse(fields.get(8)),
        spec,
        info: Reply::Array(info_fields),
        docs,
        subcommands,
        write: has("write"),
        readonly: has("readonly"),
        fast: has("fast"),
        noscript: has("noscript"),
        no_auth: has("no_auth"),
        no_multi: has("no_multi"),
        pubsub: has("pubsub"),
        blocking: has("blocking"),
        loading: has("loading"),
        flags,
        name,
    }
}

fn subcommand_docs(parent_docs: &Reply, full_name: &str) -> Reply {
    if let Reply::Map(pairs) = parent_docs {
        for (k, v) in pairs {
            if bytes_of(k) == Some(&b"subcommands"[..])
                && let Reply::Map(subs) = v
            {
                for (sk, sv) in subs {
                    if bytes_of(sk).map(|b| b.eq_ignore_ascii_case(full_name.as_bytes())) == Some(true) {
                        return sv.clone();
                    }
                }
            }
        }
    }
    Reply::Map(vec![])
}

fn filter_doc_subcommands(docs: Reply, handlers: &HashMap<&'static str, Spec>) -> Reply {
    let Reply::Map(pairs) = docs else { return docs };
    Reply::Map(
        pairs
            .into_iter()
            .map(|(k, v)| {
                if bytes_of(&k) == Some(&b"subcommands"[..]) {
                    let Reply::Map(subs) = v else { return (k, v) };
                    let kept = subs
                        .into_iter()
                        .filter(|(sk, _)| {
                            bytes_of(sk)
                                .map(|b| handlers.contains_key(String::from_utf8_lossy(b).to_lowercase().as_str()))
                                == Some(true)
                        })
                        .collect();
                    (k, Reply::Map(kept))
                } else {
                    (k, v)
                }
            })
            .collect(),
    )
}

fn array(r: &Reply) -> Option<&[Reply]> {
    match r {
        Reply::Array(a) | Reply::Set(a) => Some(a),
        _ => None,
    }
}

pub fn bytes_of(r: &Reply) -> Option<&[u8]> {
    match r {
        Reply::Bulk(b) | Reply::Status(b) | Reply::Verbatim(b) => Some(b),
        _ => None,
    }
}
