//! Server configuration: every parameter Redis 7.0 has, so `CONFIG GET`
//! answers what tools expect, with real effect for the ones redsql uses.
//!
//! Defaults come from `redis-config.tsv` (captured from a real Redis with
//! `tools/gen_command_table.py`); redsql's own settings override them.

use std::collections::BTreeMap;
use std::sync::RwLock;

static REDIS_DEFAULTS: &str = include_str!("redis-config.tsv");

/// Parameters redsql adds to Redis's set.
pub const REDSQL_PARAMS: &[(&str, &str)] = &[("db", "redsql.db")];

/// Parameters that cannot change at run time (CONFIG SET refuses them, as Redis does).
const IMMUTABLE: &[&str] = &[
    "bind",
    "port",
    "unixsocket",
    "databases",
    "daemonize",
    "db",
    "dir",
    "pidfile",
    "logfile",
];

pub struct Config {
    values: RwLock<BTreeMap<String, String>>,
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
        Config {
            values: RwLock::new(values),
        }
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

    pub fn exists(&self, name: &str) -> bool {
        self.values.read().unwrap().contains_key(&name.to_ascii_lowercase())
    }

    /// All (name, value) pairs whose name matches `pattern` (Redis glob).
    pub fn matching(&self, pattern: &[u8]) -> Vec<(String, String)> {
        self.values
            .read()
            .unwrap()
            .iter()
            .filter(|(k, _)| crate::glob::matches(pattern, k.as_bytes(), true))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Sets a parameter at start-up (command line or config file): any known name.
    pub fn set_initial(&self, name: &str, value: &str) -> Result<(), String> {
        let name = name.to_ascii_lowercase();
        if !self.exists(&name) {
            return Err(format!("Bad directive or wrong number of arguments: '{name}'"));
        }
        validate(&name, value)?;
        self.values.write().unwrap().insert(name, value.to_string());
        Ok(())
    }

    /// `CONFIG SET name value`: the error text follows Redis's.
    pub fn set(&self, name: &str, value: &str) -> Result<(), String> {
        let name = name.to_ascii_lowercase();
        if !self.exists(&name) {
            return Err(format!(
                "Unknown option or number of arguments for CONFIG SET - '{name}'"
            ));
        }
        if IMMUTABLE.contains(&name.as_str()) {
            return Err(format!(
                "CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config"
            ));
        }
        validate(&name, value)
            .map_err(|e| format!("CONFIG SET failed (possibly related to argument '{name}') - {e}"))?;
        self.values.write().unwrap().insert(name, value.to_string());
        Ok(())
    }
}

/// Checks values of the parameters redsql acts on.
fn validate(name: &str, value: &str) -> Result<(), String> {
    let int = |min: i64, max: i64| match parse_memory(value) {
        Some(n) if n >= min && n <= max => Ok(()),
        Some(_) => {
            Err("argument must be between ".to_string() + &min.to_string() + " and " + &max.to_string() + " inclusive")
        }
        None => Err("argument couldn't be parsed into an integer".to_string()),
    };
    match name {
        "port" => int(0, 65535),
        "databases" => int(1, i32::MAX as i64),
        "maxclients" => int(1, i64::MAX),
        "proto-max-bulk-len" => int(1024 * 1024, i64::MAX),
        "slowlog-log-slower-than" => int(i64::MIN, i64::MAX),
        "appendfsync" => match value.to_ascii_lowercase().as_str() {
            "always" | "everysec" | "no" => Ok(()),
            _ => Err("argument(s) must be one of the following: always, everysec, no".into()),
        },
        "protected-mode" | "appendonly" | "lazyfree-lazy-user-del" => match value.to_ascii_lowercase().as_str() {
            "yes" | "no" => Ok(()),
            _ => Err("argument must be 'yes' or 'no'".into()),
        },
        _ => Ok(()),
    }
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
