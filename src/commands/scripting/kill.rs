//! SCRIPT KILL and FUNCTION KILL: the scripts running now, and the Lua hook
//! that stops one when asked.
//!
//! Every running script (on the writer, or a read thread for the `_RO`
//! forms) is listed here. SCRIPT KILL stops the one running longest, as
//! Redis's does its single running script, unless it already wrote (then
//! `UNKILLABLE`): the hook, called every 100000 Lua instructions, raises
//! Redis's error in it, and keeps raising it at every line so that the
//! script cannot catch it and go on. A kill reaches a script only while the
//! server still reads commands: on SQLite with one I/O thread the writer is
//! a task of the only runtime thread, so a running script holds every
//! connection until it ends. A shutdown (SHUTDOWN, SIGTERM) stops every
//! script, and rolls its writes back (see [`abort_all`]).

use crate::commands::{CmdResult, err};
use crate::resp::Reply;
use mlua::ffi;
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A running script.
pub struct Running {
    /// EVAL/EVALSHA (SCRIPT KILL), or a function (FUNCTION KILL).
    pub eval: bool,
    started: std::time::Instant,
    /// It ran a write command: it can no longer be stopped.
    pub dirty: AtomicBool,
    kill: AtomicBool,
}

static RUNNING: Mutex<Vec<Arc<Running>>> = Mutex::new(Vec::new());

/// Set when the server shuts down: every script stops, written or not.
static ABORT: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// The script running on this thread, for the hook.
    static CURRENT: RefCell<Option<Arc<Running>>> = const { RefCell::new(None) };
    /// The hook stopped this thread's script for a shutdown.
    static ABORTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Stops every running script and every script started from now on (the
/// server is shutting down): the command fails with a storage error, so its
/// transaction rolls back instead of committing half a script.
pub fn abort_all() {
    ABORT.store(true, Ordering::SeqCst);
}

/// Whether the script that just ran on this thread was stopped by
/// [`abort_all`] (and clears the mark).
pub fn take_aborted() -> bool {
    ABORTED.with(|a| a.replace(false))
}

/// Lists a script from now until the guard drops, and installs the hook on
/// `lua` (the Lua state it runs in, which must outlive the guard) meanwhile.
pub struct Guard {
    running: Arc<Running>,
    state: *mut ffi::lua_State,
}

pub fn start(eval: bool, lua: &mlua::Lua) -> Guard {
    let state = lua.exec_raw_lua(|raw| raw.state());
    let running = Arc::new(Running {
        eval,
        started: std::time::Instant::now(),
        dirty: AtomicBool::new(false),
        kill: AtomicBool::new(false),
    });
    RUNNING.lock().unwrap().push(running.clone());
    CURRENT.with(|c| *c.borrow_mut() = Some(running.clone()));
    // SAFETY: `state` is the thread's live Lua state; the hook only reads
    // this thread's CURRENT.
    unsafe {
        ffi::lua_sethook(state, Some(hook), ffi::LUA_MASKCOUNT, 100_000);
    }
    Guard { running, state }
}

impl Guard {
    pub fn running(&self) -> &Arc<Running> {
        &self.running
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SAFETY: as in `start`.
        unsafe {
            ffi::lua_sethook(self.state, None, 0, 0);
        }
        CURRENT.with(|c| *c.borrow_mut() = None);
        RUNNING.lock().unwrap().retain(|r| !Arc::ptr_eq(r, &self.running));
    }
}

unsafe extern "C-unwind" fn hook(l: *mut ffi::lua_State, _ar: *mut ffi::lua_Debug) {
    let aborted = ABORT.load(Ordering::Relaxed);
    let killed = CURRENT.with(|c| c.borrow().as_ref().is_some_and(|r| r.kill.load(Ordering::Relaxed)));
    if !killed && !aborted {
        return;
    }
    if aborted {
        ABORTED.with(|a| a.set(true));
    } else {
        crate::log::warn("Lua script killed by user with SCRIPT KILL.");
    }
    // SAFETY: a hook may raise an error; no Rust value with a destructor
    // lives in this frame past this point.
    unsafe {
        // From now on at every line, so that pcall cannot swallow it for good.
        ffi::lua_sethook(l, Some(hook), ffi::LUA_MASKLINE, 0);
        ffi::lua_createtable(l, 0, 1);
        ffi::lua_pushstring(l, c"ERR Script killed by user with SCRIPT KILL...".as_ptr());
        ffi::lua_setfield(l, -2, c"err".as_ptr());
        ffi::lua_error(l);
    }
}

/// Redis's `scriptKill`.
pub fn kill(eval: bool) -> CmdResult {
    let running = RUNNING.lock().unwrap();
    // As in Redis, a script is busy (and killable) once it has run for
    // `busy-reply-threshold`: before that Redis would not even read the KILL.
    let threshold = std::time::Duration::from_millis(crate::commands::settings::busy_reply_threshold_ms());
    let Some(oldest) = running
        .iter()
        .filter(|r| r.started.elapsed() >= threshold)
        .min_by_key(|r| r.started)
    else {
        return err("NOTBUSY No scripts in execution right now.");
    };
    if oldest.dirty.load(Ordering::Relaxed) {
        return err(
            "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
        );
    }
    if eval && !oldest.eval {
        return err("BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.");
    }
    if !eval && oldest.eval {
        return err("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
    }
    oldest.kill.store(true, Ordering::Relaxed);
    Ok(Reply::ok())
}
