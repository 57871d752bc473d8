//! Sorted set commands.

use super::Handler;

pub const COMMANDS: &[(&str, Handler)] = &[];
