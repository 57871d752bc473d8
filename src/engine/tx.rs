//! Transactional jobs: a closure that runs inside the writer's transaction
//! and chooses its commands as it goes (a Lua script, a library
//! transaction, WATCH's bookkeeping).
//!
//! A closure job is queued like a batch and shares everything a batch gets:
//! group commit with the other jobs of its turn, the retry of lost races
//! (PostgreSQL), and fault handling. Its commands' keyspace events and
//! writes reach the commit observer as a batch's do, so they wake blocked
//! clients and publish notifications.
//!
//! * The closure may run more than once (a lost race runs the whole
//!   transaction again), so it must do nothing but database work.
//! * Returning `Err` rolls back everything it did: its transaction is then
//!   run again alone, and rolled back alone, so that the other jobs of its
//!   turn still commit.

use super::Call;
use crate::commands::{CmdError, Ctx, Event, Handler};
use crate::resp::Reply;
use bytes::Bytes;
use std::any::Any;

/// What a closure job returns to its caller.
pub type TxValue = Box<dyn Any + Send>;

/// A closure job's function.
pub type TxFn = Box<dyn FnMut(&mut Tx<'_, '_>) -> Result<TxValue, CmdError> + Send>;

/// A command a closure ran that the commit observer must hear of.
pub(crate) struct Ran {
    pub db: u32,
    pub call: Call,
    pub reply: Reply,
    pub events: Vec<Event>,
}

/// The closure's view of the transaction: run commands, or use the store.
pub struct Tx<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    ran: &'c mut Vec<Ran>,
}

impl<'c, 's> Tx<'c, 's> {
    pub(crate) fn new(ctx: &'c mut Ctx<'s>, ran: &'c mut Vec<Ran>) -> Self {
        Tx { ctx, ran }
    }

    /// Runs one storage command in the transaction and returns its reply;
    /// a Redis error is `Err(CmdError::Reply)`. Server commands (CLIENT,
    /// CONFIG, ...) cannot run here.
    pub fn call(&mut self, call: Call) -> Result<Reply, CmdError> {
        self.call_as(call, None)
    }

    /// [`Tx::call`] with `f` in place of the command's handler (a blocking
    /// command's step after a wake-up, see [`crate::commands::spec::Blocking`]);
    /// the commit observer hears of it as of the command.
    pub fn call_as(&mut self, call: Call, f: Option<crate::commands::CommandFn>) -> Result<Reply, CmdError> {
        let db = self.ctx.db;
        let result = match f {
            Some(f) => f(self.ctx, &call.args),
            None => super::call(self.ctx, &call),
        };
        let events = std::mem::take(&mut self.ctx.events);
        let reply = match &result {
            Ok(r) => r.clone(),
            Err(CmdError::Store(_)) => return result,
            Err(e) => e.reply(),
        };
        if matches!(call.cmd.spec.handler, Handler::Write(_)) || !events.is_empty() {
            self.ran.push(Ran {
                db,
                call,
                reply,
                events,
            });
        }
        result
    }

    /// Runs a command given by its arguments (name first), checked against
    /// the command table as the library checks it.
    pub fn command(&mut self, args: Vec<Bytes>) -> Result<Reply, CmdError> {
        let cmd = crate::commands::table::check(crate::commands::table::table(), &args)
            .map_err(|e| CmdError::Reply(e.error_text()))?;
        self.call(Call { cmd, args })
    }

    /// The command context: the selected database and the store itself.
    pub fn ctx(&mut self) -> &mut Ctx<'s> {
        self.ctx
    }
}
