//! ZUNION, ZINTER, ZDIFF, their STORE variants and ZINTERCARD (Redis's
//! `zunionInterDiffGenericCommand`).
//!
//! Inputs may be sorted sets or plain sets (whose members score 1). Each
//! input is read whole, O(size), and combined in memory with Redis's exact
//! arithmetic: weights multiply scores (`0 * inf` counts as 0), SUM turns
//! `inf + -inf` into 0, MIN/MAX compare like C. Total cost O(L + K log K),
//! L the sum of the input sizes, K the result size (sorted for the reply).

use super::numbers::parse_score_or;
use super::{ItemsResult, positive, scored_reply, store_result};
use crate::commands::args::{int, is};
use crate::commands::{CmdResult, Ctx, SYNTAX, WRONGTYPE, err};
use crate::resp::Reply;
use crate::store::{KeyType, ZQuery, ZSpan};
use bytes::Bytes;
use std::collections::HashMap;

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

/// One input: its key name (to recognise the same key given twice), its
/// elements, and its weight.
struct Source {
    key: Bytes,
    items: Vec<(Bytes, f64)>,
    weight: f64,
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

/// The elements of an input key: a sorted set's with their scores, a set's
/// with score 1, nothing for a missing key.
fn read_source(ctx: &mut Ctx, key: &[u8]) -> ItemsResult {
    match ctx.store.get(ctx.db, key)? {
        None => Ok(vec![]),
        Some(e) if e.kind == KeyType::ZSet => Ok(ctx.store.zset_range(e.id, &ZQuery::span(ZSpan::All))?),
        Some(e) if e.kind == KeyType::Set => Ok(ctx
            .store
            .zset_read_set_members(e.id)?
            .into_iter()
            .map(|m| (m, 1.0))
            .collect()),
        Some(_) => err(WRONGTYPE),
    }
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
        sources.push(Source {
            key: key.clone(),
            items: read_source(ctx, key)?,
            weight: 1.0,
        });
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
        sources.sort_by_key(|s| s.items.len());
    }
    if output == Output::Cardinality {
        return Ok(Reply::Int(intersect(&sources, aggregate, limit).len() as i64));
    }
    let mut items = match op {
        Op::Union => union(&sources, aggregate),
        Op::Inter => intersect(&sources, aggregate, 0),
        Op::Diff => difference(&sources),
    };
    items.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    if output == Output::Store {
        let n = items.len() as i64;
        store_result(ctx, &args[1], &items)?;
        return Ok(Reply::Int(n));
    }
    Ok(scored_reply(ctx, items, withscores))
}

/// A weighted score, with Redis's rule that NaN (`0 * inf`) counts as 0.
fn weighted(weight: f64, score: f64) -> f64 {
    let s = weight * score;
    if s.is_nan() { 0.0 } else { s }
}

fn union(sources: &[Source], aggregate: Aggregate) -> Vec<(Bytes, f64)> {
    let mut acc: HashMap<&Bytes, f64> = HashMap::new();
    let mut order: Vec<&Bytes> = Vec::new();
    for s in sources {
        for (m, score) in &s.items {
            let score = weighted(s.weight, *score);
            match acc.get_mut(m) {
                Some(target) => aggregate.apply(target, score),
                None => {
                    acc.insert(m, score);
                    order.push(m);
                }
            }
        }
    }
    order.into_iter().map(|m| (m.clone(), acc[m])).collect()
}

/// The intersection, driven by the first (smallest) source; stops after
/// `limit` elements if `limit` > 0 (ZINTERCARD).
fn intersect(sources: &[Source], aggregate: Aggregate, limit: i64) -> Vec<(Bytes, f64)> {
    let Some((driver, others)) = sources.split_first() else {
        return vec![];
    };
    let maps: Vec<HashMap<&Bytes, f64>> = others
        .iter()
        .map(|s| s.items.iter().map(|(m, sc)| (m, *sc)).collect())
        .collect();
    let mut out = Vec::new();
    'elements: for (m, score) in &driver.items {
        let mut acc = weighted(driver.weight, *score);
        for (s, map) in others.iter().zip(&maps) {
            let Some(v) = map.get(m) else {
                continue 'elements;
            };
            // Redis multiplies without the NaN rule for the later inputs.
            aggregate.apply(&mut acc, v * s.weight);
        }
        out.push((m.clone(), acc));
        if limit > 0 && out.len() as i64 >= limit {
            break;
        }
    }
    out
}

/// Elements of the first source found in no other, with their own scores.
fn difference(sources: &[Source]) -> Vec<(Bytes, f64)> {
    let Some((first, others)) = sources.split_first() else {
        return vec![];
    };
    if others.iter().any(|s| s.key == first.key) {
        return vec![];
    }
    let others: Vec<std::collections::HashSet<&Bytes>> = others
        .iter()
        .map(|s| s.items.iter().map(|(m, _)| m).collect())
        .collect();
    first
        .items
        .iter()
        .filter(|(m, _)| !others.iter().any(|o| o.contains(m)))
        .cloned()
        .collect()
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
