//! The script cache: every script EVAL ran or SCRIPT LOAD loaded, by SHA1.
//!
//! One map per process, as in Redis (SCRIPT FLUSH empties it). Each thread
//! that runs scripts keeps its own Lua state with the scripts it compiled
//! (`engine`); a flush bumps [`generation`], which tells those states to
//! start afresh.

use super::flags::{self, Flags};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A cached script.
pub struct Script {
    /// Lowercase hex SHA1 of the body.
    pub sha: String,
    pub body: Vec<u8>,
    /// The shebang's flags (`Flags::compat()` without a shebang).
    pub flags: Flags,
    /// Bytes of the shebang line (its line feed excluded), skipped when compiling.
    pub shebang_len: usize,
}

fn map() -> &'static Mutex<HashMap<String, Arc<Script>>> {
    static MAP: OnceLock<Mutex<HashMap<String, Arc<Script>>>> = OnceLock::new();
    MAP.get_or_init(Default::default)
}

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Changes at each SCRIPT FLUSH.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

/// The lowercase hex SHA1 of `body` (Redis's `sha1hex`).
pub fn sha1hex(body: &[u8]) -> String {
    sha1_smol::Sha1::from(body).digest().to_string()
}

/// The script with this SHA1 (any case), if cached.
pub fn get(sha: &[u8]) -> Option<Arc<Script>> {
    if sha.len() != 40 {
        return None;
    }
    let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
    map().lock().unwrap().get(&sha).cloned()
}

pub fn exists(sha: &[u8]) -> bool {
    // Redis looks the argument up as it is: the cache's keys are lowercase.
    let Ok(sha) = std::str::from_utf8(sha) else {
        return false;
    };
    map().lock().unwrap().contains_key(sha)
}

/// Parses `body`'s shebang and makes the cache entry (not yet added).
pub fn prepare(body: &[u8]) -> Result<Script, String> {
    let (flags, shebang_len) = flags::shebang(body)?;
    Ok(Script {
        sha: sha1hex(body),
        body: body.to_vec(),
        flags,
        shebang_len,
    })
}

/// Adds a script that compiled; returns the cached entry.
pub fn add(script: Script) -> Arc<Script> {
    let mut map = map().lock().unwrap();
    map.entry(script.sha.clone())
        .or_insert_with(|| Arc::new(script))
        .clone()
}

/// SCRIPT FLUSH: forgets every script.
pub fn flush() {
    let mut map = map().lock().unwrap();
    map.clear();
    GENERATION.fetch_add(1, Ordering::AcqRel);
}
