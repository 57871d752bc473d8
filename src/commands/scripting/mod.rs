//! Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT; functions
//! (FUNCTION, FCALL, FCALL_RO: see `functions`).
//!
//! EVAL and EVALSHA are write commands: they run on the writer, inside its
//! SQL transaction, so a script is atomic and isolated like any single
//! command (a storage failure inside it fails the whole command, and the
//! writer retries or rolls back the transaction). The `_RO` forms are reads
//! and run on a read snapshot. See `engine` for the interpreter, `convert`
//! for the conversions between replies and Lua values, `cache` for the
//! script cache.

pub mod cache;
pub mod convert;
pub mod engine;
pub mod flags;
pub mod functions;
pub mod kill;
pub mod libs;

use super::args::is;
use super::{CmdError, CmdResult, Ctx, Spec, err};
use crate::resp::Reply;
use bytes::Bytes;
use cache::Script;

pub const COMMANDS: &[Spec] = &[
    Spec::write("eval", eval).paused_by_write().runs_commands(),
    Spec::write("evalsha", evalsha).paused_by_write().runs_commands(),
    Spec::read("eval_ro", eval_ro).paused_by_write().runs_commands(),
    Spec::read("evalsha_ro", evalsha_ro).paused_by_write().runs_commands(),
    Spec::pure("script|load", script_load),
    Spec::pure("script|exists", script_exists),
    Spec::pure("script|flush", script_flush),
    Spec::pure("script|help", script_help),
    Spec::pure("script|kill", script_kill),
    Spec::pure("function|kill", function_kill),
    Spec::write("fcall", fcall).paused_by_write().runs_commands(),
    Spec::read("fcall_ro", fcall_ro).paused_by_write().runs_commands(),
    Spec::pure("function|load", functions::load),
    Spec::pure("function|list", functions::list),
    Spec::pure("function|delete", functions::delete),
    Spec::pure("function|flush", functions::flush),
    Spec::pure("function|dump", functions::dump),
    Spec::pure("function|restore", functions::restore),
    Spec::pure("function|stats", functions::stats),
    Spec::pure("function|help", functions::help),
];

fn fcall(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    functions::fcall(ctx, args, false)
}

fn fcall_ro(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    functions::fcall(ctx, args, true)
}

const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

fn eval(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    run_eval(ctx, args, false, false)
}

fn evalsha(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    run_eval(ctx, args, true, false)
}

fn eval_ro(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    run_eval(ctx, args, false, true)
}

fn evalsha_ro(ctx: &mut Ctx, args: &[Bytes]) -> CmdResult {
    run_eval(ctx, args, true, true)
}

/// The number of keys of EVAL/FCALL-like commands (`script numkeys ...`), checked as Redis does.
pub fn numkeys(args: &[Bytes]) -> Result<usize, CmdError> {
    let n = super::args::int(&args[2])?;
    if n > args.len() as i64 - 3 {
        return err("ERR Number of keys can't be greater than number of args");
    }
    if n < 0 {
        return err("ERR Number of keys can't be negative");
    }
    Ok(n as usize)
}

/// Redis's `evalGenericCommand`.
fn run_eval(ctx: &mut Ctx, args: &[Bytes], by_sha: bool, ro: bool) -> CmdResult {
    if by_sha && args[1].len() != 40 {
        return err(NOSCRIPT);
    }
    let n = numkeys(args)?;
    let script = if by_sha {
        match cache::get(&args[1]) {
            Some(s) => s,
            None => return err(NOSCRIPT),
        }
    } else {
        match cache::get(cache::sha1hex(&args[1]).as_bytes()) {
            Some(s) => s,
            None => load(&args[1])?,
        }
    };
    if !script.flags.compat && !script.flags.no_writes && ro {
        return err("ERR Can not execute a script with write flag using *_ro command.");
    }
    let read_only = script.flags.read_only(ro);
    let name = script.sha.clone();
    engine::with(|e| {
        let f = e.compile(&script).map_err(CmdError::Reply)?;
        e.run(ctx, &f, &name, &args[3..3 + n], &args[3 + n..], true, read_only)
    })
}

/// Compiles a new script and adds it to the cache (EVAL, SCRIPT LOAD).
fn load(body: &[u8]) -> Result<std::sync::Arc<Script>, CmdError> {
    let script = cache::prepare(body).map_err(|e| CmdError::Reply(format!("ERR {e}")))?;
    engine::with(|e| e.compile(&script).map(|_| ()).map_err(CmdError::Reply))?;
    Ok(cache::add(script))
}

fn script_load(_: &mut Ctx, args: &[Bytes]) -> CmdResult {
    let script = match cache::get(cache::sha1hex(&args[2]).as_bytes()) {
        Some(s) => s,
        None => load(&args[2])?,
    };
    Ok(Reply::bulk(Bytes::from(script.sha.clone())))
}

fn script_exists(_: &mut Ctx, args: &[Bytes]) -> CmdResult {
    Ok(Reply::Array(
        args[2..]
            .iter()
            .map(|sha| Reply::Int(cache::exists(sha) as i64))
            .collect(),
    ))
}

fn script_flush(_: &mut Ctx, args: &[Bytes]) -> CmdResult {
    match args.len() {
        2 => {}
        3 if is(&args[2], "SYNC") || is(&args[2], "ASYNC") => {}
        _ => return err("ERR SCRIPT FLUSH only support SYNC|ASYNC option"),
    }
    cache::flush();
    Ok(Reply::ok())
}

fn script_kill(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    kill::kill(true)
}

fn function_kill(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    kill::kill(false)
}

fn script_help(_: &mut Ctx, _: &[Bytes]) -> CmdResult {
    Ok(super::help(
        "SCRIPT",
        &[
            "DEBUG (YES|SYNC|NO)",
            "    Set the debug mode for subsequent scripts executed.",
            "EXISTS <sha1> [<sha1> ...]",
            "    Return information about the existence of the scripts in the script cache.",
            "FLUSH [ASYNC|SYNC]",
            "    Flush the Lua scripts cache. Very dangerous on replicas.",
            "    When called without the optional mode argument, the behavior is determined by the",
            "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
            "    * ASYNC: Asynchronously flush the scripts cache.",
            "    * SYNC: Synchronously flush the scripts cache.",
            "KILL",
            "    Kill the currently executing Lua script.",
            "LOAD <script>",
            "    Load a script into the scripts cache without executing it.",
        ],
    ))
}
