//! What both set backends share (table `rset (key_id, h, member)`, see
//! [`hashed`]): random picks and samples, SPOP's choice of strategy and SSCAN
//! paging, written once over [`SetRows`], the backend's statements.

use super::{SetOps, SetStore, sample};
use crate::store::{StoreResult, hashed};
use bytes::Bytes;
use std::collections::HashSet;

/// The statements of a set backend that the algorithms of this module run,
/// beside its [`SetOps`]; [`SetStore`] (SRANDMEMBER, SPOP, SSCAN) comes from
/// them (the blanket implementation below).
pub(crate) trait SetRows: SetOps {
    /// `rkey.len` of the set's key, if it has a row.
    fn set_len(&mut self, id: i64) -> StoreResult<Option<i64>>;

    /// Appends `n` independent random members to `out` (fewer only if the
    /// set is empty), each the first member at or after a random hash
    /// ([`hashed::random_hash`]), wrapping to the first member.
    fn set_picks(&mut self, id: i64, n: usize, out: &mut Vec<Bytes>) -> StoreResult<()>;

    /// How a small sample of `count` distinct members is sought: in at most
    /// this many rounds of [`SetRows::set_picks`] ...
    fn seek_rounds(count: usize) -> usize;

    /// ... each asking for this many picks when `missing` members are
    /// still missing.
    fn seek_batch(missing: usize) -> usize;

    /// Removes and returns one random member, touching the key.
    fn set_pop_one(&mut self, id: i64) -> StoreResult<Vec<Bytes>>;

    /// Removes every member and the key; returns the members.
    fn set_pop_all(&mut self, id: i64) -> StoreResult<Vec<Bytes>>;

    /// Up to `limit` `(h, member)` rows with `h >= from`, in (h, member) order.
    fn set_scan_rows(&mut self, id: i64, from: i64, limit: i64) -> StoreResult<Vec<(i64, Bytes)>>;

    /// Appends to `page` the members of hash `h` greater than `after`, in order.
    fn set_scan_run(&mut self, id: i64, h: i64, after: &[u8], page: &mut Vec<Bytes>) -> StoreResult<()>;
}

/// The number of members of set `id`.
fn len<R: SetRows>(r: &mut R, id: i64) -> StoreResult<usize> {
    Ok(r.set_len(id)?.unwrap_or(0).max(0) as usize)
}

/// `count` distinct random members of a set of `len` members, `count < len`.
fn sample_distinct<R: SetRows>(r: &mut R, id: i64, count: usize, len: usize) -> StoreResult<Vec<Bytes>> {
    // Large samples: read the set once and shuffle (Redis copies the set too).
    if count.saturating_mul(3) > len {
        return Ok(sample(r.set_members(id)?, count));
    }
    // Small samples: rounds of independent random seeks until enough
    // distinct ones (each is new with probability > 2/3). Bounded, then the
    // whole set.
    let mut seen = HashSet::with_capacity(count);
    let mut picks = Vec::with_capacity(count);
    let mut batch = Vec::new();
    for _ in 0..R::seek_rounds(count) {
        r.set_picks(id, R::seek_batch(count - picks.len()), &mut batch)?;
        if batch.is_empty() {
            return Ok(picks); // the set is empty
        }
        for m in batch.drain(..) {
            if picks.len() < count && seen.insert(m.clone()) {
                picks.push(m);
            }
        }
        if picks.len() == count {
            return Ok(picks);
        }
    }
    Ok(sample(r.set_members(id)?, count))
}

impl<R: SetRows> SetStore for R {
    fn set_random(&mut self, id: i64, count: usize, distinct: bool) -> StoreResult<Vec<Bytes>> {
        if !distinct {
            // `count` is the client's and may be huge; allocate as we go.
            let mut picks = Vec::with_capacity(count.min(1024));
            self.set_picks(id, count, &mut picks)?;
            return Ok(picks);
        }
        let len = len(self, id)?;
        if count >= len {
            self.set_members(id)
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
        let len = len(self, id)?;
        if len == 0 {
            return Ok(Vec::new());
        }
        if count >= len {
            // The whole set: one range delete, and the key goes.
            return self.set_pop_all(id);
        }
        let picks = sample_distinct(self, id, count, len)?;
        self.set_remove(id, &picks)?;
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
}
