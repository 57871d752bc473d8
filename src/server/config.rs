//! Server configuration: every parameter Redis 7.0 has, so `CONFIG GET`
//! answers what tools expect, with real effect for the ones redsql uses.
//!
//! Two tables captured from a real Redis 7.0 describe the parameters:
//! `redis-config.tsv` holds their defaults (`CONFIG GET *`), and
//! `redis-config-types.tsv` their kind as `CONFIG SET` validates it (found by
//! setting each to invalid values): `bool`, `int MIN MAX`, `memory`,
//! `enum a, b, c`, `string`, `immutable` or `protected`. Values are validated
//! and normalised as Redis does (`YES` → `yes`, `1kb` → `1024`), with Redis's
//! error texts.
//!
//! Settings with real effect: `requirepass` (new connections and AUTH),
//! `maxclients` (new connections), `proto-max-bulk-len` (next request read),
//! `loglevel` (immediately), `client-output-buffer-limit` (its `pubsub`
//! class: queued messages, at the next one), `slowlog-log-slower-than` and `slowlog-max-len`
//! (next command), `protected-mode` (next connection), `notify-keyspace-events`
//! (next write; see `server::notify`). `appendfsync` and `databases` act at start-up only
//! (the engine opens with them). `port`, `bind` and `unixsocket` cannot change
//! at run time in redsql (Redis can rebind; redsql refuses as for an immutable
//! parameter). Every other parameter is accepted, validated and reported.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

static REDIS_DEFAULTS: &str = include_str!("redis-config.tsv");
static REDIS_TYPES: &str = include_str!("redis-config-types.tsv");

/// Parameters redsql adds to Redis's set (all immutable: set at start-up).
pub const REDSQL_PARAMS: &[(&str, &str)] = &[("db", "redsql.db"), ("read-cache", "32mb")];

/// Parameters Redis can change at run time but redsql cannot.
const FIXED_AT_STARTUP: &[&str] = &["bind", "port"];

/// How a parameter's values are checked (Redis's config types).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Bool,
    Int(i64, i64),
    Memory,
    Enum(Vec<String>),
    String,
    Immutable,
    Protected,
}

pub struct Config {
    values: RwLock<BTreeMap<String, String>>,
    defaults: BTreeMap<String, String>,
    kinds: BTreeMap<String, Kind>,
    /// The config file the server was started with (for CONFIG REWRITE and INFO).
    file: RwLock<Option<PathBuf>>,
    /// Hot values read on every connection or request.
    maxclients: AtomicI64,
    proto_max_bulk_len: AtomicI64,
    slowlog_log_slower_than: AtomicI64,
    slowlog_max_len: AtomicI64,
    /// `notify-keyspace-events` as a set of classes. Kept apart from its
    /// text, which does not always show every flag (`An` reads back `A`).
    keyspace_events: AtomicU32,
    /// The `pubsub` class of `client-output-buffer-limit`.
    pubsub_limit: std::sync::Arc<OutputLimit>,
}

/// One client class's output buffer limit (`client-output-buffer-limit`):
/// a client whose queued replies pass `hard` bytes, or stay above `soft`
/// bytes for `soft_secs` seconds, is disconnected. 0 turns a limit off.
#[derive(Debug, Default)]
pub struct OutputLimit {
    pub hard: std::sync::atomic::AtomicU64,
    pub soft: std::sync::atomic::AtomicU64,
    pub soft_secs: std::sync::atomic::AtomicU64,
}

/// The client classes of `client-output-buffer-limit`, as Redis prints them.
const OUTPUT_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// Parses `client-output-buffer-limit` (`<class> <hard> <soft> <seconds>`
/// repeated) over the current value `current`, as Redis's
/// `updateClientOutputBufferLimit`: all or nothing, the classes not named
/// keep their limits. Returns the whole setting as Redis prints it.
fn output_buffer_limits(current: &str, value: &str) -> Result<String, String> {
    let mut limits: Vec<[u64; 3]> = OUTPUT_CLASSES.iter().map(|_| [0; 3]).collect();
    let old: Vec<&str> = current.split_whitespace().collect();
    for chunk in old.chunks(4) {
        if let [class, h, s, t] = chunk
            && let Some(i) = OUTPUT_CLASSES.iter().position(|c| c == class)
        {
            limits[i] = [h.parse().unwrap_or(0), s.parse().unwrap_or(0), t.parse().unwrap_or(0)];
        }
    }
    let args: Vec<&str> = value.split_whitespace().collect();
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut new = limits;
    for chunk in args.chunks(4) {
        let class = match chunk[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
        };
        let memory = |v: &str| parse_memory(v).filter(|n| *n >= 0).map(|n| n as u64);
        match (memory(chunk[1]), memory(chunk[2]), chunk[3].parse::<i64>()) {
            (Some(h), Some(s), Ok(t)) if t >= 0 => new[class] = [h, s, t as u64],
            _ => return Err("Error in hard, soft or soft_seconds setting in buffer limit configuration.".into()),
        }
    }
    Ok(OUTPUT_CLASSES
        .iter()
        .zip(new)
        .map(|(c, [h, s, t])| format!("{c} {h} {s} {t}"))
        .collect::<Vec<_>>()
        .join(" "))
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// Redis's defaults with redsql's own.
    pub fn new() -> Config {
        let mut values = BTreeMap::new();
        for line in REDIS_DEFAULTS.lines() {
            if let Some((k, v)) = line.split_once('\t') {
                values.insert(k.to_string(), v.to_string());
            }
        }
        for (k, v) in REDSQL_PARAMS {
            values.insert(k.to_string(), v.to_string());
        }
        let dir = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|_| ".".into());
        for (k, v) in [
            ("bind", "127.0.0.1 -::1"),
            ("port", "6379"),
            ("dir", dir.as_str()),
            ("pidfile", ""),
            ("save", ""),
            ("appendonly", "no"),
            ("appendfsync", "everysec"),
        ] {
            values.insert(k.to_string(), v.to_string());
        }
        let mut kinds: BTreeMap<String, Kind> = REDIS_TYPES.lines().filter_map(parse_kind).collect();
        for (name, _) in REDSQL_PARAMS {
            kinds.insert(name.to_string(), Kind::Immutable);
        }
        let config = Config {
            defaults: values.clone(),
            values: RwLock::new(values),
            kinds,
            file: RwLock::new(None),
            maxclients: AtomicI64::new(10000),
            proto_max_bulk_len: AtomicI64::new(512 * 1024 * 1024),
            slowlog_log_slower_than: AtomicI64::new(10000),
            slowlog_max_len: AtomicI64::new(128),
            keyspace_events: AtomicU32::new(0),
            pubsub_limit: Default::default(),
        };
        config.refresh_hot();
        config
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.values.read().unwrap().get(&name.to_ascii_lowercase()).cloned()
    }

    pub fn get_int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|v| parse_memory(&v))
    }

    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v.eq_ignore_ascii_case("yes"))
    }

    /// The password of the default user, if one is set.
    pub fn requirepass(&self) -> Option<String> {
        self.get("requirepass").filter(|p| !p.is_empty())
    }

    /// The output buffer limit of Pub/Sub clients (shared: it follows CONFIG SET).
    pub fn pubsub_limit(&self) -> std::sync::Arc<OutputLimit> {
        self.pubsub_limit.clone()
    }

    pub fn maxclients(&self) -> usize {
        self.maxclients.load(Ordering::Relaxed) as usize
    }

    pub fn proto_max_bulk_len(&self) -> i64 {
        self.proto_max_bulk_len.load(Ordering::Relaxed)
    }

    /// `slowlog-log-slower-than` in microseconds (negative: slow log off).
    pub fn slowlog_log_slower_than(&self) -> i64 {
        self.slowlog_log_slower_than.load(Ordering::Relaxed)
    }

    /// `slowlog-max-len`: most entries the slow log keeps.
    pub fn slowlog_max_len(&self) -> i64 {
        self.slowlog_max_len.load(Ordering::Relaxed)
    }

    /// `notify-keyspace-events`: the keyspace event classes to publish.
    pub fn keyspace_events(&self) -> crate::commands::Classes {
        crate::commands::Classes(self.keyspace_events.load(Ordering::Relaxed))
    }

    /// The config file given at start-up.
    pub fn file(&self) -> Option<PathBuf> {
        self.file.read().unwrap().clone()
    }

    pub fn set_file(&self, path: PathBuf) {
        *self.file.write().unwrap() = Some(path);
    }

    pub fn exists(&self, name: &str) -> bool {
        self.values.read().unwrap().contains_key(&name.to_ascii_lowercase())
    }

    /// `CONFIG GET` for one pattern: a name without glob characters is looked
    /// up exactly (and keeps the caller's spelling, as in Redis), a pattern
    /// matches every name.
    pub fn matching(&self, pattern: &[u8]) -> Vec<(Vec<u8>, String)> {
        let values = self.values.read().unwrap();
        if !pattern.iter().any(|c| matches!(c, b'[' | b'*' | b'?')) {
            let name = String::from_utf8_lossy(pattern).to_ascii_lowercase();
            return values
                .get(&name)
                .map(|v| vec![(pattern.to_vec(), v.clone())])
                .unwrap_or_default();
        }
        values
            .iter()
            .filter(|(k, _)| crate::glob::matches(pattern, k.as_bytes(), true))
            .map(|(k, v)| (k.as_bytes().to_vec(), v.clone()))
            .collect()
    }

    /// Sets a parameter at start-up (command line or config file): any known
    /// name, immutable ones included.
    pub fn set_initial(&self, name: &str, value: &str) -> Result<(), String> {
        let name = name.to_ascii_lowercase();
        if !self.exists(&name) {
            return Err(format!("Bad directive or wrong number of arguments: '{name}'"));
        }
        let value = self.normalize(&name, value, true)?;
        self.note_keyspace_events(&name, value.as_str());
        self.values.write().unwrap().insert(name, value);
        self.refresh_hot();
        Ok(())
    }

    /// `CONFIG SET name value [name value ...]`: all or nothing, with Redis's
    /// error texts (without the `ERR ` prefix).
    pub fn set_many(&self, pairs: &[(String, String)]) -> Result<(), String> {
        // (name, value as stored, value as given)
        let mut checked: Vec<(String, String, &str)> = Vec::with_capacity(pairs.len());
        for (typed, value) in pairs {
            let name = typed.to_ascii_lowercase();
            if !self.exists(&name) {
                return Err(format!(
                    "Unknown option or number of arguments for CONFIG SET - '{typed}'"
                ));
            }
            let fail = |e: &str| format!("CONFIG SET failed (possibly related to argument '{typed}') - {e}");
            if checked.iter().any(|(n, _, _)| *n == name) {
                return Err(fail("duplicate parameter"));
            }
            match self.kinds.get(&name) {
                _ if FIXED_AT_STARTUP.contains(&name.as_str()) => return Err(fail("can't set immutable config")),
                Some(Kind::Immutable) => return Err(fail("can't set immutable config")),
                Some(Kind::Protected) => return Err(fail("can't set protected config")),
                _ => {}
            }
            // Invalid values are reported with the parameter's own (lowercase) name.
            let normal = self
                .normalize(&name, value, false)
                .map_err(|e| format!("CONFIG SET failed (possibly related to argument '{name}') - {e}"))?;
            checked.push((name, normal, value));
        }
        let mut values = self.values.write().unwrap();
        for (name, value, given) in checked {
            self.note_keyspace_events(&name, given);
            if name == "loglevel" {
                let _ = crate::log::set_level(&value);
            }
            values.insert(name, value);
        }
        drop(values);
        self.refresh_hot();
        Ok(())
    }

    /// Keeps the classes of a validated `notify-keyspace-events` value.
    fn note_keyspace_events(&self, name: &str, value: &str) {
        if name == "notify-keyspace-events"
            && let Some(set) = super::notify::parse(value.as_bytes())
        {
            self.keyspace_events.store(set.0, Ordering::Relaxed);
        }
    }

    /// Validates `value` for `name` and returns it as Redis stores it.
    fn normalize(&self, name: &str, value: &str, startup: bool) -> Result<String, String> {
        if name == "client-output-buffer-limit" {
            return output_buffer_limits(&self.get(name).unwrap_or_default(), value);
        }
        if name == "notify-keyspace-events" {
            let set = super::notify::parse(value.as_bytes()).ok_or(super::notify::INVALID)?;
            return Ok(super::notify::render(set));
        }
        let kind = self.kinds.get(name).cloned().unwrap_or(Kind::String);
        match kind {
            Kind::Bool => match value.to_ascii_lowercase().as_str() {
                v @ ("yes" | "no") => Ok(v.to_string()),
                _ => Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Int(min, max) => {
                let n = value
                    .parse::<i64>()
                    .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
                if n < min || n > max {
                    return Err(format!("argument must be between {min} and {max} inclusive"));
                }
                Ok(n.to_string())
            }
            Kind::Memory => {
                let n = parse_memory(value)
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| "argument must be a memory value".to_string())?;
                if name == "proto-max-bulk-len" && n < 1024 * 1024 {
                    return Err(format!(
                        "argument must be between {} and {} inclusive",
                        1024 * 1024,
                        i64::MAX
                    ));
                }
                Ok(n.to_string())
            }
            Kind::Enum(options) => options
                .iter()
                .find(|o| o.eq_ignore_ascii_case(value))
                .cloned()
                .ok_or_else(|| format!("argument(s) must be one of the following: {}", options.join(", "))),
            Kind::Immutable if startup && name == "databases" => match value.parse::<i64>() {
                Ok(n) if (1..=i32::MAX as i64).contains(&n) => Ok(n.to_string()),
                _ => Err("Invalid number of databases".into()),
            },
            Kind::Immutable | Kind::Protected if startup => Ok(value.to_string()),
            Kind::Immutable => Err("can't set immutable config".into()),
            Kind::Protected => Err("can't set protected config".into()),
            Kind::String => Ok(value.to_string()),
        }
    }

    fn refresh_hot(&self) {
        if let Some(n) = self.get_int("busy-reply-threshold") {
            crate::commands::settings::set_busy_reply_threshold_ms(n.max(0) as u64);
        }
        if let Some(n) = self.get_int("hll-sparse-max-bytes") {
            crate::commands::settings::set_hll_sparse_max_bytes(n.max(0) as usize);
        }
        if let Some(v) = self.get("client-output-buffer-limit") {
            let words: Vec<&str> = v.split_whitespace().collect();
            if let Some(p) = words.chunks(4).find(|c| c.first() == Some(&"pubsub")) {
                let n = |i: usize| p.get(i).and_then(|w| w.parse().ok()).unwrap_or(0);
                self.pubsub_limit.hard.store(n(1), Ordering::Relaxed);
                self.pubsub_limit.soft.store(n(2), Ordering::Relaxed);
                self.pubsub_limit.soft_secs.store(n(3), Ordering::Relaxed);
            }
        }
        if let Some(n) = self.get_int("maxclients") {
            self.maxclients.store(n, Ordering::Relaxed);
        }
        if let Some(n) = self.get_int("proto-max-bulk-len") {
            self.proto_max_bulk_len.store(n, Ordering::Relaxed);
        }
        if let Some(n) = self.get_int("slowlog-log-slower-than") {
            self.slowlog_log_slower_than.store(n, Ordering::Relaxed);
        }
        if let Some(n) = self.get_int("slowlog-max-len") {
            self.slowlog_max_len.store(n, Ordering::Relaxed);
        }
    }

    /// `CONFIG REWRITE`: rewrites the config file with the current values.
    /// Lines of the existing file keep their place (a changed value replaces
    /// the first line of its directive; comments stay); parameters that differ
    /// from their default and are not in the file yet are appended.
    pub fn rewrite(&self) -> Result<(), String> {
        let Some(path) = self.file() else {
            return Err("The server is running without a config file".into());
        };
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let values = self.values.read().unwrap().clone();
        let mut written = std::collections::HashSet::new();
        let mut out = String::new();
        for line in old.lines() {
            let name = line.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
            if line.trim_start().starts_with('#') || !values.contains_key(&name) {
                out.push_str(line);
                out.push('\n');
            } else if written.insert(name.clone()) {
                out.push_str(&directive(&name, &values[&name]));
            }
        }
        let mut header = false;
        for (name, value) in &values {
            if written.contains(name) || self.defaults.get(name) == Some(value) {
                continue;
            }
            if !header && !old.contains("# Generated by CONFIG REWRITE") {
                out.push_str("# Generated by CONFIG REWRITE\n");
            }
            header = true;
            out.push_str(&directive(name, value));
        }
        let tmp = path.with_extension("rewrite.tmp");
        std::fs::write(&tmp, out)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("Rewriting config file: {e}"))
    }
}

/// One config-file line: `name value`, quoted when needed.
fn directive(name: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\');
    if plain || (name == "save" || name == "bind") && !value.is_empty() {
        format!("{name} {value}\n")
    } else {
        let mut q = String::from("\"");
        for c in value.bytes() {
            match c {
                b'"' | b'\\' => {
                    q.push('\\');
                    q.push(c as char);
                }
                b'\n' => q.push_str("\\n"),
                b'\r' => q.push_str("\\r"),
                b'\t' => q.push_str("\\t"),
                c if c.is_ascii_graphic() || c == b' ' => q.push(c as char),
                c => q.push_str(&format!("\\x{c:02x}")),
            }
        }
        format!("{name} {q}\"\n")
    }
}

/// One line of `redis-config-types.tsv`: `name<TAB>kind<TAB>detail`.
fn parse_kind(line: &str) -> Option<(String, Kind)> {
    let mut parts = line.split('\t');
    let name = parts.next()?.to_string();
    let kind = parts.next()?;
    let detail = parts.next().unwrap_or("");
    let kind = match kind {
        "bool" => Kind::Bool,
        "int" => {
            let mut r = detail.split(' ').map(|n| n.parse::<i64>().ok());
            Kind::Int(r.next()??, r.next()??)
        }
        "memory" => Kind::Memory,
        "enum" => Kind::Enum(detail.split(", ").map(str::to_string).collect()),
        "immutable" => Kind::Immutable,
        "protected" => Kind::Protected,
        _ => Kind::String,
    };
    Some((name, kind))
}

/// Parses an integer with Redis's memory units (`1k`, `5mb`, `2gb`, ...).
pub fn parse_memory(v: &str) -> Option<i64> {
    let lower = v.to_ascii_lowercase();
    let (digits, mul) = [
        ("kb", 1024),
        ("k", 1000),
        ("mb", 1024 * 1024),
        ("m", 1_000_000),
        ("gb", 1 << 30),
        ("g", 1_000_000_000),
    ]
    .iter()
    .find(|(suffix, _)| lower.ends_with(suffix))
    .map(|(s, m)| (&lower[..lower.len() - s.len()], *m))
    .unwrap_or((lower.as_str(), 1));
    digits.parse::<i64>().ok()?.checked_mul(mul)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_many_is_all_or_nothing() {
        let c = Config::new();
        let pairs = vec![
            ("maxclients".to_string(), "50".to_string()),
            ("appendonly".to_string(), "maybe".to_string()),
        ];
        assert!(c.set_many(&pairs).is_err());
        assert_eq!(c.get("maxclients").as_deref(), Some("10000"));
        c.set_many(&[("maxclients".into(), "50".into()), ("loglevel".into(), "NOTICE".into())])
            .unwrap();
        assert_eq!(c.maxclients(), 50);
        assert_eq!(c.get("loglevel").as_deref(), Some("notice"));
    }

    #[test]
    fn memory_values_are_normalised() {
        let c = Config::new();
        c.set_many(&[("maxmemory".into(), "1kb".into())]).unwrap();
        assert_eq!(c.get("maxmemory").as_deref(), Some("1024"));
        assert!(c.set_many(&[("proto-max-bulk-len".into(), "1".into())]).is_err());
    }
}
