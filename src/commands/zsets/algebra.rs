//! ZUNION, ZINTER, ZDIFF, their STORE variants and ZINTERCARD (Redis's
//! `zunionInterDiffGenericCommand`).
//!
//! Inputs may be sorted sets or plain sets (whose members score 1), combined
//! in memory with Redis's exact arithmetic: weights multiply scores
//! (`0 * inf` counts as 0), SUM turns `inf + -inf` into 0, MIN/MAX compare
//! like C. ZUNION reads every input: O(L + K log K), L the sum of the input
//! sizes, K the result size (sorted for the reply). ZINTER/ZINTERCARD read
//! the smallest input and look its members up in the others, and ZDIFF reads
//! the first input and looks its members up in the rest: O(N k log M + K log
//! K), N the size of the read input, k the number of inputs (a plain set
//! among the others is read whole).

use super::numbers::parse_score_or;
use super::{ItemsResult, positive, scored_reply, store_result};
use crate::commands::args::{int, is};
use crate::commands::{CmdError, CmdResult, Ctx, SYNTAX, err};
use crate::resp::Reply;
use crate::store::{KeyType, ZQuery, ZSpan};
use bytes::Bytes;
use std::collections::{HashMap, HashSet};

#[derive(Clone, Copy, PartialEq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis's `zunionInterAggregate`.
    fn apply(self, target: &mut f64, val: f64) {
        match self {
            Aggregate::Sum => {
                *target += val;
                if target.is_nan() {
                    *target = 0.0;
                }
            }
            Aggregate::Min => {
                if val < *target {
                    *target = val;
                }
            }
            Aggregate::Max => {
                if val > *target {
                    *target = val;
                }
            }
        }
    }
}

/// What an input key holds.
enum Input {
    Missing,
    ZSet { id: i64 },
    Set { id: i64 },
}

/// One input: its key name (to recognise the same key given twice), what it
/// holds and how many elements, and its weight.
struct Source {
    key: Bytes,
    input: Input,
    len: i64,
    weight: f64,
}

impl Source {
    /// Every element: a sorted set's with their scores, a set's with score 1.
    /// O(len).
    fn items(&self, ctx: &mut Ctx) -> ItemsResult {
        Ok(match self.input {
            Input::Missing => vec![],
            Input::ZSet { id } => ctx.store.zset_range(id, &ZQuery::span(ZSpan::All))?,
            Input::Set { id } => ctx
                .store
                .zset_read_set_members(id)?
                .into_iter()
                .map(|m| (m, 1.0))
                .collect(),
        })
    }

    /// The scores of `members` in this input (None where absent): point
    /// lookups for a sorted set, O(k log n); a set is read whole, O(len).
    fn scores(&self, ctx: &mut Ctx, members: &[Bytes]) -> Result<Vec<Option<f64>>, CmdError> {
        Ok(match self.input {
            Input::Missing => vec![None; members.len()],
            Input::ZSet { id } => ctx.store.zset_scores(id, members)?,
            Input::Set { id } => {
                let set: HashSet<Bytes> = ctx.store.zset_read_set_members(id)?.into_iter().collect();
                members.iter().map(|m| set.contains(m).then_some(1.0)).collect()
            }
        })
    }
}

/// What the command does with the combined result.
#[derive(Clone, Copy, PartialEq)]
enum Output {
    Reply,
    /// Into `args[1]`.
    Store,
    /// ZINTERCARD: only the number of elements.
    Cardinality,
}

/// Looks an input key up: sorted sets and sets are accepted, other types are WRONGTYPE.
fn source(ctx: &mut Ctx, key: &Bytes) -> Result<Source, CmdError> {
    let (input, len) = match ctx.store.get(ctx.db, key)? {
        None => (Input::Missing, 0),
        Some(e) if e.kind == KeyType::ZSet => (Input::ZSet { id: e.id }, e.len),
        Some(e) if e.kind == KeyType::Set => (Input::Set { id: e.id }, e.len),
        Some(_) => return Err(CmdError::WrongType),
    };
    Ok(Source {
        key: key.clone(),
        input,
        len,
        weight: 1.0,
    })
}

fn generic(ctx: &mut Ctx, args: &[Bytes], numkeys_idx: usize, op: Op, output: Output) -> CmdResult {
    let setnum = int(&args[numkeys_idx])?;
    if setnum < 1 {
        let name = String::from_utf8_lossy(&args[0]).to_lowercase();
        return err(format!("ERR at least 1 input key is needed for '{name}' command"));
    }
    let first_key = numkeys_idx + 1;
    if setnum > (args.len() - first_key) as i64 {
        return err(SYNTAX);
    }
    let setnum = setnum as usize;
    let mut sources = Vec::with_capacity(setnum);
    for key in &args[first_key..first_key + setnum] {
        sources.push(source(ctx, key)?);
    }

    let mut aggregate = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0i64;
    let mut j = first_key + setnum;
    let full = op != Op::Diff && output != Output::Cardinality;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = &args[j];
        if full && remaining > setnum && is(a, "WEIGHTS") {
            for (i, s) in sources.iter_mut().enumerate() {
                s.weight = parse_score_or(&args[j + 1 + i], "ERR weight value is not a float")?;
            }
            j += 1 + setnum;
        } else if full && remaining >= 2 && is(a, "AGGREGATE") {
            aggregate = match &args[j + 1] {
                x if is(x, "SUM") => Aggregate::Sum,
                x if is(x, "MIN") => Aggregate::Min,
                x if is(x, "MAX") => Aggregate::Max,
                _ => return err(SYNTAX),
            };
            j += 2;
        } else if output == Output::Reply && is(a, "WITHSCORES") {
            withscores = true;
            j += 1;
        } else if output == Output::Cardinality && remaining >= 2 && is(a, "LIMIT") {
            limit = positive(&args[j + 1], Some("LIMIT can't be negative"))?;
            j += 2;
        } else {
            return err(SYNTAX);
        }
    }

    if op != Op::Diff {
        // Smallest first, as Redis orders them (it matters for the
        // intersection's driver and the order scores are aggregated in).
        sources.sort_by_key(|s| s.len);
    }
    if output == Output::Cardinality {
        let n = intersect(ctx, &sources, aggregate)?.len() as i64;
        return Ok(Reply::Int(if limit > 0 { n.min(limit) } else { n }));
    }
    let mut items = match op {
        Op::Union => union(ctx, &sources, aggregate)?,
        Op::Inter => intersect(ctx, &sources, aggregate)?,
        Op::Diff => difference(ctx, &sources)?,
    };
    items.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    if output == Output::Store {
        let n = items.len() as i64;
        let event = match op {
            Op::Union => "zunionstore",
            Op::Inter => "zinterstore",
            Op::Diff => "zdiffstore",
        };
        store_result(ctx, &args[1], &items, event)?;
        return Ok(Reply::Int(n));
    }
    Ok(scored_reply(ctx, items, withscores))
}

/// A weighted score, with Redis's rule that NaN (`0 * inf`) counts as 0.
fn weighted(weight: f64, score: f64) -> f64 {
    let s = weight * score;
    if s.is_nan() { 0.0 } else { s }
}

fn union(ctx: &mut Ctx, sources: &[Source], aggregate: Aggregate) -> ItemsResult {
    let mut acc: HashMap<Bytes, f64> = HashMap::new();
    let mut order: Vec<Bytes> = Vec::new();
    for s in sources {
        for (m, score) in s.items(ctx)? {
            let score = weighted(s.weight, score);
            match acc.get_mut(&m) {
                Some(target) => aggregate.apply(target, score),
                None => {
                    acc.insert(m.clone(), score);
                    order.push(m);
                }
            }
        }
    }
    Ok(order
        .into_iter()
        .map(|m| {
            let score = acc[&m];
            (m, score)
        })
        .collect())
}

/// The intersection: the elements of the first (smallest) source, looked up
/// in each other source in turn, O(k log n) per sorted set. Scores aggregate
/// in source order, as Redis aggregates them.
fn intersect(ctx: &mut Ctx, sources: &[Source], aggregate: Aggregate) -> ItemsResult {
    let Some((driver, others)) = sources.split_first() else {
        return Ok(vec![]);
    };
    let mut acc: Vec<(Bytes, f64)> = driver
        .items(ctx)?
        .into_iter()
        .map(|(m, s)| (m, weighted(driver.weight, s)))
        .collect();
    for s in others {
        if acc.is_empty() {
            break;
        }
        let members: Vec<Bytes> = acc.iter().map(|(m, _)| m.clone()).collect();
        let scores = s.scores(ctx, &members)?;
        acc = acc
            .into_iter()
            .zip(scores)
            .filter_map(|((m, mut total), score)| {
                // Redis multiplies without the NaN rule for the later inputs.
                aggregate.apply(&mut total, score? * s.weight);
                Some((m, total))
            })
            .collect();
    }
    Ok(acc)
}

/// Elements of the first source found in no other, with their own scores:
/// the first source is read, the others are point lookups.
fn difference(ctx: &mut Ctx, sources: &[Source]) -> ItemsResult {
    let Some((first, others)) = sources.split_first() else {
        return Ok(vec![]);
    };
    if others.iter().any(|s| s.key == first.key) {
        return Ok(vec![]);
    }
    let mut rest = first.items(ctx)?;
    for s in others {
        if rest.is_empty() {
            break;
        }
        let members: Vec<Bytes> = rest.iter().map(|(m, _)| m.clone()).collect();
        let scores = s.scores(ctx, &members)?;
        rest = rest
            .into_iter()
            .zip(scores)
            .filter(|(_, score)| score.is_none())
            .map(|(item, _)| item)
            .collect();
    }
    Ok(rest)
}

/// ZUNION numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub(super) fn zunion(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    generic(ctx, args, 1, Op::Union, Output::Reply)
}

/// ZINTER numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]
pub(super) fn zinter(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    generic(ctx, args, 1, Op::Inter, Output::Reply)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES]
pub(super) fn zdiff(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    generic(ctx, args, 1, Op::Diff, Output::Reply)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
pub(super) fn zunionstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    generic(ctx, args, 2, Op::Union, Output::Store)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]
pub(super) fn zinterstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    generic(ctx, args, 2, Op::Inter, Output::Store)
}

/// ZDIFFSTORE destination numkeys key [key ...]
pub(super) fn zdiffstore(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    generic(ctx, args, 2, Op::Diff, Output::Store)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
pub(super) fn zintercard(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    generic(ctx, args, 1, Op::Inter, Output::Cardinality)
}

#[cfg(test)]
mod tests {
    use crate::backend::sqlite::{Durability, Location, SqliteStore, open_writer};
    use crate::commands::{Ctx, Handler, lookup};
    use crate::resp::Reply;
    use crate::store::{KeyType, member_hash};
    use bytes::Bytes;

    /// Runs one command on `store`, the way the engine does.
    fn run(store: &mut SqliteStore, args: &[&str]) -> Bytes {
        let args: Vec<Bytes> = args.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        let handler = lookup(&args[0]).expect("registered").spec.handler;
        let (Handler::Read(f) | Handler::Write(f)) = handler else {
            panic!("not a storage command");
        };
        let mut ctx = Ctx::new(0, 2, 16, store);
        f(&mut ctx, &args)
            .unwrap_or_else(|e| Reply::error(format!("{e:?}")))
            .to_bytes(2)
    }

    fn bulks(items: &[&str]) -> Bytes {
        Reply::Array(items.iter().map(|s| Reply::bulk_str(s)).collect()).to_bytes(2)
    }

    /// Plain sets take part with score 1 (read straight from `rset`, since the
    /// set commands live in another module).
    #[test]
    fn sets_are_inputs_with_score_one() {
        let conn = crate::backend::sqlite::conn::Conn::new(
            open_writer(&Location::parse(":memory:"), Durability::Off).expect("open"),
        );
        let mut version = 0;
        let mut st = SqliteStore::writer(&conn, 1, &mut version);
        let id = crate::store::Store::create_key(&mut st, 0, b"s", KeyType::Set).expect("create");
        for m in ["a", "d"] {
            conn.execute(
                "INSERT INTO rset (key_id, h, member) VALUES (?1, ?2, ?3)",
                rusqlite::params![id, member_hash(m.as_bytes()), m.as_bytes()],
            )
            .expect("insert");
        }
        conn.execute("UPDATE rkey SET len=2 WHERE id=?1", [id]).expect("len");
        run(&mut st, &["ZADD", "z", "5", "a", "2", "b"]);
        assert_eq!(
            run(&mut st, &["ZUNION", "2", "z", "s", "WITHSCORES"]),
            bulks(&["d", "1", "b", "2", "a", "6"])
        );
        assert_eq!(run(&mut st, &["ZINTER", "2", "z", "s"]), bulks(&["a"]));
        assert_eq!(
            run(&mut st, &["ZDIFF", "2", "s", "z", "WITHSCORES"]),
            bulks(&["d", "1"])
        );
        assert_eq!(run(&mut st, &["ZINTERCARD", "2", "s", "z"]), Reply::Int(1).to_bytes(2));
        assert_eq!(
            run(&mut st, &["ZUNIONSTORE", "out", "1", "s"]),
            Reply::Int(2).to_bytes(2)
        );
        assert_eq!(run(&mut st, &["ZRANGE", "out", "0", "-1"]), bulks(&["a", "d"]));
    }
}
