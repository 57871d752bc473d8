//! Server commands that work on the keyspace: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, TIME.

use super::Handler;

pub const COMMANDS: &[(&str, Handler)] = &[];
