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
