//! The configuration parameters that change what commands do
//! (`hll-sparse-max-bytes`, ...), as the commands read them: process-wide,
//! as in Redis. The server sets them from its configuration (`CONFIG SET`
//! included); the library keeps Redis's defaults.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `hll-sparse-max-bytes`: the size past which a sparse HyperLogLog becomes dense.
static HLL_SPARSE_MAX_BYTES: AtomicUsize = AtomicUsize::new(3000);

pub fn hll_sparse_max_bytes() -> usize {
    HLL_SPARSE_MAX_BYTES.load(Ordering::Relaxed)
}

pub fn set_hll_sparse_max_bytes(n: usize) {
    HLL_SPARSE_MAX_BYTES.store(n, Ordering::Relaxed);
}

/// `busy-reply-threshold` (alias `lua-time-limit`), in ms: how long a script
/// runs before it counts as busy (SCRIPT KILL and FUNCTION KILL act on it).
static BUSY_REPLY_THRESHOLD_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(5000);

pub fn busy_reply_threshold_ms() -> u64 {
    BUSY_REPLY_THRESHOLD_MS.load(Ordering::Relaxed)
}

pub fn set_busy_reply_threshold_ms(ms: u64) {
    BUSY_REPLY_THRESHOLD_MS.store(ms, Ordering::Relaxed);
}
