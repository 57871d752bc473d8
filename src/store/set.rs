//! Storage operations for sets (see the conventions on [`super::Store`]).
//! A backend implements [`SetOps`] and `layout::SetRows`; [`SetStore`]
//! comes from them.

use super::StoreResult;
use bytes::Bytes;

pub(crate) mod layout;

/// A set-algebra operation over several set keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    /// Members of every set. Operand order matters for speed only: the first
    /// set is walked and each member probed in the others, so callers pass the
    /// smallest set first.
    Inter,
    /// Members of any set.
    Union,
    /// Members of the first set that are in none of the others.
    Diff,
}

/// Operations on sets, addressed by key id, that each backend writes with
/// its own statements ([`SetStore`] adds those written once).
///
/// Set members are unique byte strings. Operand lists (`ids`) name existing
/// set keys only: the command layer resolves missing keys (empty sets) before
/// calling, because their meaning depends on the operation.
pub trait SetOps {
    /// Adds the members not yet present; returns how many were added.
    /// O(k log n) for k members.
    fn set_add(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64>;

    /// Removes the members that are present; returns how many were removed
    /// (the key goes when its last member does). O(k log n).
    fn set_remove(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64>;

    /// Whether each member is in the set, in argument order. O(k log n).
    fn set_contains(&mut self, id: i64, members: &[Bytes]) -> StoreResult<Vec<bool>>;

    /// Every member, in storage order (by member hash). O(n).
    fn set_members(&mut self, id: i64) -> StoreResult<Vec<Bytes>>;

    /// The result of `op` over `ids` (at least one). Inter and Diff walk the
    /// first set and probe each member in the others: O(n₁ · k · log n).
    /// Union reads every set and removes duplicates: O(N log N) for N members
    /// in all.
    fn set_combine(&mut self, op: SetOp, ids: &[i64]) -> StoreResult<Vec<Bytes>>;

    /// The size of the intersection of `ids` (smallest first), stopping once
    /// it reaches `limit` (if given). O(n₁ · k · log n) at worst, without
    /// materialising members.
    fn set_inter_card(&mut self, ids: &[i64], limit: Option<u64>) -> StoreResult<i64>;

    /// Stores the result of `op` over `ids` as the set `dst` in `db`, replacing
    /// any key of any type there (the new key has no expiry), or deletes `dst`
    /// when the result is empty. `dst` may be one of the operands. Returns the
    /// size of the result. Computed inside the database (no members are
    /// copied out); costs as [`SetOps::set_combine`] plus the inserts.
    fn set_store(&mut self, db: u32, dst: &[u8], op: SetOp, ids: &[i64]) -> StoreResult<i64>;
}

/// Operations on sets computed on the layout both backends share, written
/// once (`layout.rs`) over a backend's [`SetOps`] and statements.
pub trait SetStore: SetOps {
    /// Random members. With `distinct`, `min(count, len)` different members
    /// (the whole set when `count >= len`); otherwise exactly `count`
    /// independent picks, repetitions allowed. Each pick is an O(log n) seek
    /// to a random member hash; large distinct samples (over a third of the
    /// set) read the set once and shuffle it instead, O(n).
    fn set_random(&mut self, id: i64, count: usize, distinct: bool) -> StoreResult<Vec<Bytes>>;

    /// Removes and returns `min(count, len)` distinct random members (the key
    /// goes when emptied). Costs as [`SetStore::set_random`] plus O(k log n)
    /// to delete; popping the whole set is one O(n) range delete.
    fn set_pop(&mut self, id: i64, count: usize) -> StoreResult<Vec<Bytes>>;

    /// One SSCAN page: members whose hash is `>= cursor`, in (hash, member)
    /// order, about `count` of them but never splitting a run of equal hashes,
    /// and the next cursor (last hash + 1, or 0 when the set is exhausted).
    /// O(log n + count).
    fn set_scan(&mut self, id: i64, cursor: u64, count: usize) -> StoreResult<(u64, Vec<Bytes>)>;
}

/// Picks `count` distinct items of `items` at random (partial Fisher-Yates),
/// for SRANDMEMBER/SPOP with a count.
fn sample(mut items: Vec<Bytes>, count: usize) -> Vec<Bytes> {
    let count = count.min(items.len());
    for i in 0..count {
        let j = i + (crate::util::random_u64() % (items.len() - i) as u64) as usize;
        items.swap(i, j);
    }
    items.truncate(count);
    items
}
