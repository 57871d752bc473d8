//! What both set backends share (table `rset (key_id, h, member)`, see
//! [`hashed`]): random picks and samples, SPOP's choice of strategy and SSCAN
//! paging, written once over [`SetRows`], the backend's statements.

use super::{SetOp, SetStore, sample};
use crate::store::{StoreResult, hashed};
use bytes::Bytes;

/// A set backend: its SQL text and row access. [`SetStore`] comes from it
/// (the blanket implementation below): SRANDMEMBER, SPOP and SSCAN from the
/// algorithms of this module, the other methods, which have the same names
/// here, from the backend's own statements.
///
/// The methods after `set_store` are what the shared algorithms run.
pub(crate) trait SetRows {
    /// [`SetStore::set_add`].
    fn set_add(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64>;

    /// [`SetStore::set_remove`].
    fn set_remove(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64>;

    /// [`SetStore::set_contains`].
    fn set_contains(&mut self, id: i64, members: &[Bytes]) -> StoreResult<Vec<bool>>;

    /// [`SetStore::set_members`].
    fn set_members(&mut self, id: i64) -> StoreResult<Vec<Bytes>>;

    /// [`SetStore::set_combine`].
    fn set_combine(&mut self, op: SetOp, ids: &[i64]) -> StoreResult<Vec<Bytes>>;

    /// [`SetStore::set_inter_card`].
    fn set_inter_card(&mut self, ids: &[i64], limit: Option<u64>) -> StoreResult<i64>;

    /// [`SetStore::set_store`].
    fn set_store(&mut self, db: u32, dst: &[u8], op: SetOp, ids: &[i64]) -> StoreResult<i64>;

    /// The number of members (from `rkey.len`).
    fn set_len(&mut self, id: i64) -> StoreResult<usize>;

    /// `n` independent random members (fewer only if the set is empty), each
    /// the first member at or after a random hash, wrapping to the first.
    fn set_picks(&mut self, id: i64, n: usize) -> StoreResult<Vec<Bytes>>;

    /// `count` distinct random members by independent random seeks, for a
    /// sample of at most a third of the set (so that each seek is new with
    /// probability > 2/3): `None` if a bounded number of seeks did not find
    /// them (the caller then shuffles the whole set); fewer only if the set
    /// is empty.
    fn set_seek_distinct(&mut self, id: i64, count: usize) -> StoreResult<Option<Vec<Bytes>>>;

    /// Removes and returns one random member, touching the key.
    fn set_pop_one(&mut self, id: i64) -> StoreResult<Vec<Bytes>>;

    /// Removes every member and the key; returns the members.
    fn set_pop_all(&mut self, id: i64) -> StoreResult<Vec<Bytes>>;

    /// Up to `limit` `(h, member)` rows with `h >= from`, in (h, member) order.
    fn set_scan_rows(&mut self, id: i64, from: i64, limit: i64) -> StoreResult<Vec<(i64, Bytes)>>;

    /// Appends to `page` the members of hash `h` greater than `after`, in order.
    fn set_scan_run(&mut self, id: i64, h: i64, after: &[u8], page: &mut Vec<Bytes>) -> StoreResult<()>;
}

/// `count` distinct random members of a set of `len` members, `count < len`.
fn sample_distinct<R: SetRows>(r: &mut R, id: i64, count: usize, len: usize) -> StoreResult<Vec<Bytes>> {
    // Large samples: read the set once and shuffle (Redis copies the set too).
    if count.saturating_mul(3) > len {
        return Ok(sample(r.set_members(id)?, count));
    }
    // Small samples: random seeks, bounded, then the whole set.
    match r.set_seek_distinct(id, count)? {
        Some(picks) => Ok(picks),
        None => Ok(sample(r.set_members(id)?, count)),
    }
}

impl<R: SetRows> SetStore for R {
    fn set_add(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64> {
        SetRows::set_add(self, id, members)
    }

    fn set_remove(&mut self, id: i64, members: &[Bytes]) -> StoreResult<i64> {
        SetRows::set_remove(self, id, members)
    }

    fn set_contains(&mut self, id: i64, members: &[Bytes]) -> StoreResult<Vec<bool>> {
        SetRows::set_contains(self, id, members)
    }

    fn set_members(&mut self, id: i64) -> StoreResult<Vec<Bytes>> {
        SetRows::set_members(self, id)
    }

    fn set_random(&mut self, id: i64, count: usize, distinct: bool) -> StoreResult<Vec<Bytes>> {
        if !distinct {
            return self.set_picks(id, count);
        }
        let len = self.set_len(id)?;
        if count >= len {
            SetRows::set_members(self, id)
        } else {
            sample_distinct(self, id, count, len)
        }
    }

    fn set_pop(&mut self, id: i64, count: usize) -> StoreResult<Vec<Bytes>> {
        match count {
            0 => return Ok(Vec::new()),
            1 => return self.set_pop_one(id),
            _ => {}
        }
        let len = self.set_len(id)?;
        if len == 0 {
            return Ok(Vec::new());
        }
        if count >= len {
            // The whole set: one range delete, and the key goes.
            return self.set_pop_all(id);
        }
        let picks = sample_distinct(self, id, count, len)?;
        SetRows::set_remove(self, id, &picks)?;
        Ok(picks)
    }

    fn set_scan(&mut self, id: i64, cursor: u64, count: usize) -> StoreResult<(u64, Vec<Bytes>)> {
        hashed::scan_page(
            self,
            cursor,
            count,
            true,
            |s, from, limit| s.set_scan_rows(id, from, limit),
            |s, h, after, page| s.set_scan_run(id, h, after, page),
        )
    }

    fn set_combine(&mut self, op: SetOp, ids: &[i64]) -> StoreResult<Vec<Bytes>> {
        SetRows::set_combine(self, op, ids)
    }

    fn set_inter_card(&mut self, ids: &[i64], limit: Option<u64>) -> StoreResult<i64> {
        SetRows::set_inter_card(self, ids, limit)
    }

    fn set_store(&mut self, db: u32, dst: &[u8], op: SetOp, ids: &[i64]) -> StoreResult<i64> {
        SetRows::set_store(self, db, dst, op, ids)
    }
}
