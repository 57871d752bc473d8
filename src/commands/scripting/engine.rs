//! The Lua interpreter: one Lua 5.1 state per thread that runs scripts (the
//! writer, a read thread), with Redis 7.0's sandbox (`prelude.lua`), and the
//! `redis.*` functions that reach back into redsql.
//!
//! A script runs inside the command that started it (EVAL, FCALL, ...), with
//! that command's [`Ctx`]: `redis.call` runs each command's handler directly
//! against the same store, so on the writer the whole script is one part of
//! the writer's transaction, atomic like any other write command.

use super::cache::{self, Script};
use super::convert;
use super::libs::raising;
use crate::commands::{CmdError, CmdResult, Ctx, Handler, lookup};
use crate::resp::Reply;
use crate::store::StoreError;
use bytes::Bytes;
use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value, ffi};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_int;
use std::sync::Mutex;

/// Bytes the Lua state of a thread may allocate; past it a script fails
/// with "not enough memory" instead of taking the server's memory.
const MEMORY_LIMIT: usize = 1 << 30;

/// What a running script needs from its caller, reached by the `redis.*`
/// functions through the Lua state's app data.
pub(crate) struct Run {
    /// The caller's context, valid while the script runs (see [`Engine::run`]).
    ctx: *mut Ctx<'static>,
    /// Protocol of the script's own client (`redis.setresp`), 2 at first.
    pub resp: u8,
    /// Writes are refused (EVAL_RO, FCALL_RO, `no-writes`).
    pub read_only: bool,
    /// A storage failure inside the script: the whole command fails with it.
    pub store_error: Option<StoreError>,
    /// Its entry among the running scripts (SCRIPT KILL).
    running: std::sync::Arc<super::kill::Running>,
}

/// One thread's interpreter and the scripts it compiled.
pub struct Engine {
    lua: Lua,
    /// The cache generation it was built for (SCRIPT FLUSH starts afresh).
    generation: u64,
    /// Compiled EVAL scripts, by SHA1.
    scripts: HashMap<String, Function>,
    /// The real globals (scripts see the protected view `env`).
    globals: Table,
    env: Table,
    /// Calls a script's function under the error handler (`run_protected`).
    runner: Function,
    handler: Function,
    /// The globals of function libraries, its metatable (whose `__index`
    /// is the globals, or `lib_api` while a library loads), and the
    /// library API.
    fenv: Table,
    fmeta: Table,
    lib_api: Table,
    /// An error handler that leaves errors as they are (library loading).
    identity: Function,
    /// The libraries this thread loaded: name -> (load id, functions).
    libraries: HashMap<String, (u64, HashMap<String, Function>)>,
}

/// A function a library registered while loading.
pub struct Registered {
    pub name: String,
    pub desc: Option<Vec<u8>>,
    pub flags: super::flags::Flags,
    pub callback: Function,
}

/// What `redis.register_function` fills while a library loads.
struct Loading {
    functions: Vec<Registered>,
    started: std::time::Instant,
    timed_out: bool,
}

/// A library's code may run this long while loading (Redis's LOAD_TIMEOUT_MS).
const LOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's interpreter, made (or remade after SCRIPT
/// FLUSH) as needed.
pub fn with<R>(f: impl FnOnce(&mut Engine) -> Result<R, CmdError>) -> Result<R, CmdError> {
    ENGINE.with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return Err(CmdError::Reply("ERR scripts cannot run other scripts".into()));
        };
        let generation = cache::generation();
        if slot.as_ref().is_none_or(|e| e.generation != generation) {
            *slot = None;
            let engine = Engine::new(generation).map_err(|e| CmdError::Reply(format!("ERR Lua: {e}")))?;
            *slot = Some(engine);
        }
        f(slot.as_mut().expect("engine"))
    })
}

impl Engine {
    fn new(generation: u64) -> mlua::Result<Engine> {
        // SAFETY: the debug library is used by the sandbox's error handler
        // only and removed from the globals before any script runs.
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::new(),
            )
        };
        lua.set_memory_limit(MEMORY_LIMIT)?;
        let globals = lua.globals();
        super::libs::register(&lua, &globals)?;
        let debug: Table = globals.get("debug")?;
        let rs = lua.create_table()?;
        rs.set("call", raising(&lua, lua.create_function(call_raising)?)?)?;
        rs.set("pcall", lua.create_function(pcall)?)?;
        rs.set("sha1hex", raising(&lua, lua.create_function(sha1hex)?)?)?;
        rs.set("error_reply", lua.create_function(error_reply)?)?;
        rs.set("log", raising(&lua, lua.create_function(log)?)?)?;
        rs.set("setresp", raising(&lua, lua.create_function(setresp)?)?)?;
        rs.set("set_repl", raising(&lua, lua.create_function(set_repl)?)?)?;
        rs.set("random", raising(&lua, lua.create_function(random)?)?)?;
        rs.set("randomseed", raising(&lua, lua.create_function(randomseed)?)?)?;
        rs.set("version", crate::REDIS_VERSION)?;
        rs.set("version_num", version_num(crate::REDIS_VERSION))?;
        // SAFETY: C functions that keep to the Lua API's rules (see each).
        unsafe {
            rs.set("pcall_lua", lua.create_c_function(redis_pcall)?)?;
            rs.set("xpcall", lua.create_c_function(xpcall)?)?;
        }
        let ro = lua.create_table()?;
        let weak = lua.create_table()?;
        weak.set("__mode", "k")?;
        ro.set_metatable(Some(weak))?;
        for name in ["rawset", "setmetatable"] {
            let real: Function = globals.get(name)?;
            rs.set(name, guarded(&lua, &ro, real)?)?;
        }
        let prelude = lua
            .load(include_str!("prelude.lua"))
            .set_name("=redsql")
            .into_function()?;
        rs.set(
            "register_function",
            raising(&lua, lua.create_function(register_function)?)?,
        )?;
        let (env, handler, fenv, fmeta, lib_api, identity): (Table, Function, Table, Table, Table, Function) =
            prelude.call((globals.clone(), debug, rs, ro))?;
        // SAFETY: see `run_protected`.
        let runner = unsafe { lua.create_c_function(run_protected)? };
        lua.set_globals(env.clone())?;
        Ok(Engine {
            lua,
            generation,
            scripts: HashMap::new(),
            globals,
            env,
            runner,
            handler,
            fenv,
            fmeta,
            lib_api,
            identity,
            libraries: HashMap::new(),
        })
    }

    /// Compiles `script` (if this thread has not yet), as Redis's
    /// `luaCreateFunction`: the error is the reply's text.
    pub fn compile(&mut self, script: &Script) -> Result<Function, String> {
        if let Some(f) = self.scripts.get(&script.sha) {
            return Ok(f.clone());
        }
        let f = self
            .load(&script.body[script.shebang_len..], "@user_script")
            .map_err(|e| format!("ERR Error compiling script (new function): {e}"))?;
        self.scripts.insert(script.sha.clone(), f.clone());
        Ok(f)
    }

    /// Loads a chunk as a function whose globals are the protected view;
    /// the error is Lua's message.
    pub fn load(&self, code: &[u8], name: &str) -> Result<Function, String> {
        self.lua
            .load(code)
            .set_name(name)
            .set_mode(mlua::chunk::ChunkMode::Text)
            .set_environment(self.env.clone())
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                e => e.to_string(),
            })
    }

    /// Runs a compiled script (or function) for the command in `ctx`.
    /// `name` is what errors call it (`f_<sha1>`, or the function's name);
    /// `keys_args` is Some for a function call (passed as arguments), None
    /// for EVAL (set as the KEYS and ARGV globals).
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &mut self,
        ctx: &mut Ctx,
        f: &Function,
        name: &str,
        keys: &[Bytes],
        args: &[Bytes],
        eval: bool,
        read_only: bool,
    ) -> CmdResult {
        let lua_err = |e: mlua::Error| CmdError::Reply(format!("ERR Error running script {name}, {e}"));
        let keys_t = self.array(keys).map_err(lua_err)?;
        let args_t = self.array(args).map_err(lua_err)?;
        let guard = super::kill::start(eval, &self.lua);
        let run = Run {
            ctx: (ctx as *mut Ctx<'_>).cast::<Ctx<'static>>(),
            resp: 2,
            read_only,
            store_error: None,
            running: guard.running().clone(),
        };
        let (db, proto) = (ctx.db, ctx.proto);
        self.lua.set_app_data(run);
        let result = if eval {
            self.globals.raw_set("KEYS", keys_t).map_err(lua_err)?;
            self.globals.raw_set("ARGV", args_t).map_err(lua_err)?;
            self.runner.call::<(bool, Value)>((self.handler.clone(), f.clone()))
        } else {
            self.runner
                .call::<(bool, Value)>((self.handler.clone(), f.clone(), keys_t, args_t))
        };
        let run = self.lua.remove_app_data::<Run>().expect("run context");
        drop(guard);
        let aborted = super::kill::take_aborted();
        if eval {
            // Functions must not see the last script's KEYS and ARGV.
            let _ = self.globals.raw_set("KEYS", Value::Nil);
            let _ = self.globals.raw_set("ARGV", Value::Nil);
        }
        // Commands inside the script select databases of their own.
        ctx.db = db;
        ctx.proto = proto;
        if let Some(e) = run.store_error {
            return Err(CmdError::Store(e));
        }
        if aborted {
            return Err(CmdError::Store(StoreError(
                "the script was stopped: the server is shutting down".into(),
            )));
        }
        match result {
            Ok((true, value)) => Ok(convert::to_reply(&value, run.resp, proto, 0)),
            Ok((false, err)) => Err(CmdError::Reply(convert::script_error(&err, name))),
            Err(e) => Err(lua_err(e)),
        }
    }

    /// Runs a library's code (after its shebang line, whose line feed it
    /// starts with) to collect the functions it registers, as Redis's
    /// `luaEngineCreate`; the error is the reply's text without `ERR `.
    pub fn load_library(&mut self, code: &[u8]) -> Result<Vec<Registered>, String> {
        let chunk = self
            .lua
            .load(code)
            .set_name("@user_function")
            .set_mode(mlua::chunk::ChunkMode::Text)
            .set_environment(self.fenv.clone())
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => format!("Error compiling function: {message}"),
                e => format!("Error compiling function: {e}"),
            })?;
        let to_string = |e: mlua::Error| e.to_string();
        self.fmeta.raw_set("__index", self.lib_api.clone()).map_err(to_string)?;
        self.lua.set_app_data(Loading {
            functions: Vec::new(),
            started: std::time::Instant::now(),
            timed_out: false,
        });
        let hook = self
            .lua
            .set_hook(mlua::HookTriggers::new().every_nth_instruction(100_000), |lua, _| {
                let Some(mut l) = lua.app_data_mut::<Loading>() else {
                    return Ok(mlua::VmState::Continue);
                };
                if l.started.elapsed() > LOAD_TIMEOUT {
                    l.timed_out = true;
                    return Err(mlua::Error::runtime("FUNCTION LOAD timeout"));
                }
                Ok(mlua::VmState::Continue)
            });
        let result = hook.and_then(|_| self.runner.call::<(bool, Value)>((self.identity.clone(), chunk)));
        self.lua.remove_hook();
        let loading = self.lua.remove_app_data::<Loading>().expect("loading context");
        self.fmeta.raw_set("__index", self.globals.clone()).map_err(to_string)?;
        match result {
            _ if loading.timed_out => Err("Error registering functions: ERR FUNCTION LOAD timeout".into()),
            Ok((true, _)) => Ok(loading.functions),
            Ok((false, err)) => {
                let msg = match &err {
                    Value::String(s) => format!("ERR {}", String::from_utf8_lossy(&s.as_bytes())),
                    Value::Table(t) => match t.get::<Value>("err") {
                        Ok(Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
                        _ => String::new(),
                    },
                    _ => String::new(),
                };
                Err(format!("Error registering functions: {msg}"))
            }
            Err(e) => Err(format!("Error registering functions: {e}")),
        }
    }

    /// The callback of function `name` of library `lib` (loaded in this
    /// thread's state if it was not, or was loaded in another version).
    pub fn library_function(&mut self, lib: &super::functions::Library, name: &str) -> Result<Function, String> {
        let fresh = self.libraries.get(&lib.name).is_some_and(|(id, _)| *id == lib.id);
        if !fresh {
            let body = &lib.code[lib.body_start..];
            let functions = self.load_library(body)?;
            self.remember(lib, functions);
        }
        self.libraries
            .get(&lib.name)
            .and_then(|(_, fs)| fs.get(name).cloned())
            .ok_or_else(|| "Function not found".to_string())
    }

    /// Keeps the callbacks of a library this thread just loaded.
    pub fn remember(&mut self, lib: &super::functions::Library, functions: Vec<Registered>) {
        let map = functions.into_iter().map(|f| (f.name, f.callback)).collect();
        self.libraries.insert(lib.name.clone(), (lib.id, map));
    }

    fn array(&self, items: &[Bytes]) -> mlua::Result<Table> {
        let t = self.lua.create_table()?;
        for (i, item) in items.iter().enumerate() {
            t.raw_set(i + 1, self.lua.create_string(item)?)?;
        }
        Ok(t)
    }
}

/// `0x00MMmmpp` for `MM.mm.pp`.
fn version_num(v: &str) -> i64 {
    v.split('.')
        .take(3)
        .map(|p| p.parse::<i64>().unwrap_or(0))
        .fold(0, |acc, n| (acc << 8) | n)
}

/// Why a command called from a script did not run, or failed.
enum Refused {
    /// One of Redis's `scriptCall` checks (plain text, `ERR` added).
    Script(&'static str),
    /// The command's own error reply.
    Reply(String),
    Store(StoreError),
}

/// `run(handler, f, ...)`: calls `f(...)` under the error handler, as
/// Redis's `luaCallFunction` does; answers `(true, first result)` or
/// `(false, the handler's error)`.
unsafe extern "C-unwind" fn run_protected(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua with (handler, f, args...) on its stack; one
    // result leaves room for the status.
    unsafe {
        let n = ffi::lua_gettop(l);
        let status = ffi::lua_pcall(l, n - 2, 1, 1);
        ffi::lua_pushboolean(l, (status == 0) as c_int);
        ffi::lua_insert(l, 2);
        2
    }
}

/// Redis's `pcall` (`luaRedisPcall`): an error table with an `err` string
/// comes back as that string.
unsafe extern "C-unwind" fn redis_pcall(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua; the status slot is pushed before the call, and
    // after an error the stack holds one value.
    unsafe {
        let argc = ffi::lua_gettop(l);
        if argc == 0 {
            // Redis calls its status placeholder then.
            ffi::lua_pushboolean(l, 0);
            ffi::lua_pushstring(l, c"attempt to call a boolean value".as_ptr());
            return 2;
        }
        ffi::lua_pushboolean(l, 1);
        ffi::lua_insert(l, 1);
        if ffi::lua_pcall(l, argc - 1, ffi::LUA_MULTRET, 0) != 0 {
            ffi::lua_remove(l, 1);
            if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
                ffi::lua_getfield(l, -1, c"err".as_ptr());
                if ffi::lua_isstring(l, -1) != 0 {
                    ffi::lua_replace(l, -2);
                }
            }
            ffi::lua_pushboolean(l, 0);
            ffi::lua_insert(l, 1);
        }
        ffi::lua_gettop(l)
    }
}

/// Lua 5.1's `xpcall`, making room for its status after many results.
unsafe extern "C-unwind" fn xpcall(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: called by Lua; checks the stack before pushing the status.
    unsafe {
        ffi::luaL_checkany(l, 2);
        ffi::lua_settop(l, 2);
        ffi::lua_insert(l, 1);
        let status = ffi::lua_pcall(l, 0, ffi::LUA_MULTRET, 1);
        ffi::luaL_checkstack(l, 1, c"too many results".as_ptr());
        ffi::lua_pushboolean(l, (status == 0) as c_int);
        ffi::lua_replace(l, 1);
        ffi::lua_gettop(l)
    }
}

/// `real` (rawset, setmetatable) refusing the tables in `ro`, as Redis's
/// readonly tables refuse them.
fn guarded(lua: &Lua, ro: &Table, real: Function) -> mlua::Result<Function> {
    unsafe extern "C-unwind" fn guard(l: *mut ffi::lua_State) -> c_int {
        // SAFETY: called by Lua with its stack; no Rust value lives across lua_error.
        unsafe {
            ffi::lua_pushvalue(l, 1);
            ffi::lua_rawget(l, ffi::lua_upvalueindex(1));
            let readonly = ffi::lua_toboolean(l, -1) != 0;
            ffi::lua_settop(l, -2);
            if readonly {
                ffi::lua_pushstring(l, c"Attempt to modify a readonly table".as_ptr());
                ffi::lua_error(l);
            }
            let n = ffi::lua_gettop(l);
            ffi::lua_pushvalue(l, ffi::lua_upvalueindex(2));
            ffi::lua_insert(l, 1);
            ffi::lua_call(l, n, ffi::LUA_MULTRET);
            ffi::lua_gettop(l)
        }
    }
    // SAFETY: pushes a C closure over the two values passed.
    unsafe { lua.exec_raw((ro.clone(), real), |l| ffi::lua_pushcclosure(l, guard, 2)) }
}

/// `redis.call`: the reply, or (false, error table) to raise.
fn call_raising(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    let (v, raise) = redis_call(lua, args, true)?;
    Ok((!raise, v))
}

/// `redis.pcall`: the reply, errors included.
fn pcall(lua: &Lua, args: MultiValue) -> mlua::Result<Value> {
    Ok(redis_call(lua, args, false)?.0)
}

/// Runs the command in `args`: answers the reply as a Lua value, and
/// whether to raise it (`raise` is set and it is an error).
fn redis_call(lua: &Lua, args: MultiValue, raise: bool) -> mlua::Result<(Value, bool)> {
    if args.is_empty() {
        let e = convert::error_table(
            lua,
            b"Please specify at least one argument for this redis lib call",
            false,
        )?;
        return Ok((e, raise));
    }
    let mut argv = Vec::with_capacity(args.len());
    for v in args.iter() {
        match v {
            Value::String(s) => argv.push(Bytes::copy_from_slice(&s.as_bytes())),
            Value::Integer(i) => argv.push(Bytes::from(convert::number_arg(*i as f64))),
            Value::Number(n) => argv.push(Bytes::from(convert::number_arg(*n))),
            _ => {
                let msg = b"Lua redis lib command arguments must be strings or integers";
                return Ok((convert::error_table(lua, msg, false)?, raise));
            }
        }
    }
    let (ctx, resp, read_only, running) = {
        let Some(run) = lua.app_data_ref::<Run>() else {
            let msg = b"redis.call/pcall can only be called inside a script invocation";
            return Ok((convert::error_table(lua, msg, false)?, true));
        };
        (run.ctx, run.resp, run.read_only, run.running.clone())
    };
    // SAFETY: `Engine::run` set this pointer to the running command's
    // context, which outlives the script, and nothing else uses the
    // context while the script runs.
    let ctx = unsafe { &mut *ctx };
    match dispatch(ctx, argv, resp, read_only, &running) {
        Ok(Reply::Error(e)) => Ok((convert::reply_error_table(lua, &e)?, raise)),
        Ok(reply) => Ok((convert::to_lua(lua, &reply, resp)?, false)),
        Err(Refused::Script(msg)) => Ok((convert::error_table(lua, msg.as_bytes(), true)?, raise)),
        Err(Refused::Reply(e)) => Ok((convert::reply_error_table(lua, e.as_bytes())?, raise)),
        Err(Refused::Store(e)) => {
            let msg = format!("ERR storage error: {e}");
            if let Some(mut run) = lua.app_data_mut::<Run>() {
                run.store_error.get_or_insert(e);
            }
            Ok((convert::reply_error_table(lua, msg.as_bytes())?, true))
        }
    }
}

/// Redis's `scriptCall`: looks the command up, checks it may run here, runs it.
fn dispatch(
    ctx: &mut Ctx,
    args: Vec<Bytes>,
    resp: u8,
    read_only: bool,
    running: &super::kill::Running,
) -> Result<Reply, Refused> {
    const UNKNOWN: &str = "Unknown Redis command called from script";
    const NOT_ALLOWED: &str = "This Redis command is not allowed from script";
    let Some(mut cmd) = lookup(&args[0]) else {
        // A command of the server's (MULTI, CLIENT, PUBLISH, ...): Redis
        // forbids most of them in scripts; redsql runs none there.
        if crate::commands::table::is_redis_command(&args[0]) {
            return Err(Refused::Script(NOT_ALLOWED));
        }
        return Err(Refused::Script(UNKNOWN));
    };
    if !cmd.subcommands.is_empty() && args.len() >= 2 {
        match cmd.subcommands.get(&args[1].to_ascii_lowercase()) {
            Some(sub) => cmd = sub,
            None => return Err(Refused::Script(UNKNOWN)),
        }
    }
    if !cmd.arity_ok(args.len()) {
        return Err(Refused::Script(
            "Wrong number of args calling Redis command from script",
        ));
    }
    if cmd.noscript {
        return Err(Refused::Script(NOT_ALLOWED));
    }
    if read_only && (cmd.write || cmd.has_flag("may_replicate")) {
        return Err(Refused::Script(
            "Write commands are not allowed from read-only scripts.",
        ));
    }
    // Blocking commands never block in a script: their handler is the
    // storage step, which answers what Redis answers when there is nothing
    // to pop (XREAD and XREADGROUP with BLOCK are refused, as in Redis).
    // Server commands cannot run here.
    if matches!(cmd.spec.handler, Handler::Server(_) | Handler::Container) {
        return Err(Refused::Script(NOT_ALLOWED));
    }
    if let Some(b) = cmd.spec.blocking
        && b.refused_in_scripts
        && (b.wait)(&args).is_some()
    {
        return Err(Refused::Reply(format!(
            "ERR {} command is not allowed with BLOCK option from scripts",
            String::from_utf8_lossy(&args[0])
        )));
    }
    // The client's ACL rules apply to every command its script runs.
    let keys_restricted = ctx.keys_restricted;
    if let Some(acl) = &ctx.acl {
        acl.check_in_script(cmd, &args).map_err(Refused::Script)?;
        ctx.keys_restricted = cmd.spec.reaches_other_keys && !acl.all_keys(cmd, &args);
    }
    if cmd.write {
        running.dirty.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let client_proto = ctx.proto;
    ctx.proto = resp;
    let result = crate::commands::run(ctx, cmd, &args);
    ctx.proto = client_proto;
    ctx.keys_restricted = keys_restricted;
    match result {
        Ok(reply) => Ok(reply),
        Err(CmdError::Reply(e)) => Err(Refused::Reply(e)),
        Err(CmdError::WrongType) => Err(Refused::Reply(crate::commands::WRONGTYPE.into())),
        Err(CmdError::Store(e)) => Err(Refused::Store(e)),
    }
}

/// `redis.register_function(name, callback)` or `({function_name=...,
/// callback=..., flags={...}, description=...})`, as Redis 7.0 reads them.
fn register_function(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    if lua.app_data_ref::<Loading>().is_none() {
        return raise(
            lua,
            "redis.register_function can only be called on FUNCTION LOAD command",
        );
    }
    let f = match read_register_args(lua, &args) {
        Ok(f) => f,
        Err(msg) => return raise(lua, msg),
    };
    let valid = !f.name.is_empty() && f.name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
    if !valid {
        return raise(
            lua,
            "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long",
        );
    }
    let mut loading = lua.app_data_mut::<Loading>().expect("loading context");
    if loading.functions.iter().any(|g| g.name == f.name) {
        drop(loading);
        return raise(lua, "Function already exists in the library");
    }
    loading.functions.push(f);
    Ok((true, Value::Nil))
}

fn string_arg(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(String::from_utf8_lossy(&s.as_bytes()).into_owned()),
        Value::Integer(i) => Some(convert::lua_number_string(*i as f64)),
        Value::Number(n) => Some(convert::lua_number_string(*n)),
        _ => None,
    }
}

fn read_register_args(lua: &Lua, args: &MultiValue) -> Result<Registered, &'static str> {
    let _ = lua;
    match args.len() {
        1 => {}
        2 => {
            let name = string_arg(&args[0]).ok_or("first argument to redis.register_function must be a string")?;
            let Value::Function(callback) = &args[1] else {
                return Err("second argument to redis.register_function must be a function");
            };
            return Ok(Registered {
                name,
                desc: None,
                flags: super::flags::Flags::default(),
                callback: callback.clone(),
            });
        }
        _ => return Err("wrong number of arguments to redis.register_function"),
    }
    let Value::Table(t) = &args[0] else {
        return Err(
            "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).",
        );
    };
    let (mut name, mut desc, mut callback, mut flags) = (None, None, None, super::flags::Flags::default());
    for pair in t.pairs::<Value, Value>() {
        let Ok((k, v)) = pair else { break };
        let key = string_arg(&k).ok_or("named argument key given to redis.register_function is not a string")?;
        match key.to_ascii_lowercase().as_str() {
            "function_name" => {
                name = Some(
                    string_arg(&v).ok_or("function_name argument given to redis.register_function must be a string")?,
                )
            }
            "description" => {
                let d = match &v {
                    Value::String(s) => s.as_bytes().to_vec(),
                    other => string_arg(other)
                        .ok_or("description argument given to redis.register_function must be a string")?
                        .into_bytes(),
                };
                desc = Some(d);
            }
            "callback" => match v {
                Value::Function(f) => callback = Some(f),
                _ => return Err("callback argument given to redis.register_function must be a function"),
            },
            "flags" => {
                let Value::Table(list) = v else {
                    return Err(
                        "flags argument to redis.register_function must be a table representing function flags",
                    );
                };
                for j in 1.. {
                    match list.get::<Value>(j) {
                        Ok(Value::Nil) => break,
                        Ok(flag) => {
                            let flag = string_arg(&flag).ok_or("unknown flag given")?;
                            if !flags.set(flag.to_ascii_lowercase().as_bytes()) {
                                return Err("unknown flag given");
                            }
                        }
                        Err(_) => return Err("unknown flag given"),
                    }
                }
            }
            _ => return Err("unknown argument given to redis.register_function"),
        }
    }
    let name = name.ok_or("redis.register_function must get a function name argument")?;
    let callback = callback.ok_or("redis.register_function must get a callback argument")?;
    Ok(Registered {
        name,
        desc,
        flags,
        callback,
    })
}

fn sha1hex(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    if args.len() != 1 {
        return Ok((false, convert::error_table(lua, b"wrong number of arguments", false)?));
    }
    let body: Vec<u8> = match &args[0] {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(i) => convert::lua_number_string(*i as f64).into_bytes(),
        Value::Number(n) => convert::lua_number_string(*n).into_bytes(),
        _ => Vec::new(),
    };
    Ok((true, Value::String(lua.create_string(cache::sha1hex(&body))?)))
}

/// `redis.error_reply(msg)`: an error table, with `ERR` when `msg` has no code.
fn error_reply(lua: &Lua, args: MultiValue) -> mlua::Result<Value> {
    match args.iter().collect::<Vec<_>>().as_slice() {
        [Value::String(s)] => {
            let s = s.as_bytes();
            let mut buf = Vec::with_capacity(s.len() + 1);
            if s.first() != Some(&b'-') {
                buf.push(b'-');
            }
            buf.extend_from_slice(&s);
            convert::push_error_buff(lua, &buf)
        }
        _ => convert::error_table(lua, b"wrong number or type of arguments", false),
    }
}

fn raise(lua: &Lua, msg: &str) -> mlua::Result<(bool, Value)> {
    Ok((false, convert::error_table(lua, msg.as_bytes(), false)?))
}

fn log(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    if args.len() < 2 {
        return raise(lua, "redis.log() requires two arguments or more.");
    }
    let Some(level) = lua.coerce_number(args[0].clone())? else {
        return raise(lua, "First argument must be a number (log level).");
    };
    let level = level as i32;
    if !(0..=3).contains(&level) {
        return raise(lua, "Invalid debug level.");
    }
    let mut msg = Vec::new();
    for (j, v) in args.iter().enumerate().skip(1) {
        let s = match v {
            Value::String(s) => s.as_bytes().to_vec(),
            Value::Integer(i) => convert::lua_number_string(*i as f64).into_bytes(),
            Value::Number(n) => convert::lua_number_string(*n).into_bytes(),
            _ => continue,
        };
        if j != 1 {
            msg.push(b' ');
        }
        msg.extend_from_slice(&s);
    }
    let msg = String::from_utf8_lossy(&msg);
    match level {
        0 => crate::log::debug(&msg),
        1 => crate::log::verbose(&msg),
        2 => crate::log::notice(&msg),
        _ => crate::log::warn(&msg),
    }
    Ok((true, Value::Nil))
}

fn setresp(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    if lua.app_data_ref::<Run>().is_none() {
        return raise(lua, "redis.setresp can only be called inside a script invocation");
    }
    if args.len() != 1 {
        return raise(lua, "redis.setresp() requires one argument.");
    }
    let resp = lua.coerce_number(args[0].clone())?.unwrap_or(0.0) as i32;
    if resp != 2 && resp != 3 {
        return raise(lua, "RESP version must be 2 or 3.");
    }
    if let Some(mut run) = lua.app_data_mut::<Run>() {
        run.resp = resp as u8;
    }
    Ok((true, Value::Nil))
}

fn set_repl(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    if lua.app_data_ref::<Run>().is_none() {
        return raise(lua, "redis.set_repl can only be called inside a script invocation");
    }
    if args.len() != 1 {
        return raise(lua, "redis.set_repl() requires two arguments.");
    }
    let flags = lua.coerce_number(args[0].clone())?.unwrap_or(0.0) as i32;
    if flags & !3 != 0 {
        return raise(
            lua,
            "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
        );
    }
    // Every write reaches the database whatever a script asks: accepted.
    Ok((true, Value::Nil))
}

/// Redis's `redisLrand48` state, shared by every script (as in Redis,
/// where one generator serves the whole process).
static RAND48: Mutex<u64> = Mutex::new(0x1234_ABCD_330E);

fn lrand48() -> i32 {
    let mut x = RAND48.lock().unwrap();
    *x = (x.wrapping_mul(0x5_DEEC_E66D).wrapping_add(0xB)) & ((1 << 48) - 1);
    (*x >> 17) as i32
}

/// `luaL_checkint` for argument `n` (1-based) of `math.`name: the error
/// is Lua's "bad argument" text.
fn check_int(lua: &Lua, args: &MultiValue, n: usize, name: &str) -> Result<i32, String> {
    let v = args.get(n - 1).cloned().unwrap_or(Value::Nil);
    let got = match &v {
        Value::Nil if args.len() < n => "no value",
        other => other.type_name(),
    };
    match lua.coerce_number(v) {
        Ok(Some(x)) => Ok(x as i64 as i32),
        _ => Err(format!("bad argument #{n} to '{name}' (number expected, got {got})")),
    }
}

fn random(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    let fail = |msg: String| -> mlua::Result<(bool, Value)> { Ok((false, Value::String(lua.create_string(msg)?))) };
    if lua.app_data_ref::<Run>().is_none() {
        return fail("math.random can only be called inside a script invocation".into());
    }
    const MAX: f64 = i32::MAX as f64;
    let r = (lrand48() % i32::MAX) as f64 / MAX;
    let v = match args.len() {
        0 => r,
        1 => {
            let u = match check_int(lua, &args, 1, "random") {
                Ok(u) => u,
                Err(e) => return fail(e),
            };
            if u < 1 {
                return fail("bad argument #1 to 'random' (interval is empty)".into());
            }
            (r * u as f64).floor() + 1.0
        }
        2 => {
            let l = match check_int(lua, &args, 1, "random") {
                Ok(l) => l,
                Err(e) => return fail(e),
            };
            let u = match check_int(lua, &args, 2, "random") {
                Ok(u) => u,
                Err(e) => return fail(e),
            };
            if l > u {
                return fail("bad argument #2 to 'random' (interval is empty)".into());
            }
            (r * (u as f64 - l as f64 + 1.0)).floor() + l as f64
        }
        _ => return fail("wrong number of arguments".into()),
    };
    Ok((true, Value::Number(v)))
}

fn randomseed(lua: &Lua, args: MultiValue) -> mlua::Result<(bool, Value)> {
    if lua.app_data_ref::<Run>().is_none() {
        let msg = "math.randomseed can only be called inside a script invocation";
        return Ok((false, Value::String(lua.create_string(msg)?)));
    }
    let seed = match check_int(lua, &args, 1, "randomseed") {
        Ok(s) => s,
        Err(e) => return Ok((false, Value::String(lua.create_string(e)?))),
    };
    let low = (seed as u32 & 0xFFFF) as u64;
    let high = ((seed as u32 >> 16) & 0xFFFF) as u64;
    *RAND48.lock().unwrap() = (high << 32) | (low << 16) | 0x330E;
    Ok((true, Value::Nil))
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_numbers() {
        assert_eq!(super::version_num("7.0.15"), 0x0007000f);
    }
}
