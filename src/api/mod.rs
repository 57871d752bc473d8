//! Typed handles of the library API, one per command family.
//!
//! Each method builds the Redis command and runs it through the same command
//! code as the server, so the library behaves exactly like the server does.

mod keys;
mod strings;

pub use keys::{ExpireCondition, KeyExpiry, Keys, Scan, ScanOptions};
pub use strings::Strings;

use bytes::Bytes;

/// Builds an argument vector from byte-like parts.
pub(crate) fn argv(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}
