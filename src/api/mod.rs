//! Typed handles of the library API, one per command family.
//!
//! Each method builds the Redis command and runs it through the same command
//! code as the server, so the library behaves exactly like the server does.

mod hashes;
mod keys;
mod lists;
mod sets;
mod strings;
mod zsets;

pub use hashes::Hashes;
pub use keys::{ExpireCondition, KeyExpiry, Keys, Scan, ScanOptions};
pub use lists::Lists;
pub use sets::Sets;
pub use strings::Strings;
pub use zsets::ZSets;

use bytes::Bytes;

/// Builds an argument vector from byte-like parts.
pub(crate) fn argv(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}
