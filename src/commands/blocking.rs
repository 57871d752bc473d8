//! The storage step of the blocking commands (BLPOP, BRPOP, BLMOVE,
//! BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP).
//!
//! A blocking command is registered as [`Handler::Server`]: the connection
//! has to wait (see `server::blocking`). What it waits *for* is this step: an
//! ordinary write command that parses every argument in Redis's order
//! (timeout included), then pops if there is something to pop and otherwise
//! answers what Redis answers inside MULTI, where blocking commands never
//! block: a null array (a null bulk for BLMOVE / BRPOPLPUSH). The server runs
//! the step as a write batch at first, and again each time a write touches
//! one of the keys, until it pops, fails, or the timeout passes. The step of
//! each command lives with its family (`lists`, `zsets`).

use super::table::lookup;
use super::{CmdError, Command, CommandFn, Handler, err, lists, zsets};
use crate::resp::Reply;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Each blocking command and its storage step.
const STEPS: &[(&str, CommandFn)] = &[
    ("blpop", lists::blpop_step),
    ("brpop", lists::brpop_step),
    ("blmove", lists::blmove_step),
    ("brpoplpush", lists::brpoplpush_step),
    ("blmpop", lists::blmpop_step),
    ("bzpopmin", zsets::bzpopmin_step),
    ("bzpopmax", zsets::bzpopmax_step),
    ("bzmpop", zsets::bzmpop_step),
];

/// The storage step of the blocking command `name` (lowercase), as a write
/// command with the same name, arity and key positions as the real one.
pub fn step(name: &str) -> Option<&'static Command> {
    static STEP_COMMANDS: OnceLock<HashMap<&'static str, Command>> = OnceLock::new();
    STEP_COMMANDS
        .get_or_init(|| {
            STEPS
                .iter()
                .filter_map(|&(name, f)| Some((name, step_command(lookup(name.as_bytes())?, f))))
                .collect()
        })
        .get(name)
}

fn step_command(real: &Command, f: CommandFn) -> Command {
    Command {
        name: real.name.clone(),
        arity: real.arity,
        flags: real.flags.clone(),
        first_key: real.first_key,
        last_key: real.last_key,
        key_step: real.key_step,
        key_specs: real.key_specs.clone(),
        handler: Handler::Write(f),
        info: Reply::Nil,
        docs: Reply::Nil,
        subcommands: HashMap::new(),
        write: true,
        readonly: false,
        fast: false,
        noscript: real.noscript,
        no_auth: false,
        no_multi: false,
        pubsub: false,
        blocking: false,
        loading: real.loading,
    }
}

/// True if a step's reply means "nothing to pop yet" (as opposed to popped
/// elements or an error).
pub fn is_empty_reply(reply: &Reply) -> bool {
    matches!(reply, Reply::Nil | Reply::NilArray)
}

/// A timeout argument in seconds, as Redis 7.0 reads it: a float (strtold
/// syntax), converted to whole milliseconds rounding up; 0 means forever.
/// Past `i64::MAX` ms the C conversion yields a negative number, hence
/// "timeout is negative" for `inf` and huge values, as in Redis.
pub fn timeout_ms(arg: &[u8]) -> Result<i64, CmdError> {
    let Some(secs) = super::args::parse_float(arg) else {
        return err("ERR timeout is not a float or out of range");
    };
    let ms = (secs * 1000.0).ceil();
    if !(0.0..9_223_372_036_854_775_808.0).contains(&ms) {
        return err("ERR timeout is negative");
    }
    Ok(ms as i64)
}

#[cfg(test)]
mod tests {
    use super::timeout_ms;

    #[test]
    fn timeouts_read_like_redis() {
        assert_eq!(timeout_ms(b"0").ok(), Some(0));
        assert_eq!(timeout_ms(b"1").ok(), Some(1000));
        assert_eq!(timeout_ms(b"0.01").ok(), Some(10));
        assert_eq!(timeout_ms(b"0.0001").ok(), Some(1));
        assert_eq!(timeout_ms(b"-0.0001").ok(), Some(0));
        assert_eq!(timeout_ms(b".5").ok(), Some(500));
        assert!(timeout_ms(b"-1").is_err());
        assert!(timeout_ms(b"inf").is_err());
        assert!(timeout_ms(b"1e17").is_err());
        assert!(timeout_ms(b"x").is_err());
        assert!(timeout_ms(b" 1").is_err());
        assert!(timeout_ms(b"").is_err());
    }
}
