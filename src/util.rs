//! Small helpers shared across modules.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Microseconds elapsed since `t`.
pub fn micros_since(t: std::time::Instant) -> i64 {
    t.elapsed().as_micros().min(i64::MAX as u128) as i64
}

/// Current Unix time in milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Current Unix time in microseconds.
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

thread_local! {
    static RNG: Cell<u64> = Cell::new({
        let t = now_us() as u64;
        let addr = &t as *const u64 as u64;
        (t ^ addr.rotate_left(32)) | 1
    });
}

/// A fast non-cryptographic random number (xorshift64*), per thread.
pub fn random_u64() -> u64 {
    RNG.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// A new, empty directory for a unit test's files (removed first if a
/// previous run left it), unique to `tag` and this process.
#[cfg(test)]
pub fn scratch_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("redsql-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A URL with the password of its `user:password@` part replaced by `***`
/// (logs, `CONFIG GET db`, INFO): `postgres://u:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}
