-- The sandbox redsql builds around scripts, run once per Lua state with the
-- real globals (G) as its environment. Scripts see E, an empty table that
-- reads through to G and refuses writes, as Redis 7.0 locks its globals.
local G, dbg, rs, ro = ...
local type, error, tostring, select = type, error, tostring, select
local raw_setmetatable = setmetatable
local INTERNAL = '=redsql'

-- ro: the tables a script may not change (Redis's readonly tables), weak keys.

local function ro_error()
  error('Attempt to modify a readonly table', 2)
end

local function protect(t)
  local p = raw_setmetatable({}, {__index = t, __newindex = ro_error, __metatable = false})
  ro[p] = true
  return p
end

-- Redis's __redis__err__handler: errors become tables with the place they
-- were raised (the caller's place when raised by a C function, or by the
-- sandbox's own Lua code, which stands for Redis's C functions).
local function handler(err)
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  if i and i.what == 'C' then
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  while i and i.source == INTERNAL do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

-- The functions in rs that raise errors are C functions, as in Redis, so
-- that errors are placed where the script called them, tail calls included.
local R = {}
R.call = rs.call
R.pcall = rs.pcall
R.sha1hex = rs.sha1hex
R.error_reply = rs.error_reply
R.status_reply = function(...)
  if select('#', ...) ~= 1 or type((...)) ~= 'string' then
    return {err = 'ERR wrong number or type of arguments'}
  end
  return {ok = (...)}
end
R.log = rs.log
R.LOG_DEBUG = 0
R.LOG_VERBOSE = 1
R.LOG_NOTICE = 2
R.LOG_WARNING = 3
R.REDIS_VERSION_NUM = rs.version_num
R.REDIS_VERSION = rs.version
R.setresp = rs.setresp
R.set_repl = rs.set_repl
R.REPL_NONE = 0
R.REPL_AOF = 1
R.REPL_SLAVE = 2
R.REPL_REPLICA = 2
R.REPL_ALL = 3
R.replicate_commands = function() return true end
R.breakpoint = function() return false end
R.debug = function() end
G.redis = R

local math = G.math
math.random = rs.random
math.randomseed = rs.randomseed

-- Redis's pcall (an error table raised by redis.call comes back as its
-- message) and Lua's xpcall, as C functions of rs.
G.pcall = rs.pcall_lua
G.xpcall = rs.xpcall

G.rawset = rs.rawset
G.setmetatable = rs.setmetatable

G.dofile = nil
G.loadfile = nil
G.print = nil
G.debug = nil
G.require = nil
G.module = nil
G.package = nil

for _, name in ipairs({'string', 'table', 'math', 'coroutine', 'redis', 'cjson', 'bit', 'struct', 'cmsgpack'}) do
  if type(G[name]) == 'table' then
    G[name] = protect(G[name])
  end
end
getmetatable('').__index = G.string

local function missing(_, k)
  if type(k) ~= 'string' and type(k) ~= 'number' then
    error('Second argument to luaProtectedTableError must be a string or number', 2)
  end
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
local E = raw_setmetatable({}, {__index = G, __newindex = ro_error, __metatable = protect({__index = missing})})
ro[E] = true
G._G = E

raw_setmetatable(G, {__index = missing, __newindex = ro_error, __metatable = false})

-- Function libraries (FUNCTION LOAD) see F: globals reading through to G
-- when their functions run, and to LIB_API (only redis.register_function,
-- redis.log and the versions) while the library's code registers them;
-- Rust switches FM.__index between the two.
local FM = {__index = G, __newindex = ro_error, __metatable = protect({__index = missing})}
local F = raw_setmetatable({}, FM)
ro[F] = true
local function strict(t)
  return protect(raw_setmetatable(t, {__index = missing}))
end
local LIB_API = strict({
  redis = strict({
    register_function = rs.register_function,
    log = rs.log,
    LOG_DEBUG = 0,
    LOG_VERBOSE = 1,
    LOG_NOTICE = 2,
    LOG_WARNING = 3,
    REDIS_VERSION_NUM = rs.version_num,
    REDIS_VERSION = rs.version,
  }),
})
local function identity(e)
  return e
end

return E, handler, F, FM, LIB_API, identity
