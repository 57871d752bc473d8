//! Typed handles of the library API, one per command family. The handles are
//! re-exported at the crate root (`redsql::Strings`, ...); their option and
//! result types live in the family modules (`redsql::api::strings::SetOptions`).
//!
//! Each method builds the Redis command and runs it through the same command
//! code as the server, so the library behaves exactly like the server does.

pub mod geo;
pub mod hashes;
pub mod hll;
pub mod keys;
pub mod lists;
mod reply;
pub mod sets;
pub mod streams;
pub mod strings;
pub mod zsets;

pub use geo::Geo;
pub use hashes::Hashes;
pub use hll::Hll;
pub use keys::{ExpireCondition, KeyExpiry, Keys, Scan, ScanOptions};
pub use lists::Lists;
pub use sets::Sets;
pub use streams::Streams;
pub use strings::Strings;
pub use zsets::ZSets;

use crate::db::Error;
use crate::resp::Reply;
use bytes::Bytes;

/// What a handle runs its commands on: a [`crate::Db`], or a
/// [`crate::Transaction`] inside `Db::transaction`.
pub trait Runner {
    /// Runs one command (name first) and returns its reply; error replies
    /// come back as [`Error::Redis`].
    fn run(&self, args: Vec<Bytes>) -> Result<Reply, Error>;
}

/// Builds an argument vector from byte-like parts.
pub(crate) fn argv(parts: &[&[u8]]) -> Vec<Bytes> {
    parts.iter().map(|p| Bytes::copy_from_slice(p)).collect()
}
