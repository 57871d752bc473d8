-- redsql schema for SQLite, version 1.
--
-- One row per key in `rkey`. String values live in the key row itself (one
-- B-tree lookup for GET, one row write for SET); collection types have value
-- tables joined on rkey.id. Times are Unix milliseconds.
CREATE TABLE IF NOT EXISTS rkey (
    id        INTEGER PRIMARY KEY,     -- stable: SCAN cursor, value-table join key
    db        INTEGER NOT NULL,        -- SELECT index
    key       BLOB    NOT NULL,        -- the key, binary-safe
    type      INTEGER NOT NULL,        -- 0 string, 1 list, 2 set, 3 zset, 4 hash, 5 stream
    expire_at INTEGER,                 -- expiry time, NULL = persistent
    version   INTEGER NOT NULL,        -- changes on every write (WATCH)
    value     BLOB                     -- the value of a string key
);
CREATE UNIQUE INDEX IF NOT EXISTS rkey_db_key ON rkey (db, key);
CREATE INDEX IF NOT EXISTS rkey_expire ON rkey (expire_at) WHERE expire_at IS NOT NULL;

-- Introspection: live keys only (expired keys awaiting the sweeper are hidden).
CREATE VIEW IF NOT EXISTS vkey AS
SELECT id, db, key,
       CASE type WHEN 0 THEN 'string' WHEN 1 THEN 'list' WHEN 2 THEN 'set'
                 WHEN 3 THEN 'zset' WHEN 4 THEN 'hash' WHEN 5 THEN 'stream' END AS type,
       expire_at,
       datetime(expire_at / 1000, 'unixepoch') AS expires,
       version
FROM rkey
WHERE expire_at IS NULL OR expire_at > CAST(unixepoch('subsec') * 1000 AS INTEGER);

CREATE VIEW IF NOT EXISTS vstring AS
SELECT id, db, key, value, expire_at
FROM rkey
WHERE type = 0 AND (expire_at IS NULL OR expire_at > CAST(unixepoch('subsec') * 1000 AS INTEGER));
