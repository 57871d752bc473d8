//! What the collection modules (`list`, `hash`, `set`, `zset`) share: the SQL
//! fragment that folds [`PgStore::touch`](super::PgStore) into a mutation's
//! own statement, and the conversions between client values and the array
//! parameters that let one statement write many elements.
//!
//! Multi-element writes send their elements as arrays (`unnest($2::int8[],
//! $3::bytea[])`), so HSET/SADD/ZADD/RPUSH with any number of elements are
//! one prepared statement and one round trip.

use bytes::Bytes;
use postgres::Row;
use std::collections::HashMap;

/// The tail of a data-modifying statement on collection key `$1` that records
/// the change in `rkey`, as [`PgStore::touch`](super::PgStore) does, in the
/// same round trip. To be placed after the statement's CTEs (it starts with a
/// comma) and before its final `SELECT`.
///
/// `$delta` is an SQL expression for the change in the number of elements
/// (usually a count over a `RETURNING` CTE, which makes the key's update wait
/// for the element writes); `$when` says whether the key changed at all (a
/// no-op such as SADD of present members keeps the version, so WATCH is not
/// disturbed). If the key is left with elements, CTE `touched` updates its
/// length and version and returns the new `len`; if it is left empty, the key
/// row is deleted (its value rows are all gone already: `len` is exact). The
/// two conditions read the same snapshot of the row and exclude each other, so
/// the row is never modified twice by one statement.
macro_rules! touch {
    ($delta:literal, $when:literal) => {
        concat!(
            ", touched AS (UPDATE rkey SET len = len + ",
            $delta,
            ", version = nextval('rkey_version') WHERE id = $1 AND (",
            $when,
            ") AND len + ",
            $delta,
            " > 0 RETURNING len), emptied AS (DELETE FROM rkey WHERE id = $1 AND len + ",
            $delta,
            " <= 0) "
        )
    };
}

/// The value of a `bytea` column.
pub(super) fn bytes_at(r: &Row, i: usize) -> Result<Bytes, postgres::Error> {
    Ok(Bytes::from(r.try_get::<_, Vec<u8>>(i)?))
}

/// The rows' first column as values.
pub(super) fn bytes_col(rows: &[Row]) -> Result<Vec<Bytes>, postgres::Error> {
    rows.iter().map(|r| bytes_at(r, 0)).collect()
}

/// Members as the parallel array parameters `(h, member)` that address rows
/// of rhash/rset/rzset by primary key.
pub(super) fn hashed(members: &[Bytes]) -> (Vec<i64>, Vec<&[u8]>) {
    members.iter().map(|m| (crate::store::member_hash(m), &m[..])).unzip()
}

/// The indexes of `keys` that survive when later duplicates replace earlier
/// ones (HSET f 1 f 2 sets f to 2; ZADD likewise), in first-seen order. One
/// `INSERT ... ON CONFLICT DO UPDATE` may not touch a row twice.
pub(super) fn last_wins<'a>(keys: impl Iterator<Item = &'a [u8]>) -> Vec<usize> {
    let mut slot: HashMap<&[u8], usize> = HashMap::new();
    let mut order: Vec<usize> = Vec::new();
    for (i, k) in keys.enumerate() {
        match slot.get(k) {
            Some(&at) => order[at] = i,
            None => {
                slot.insert(k, order.len());
                order.push(i);
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::last_wins;

    #[test]
    fn later_duplicates_win() {
        let keys: [&[u8]; 5] = [b"a", b"b", b"a", b"c", b"b"];
        assert_eq!(last_wins(keys.into_iter()), vec![2, 4, 3]);
        assert!(last_wins(std::iter::empty()).is_empty());
    }
}
