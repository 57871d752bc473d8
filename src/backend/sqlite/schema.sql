-- redsql schema for SQLite, version 3 (version 1 had no rcount, version 2 no streams).
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
    value     BLOB,                    -- the value of a string key
    len       INTEGER NOT NULL DEFAULT 0 -- number of elements of a collection key
);
CREATE UNIQUE INDEX IF NOT EXISTS rkey_db_key ON rkey (db, key);
CREATE INDEX IF NOT EXISTS rkey_expire ON rkey (expire_at) WHERE expire_at IS NOT NULL;

-- Collections. `h` is a stable 63-bit hash of the member/field
-- (store::member_hash): leading the primary key, it gives point lookups,
-- integer SCAN cursors that stay valid while the collection changes, and
-- O(log n) random picks, all from one B-tree.
CREATE TABLE IF NOT EXISTS rlist (
    key_id INTEGER NOT NULL,           -- rkey.id
    pos    INTEGER NOT NULL,           -- dense: element i is at (first pos) + i
    value  BLOB    NOT NULL,
    PRIMARY KEY (key_id, pos)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS rhash (
    key_id INTEGER NOT NULL,
    h      INTEGER NOT NULL,
    field  BLOB    NOT NULL,
    value  BLOB    NOT NULL,
    PRIMARY KEY (key_id, h, field)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS rset (
    key_id INTEGER NOT NULL,
    h      INTEGER NOT NULL,
    member BLOB    NOT NULL,
    PRIMARY KEY (key_id, h, member)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS rzset (
    key_id INTEGER NOT NULL,
    h      INTEGER NOT NULL,
    member BLOB    NOT NULL,
    score  REAL    NOT NULL,
    PRIMARY KEY (key_id, h, member)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rzset_score ON rzset (key_id, score, member);

-- Streams (type 5). Ids are two unsigned 64-bit numbers, stored with their
-- top bit flipped so that signed order is id order (store::stream::to_sql:
-- 0 is stored as -9223372036854775808; the views show the real ids).
-- Entries, one row each; `fields` holds the field/value pairs, each a 4-byte
-- big-endian length and its bytes.
CREATE TABLE IF NOT EXISTS rstream (
    key_id INTEGER NOT NULL,
    ms     INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    fields BLOB    NOT NULL,
    PRIMARY KEY (key_id, ms, seq)
) WITHOUT ROWID;

-- One row per stream: last id, entries added, max deleted id.
CREATE TABLE IF NOT EXISTS rstream_meta (
    key_id     INTEGER PRIMARY KEY,
    last_ms    INTEGER NOT NULL,
    last_seq   INTEGER NOT NULL,
    added      INTEGER NOT NULL,
    maxdel_ms  INTEGER NOT NULL,
    maxdel_seq INTEGER NOT NULL
);

-- Consumer groups: last delivered id, entries read (-1: unknown).
CREATE TABLE IF NOT EXISTS rstream_group (
    key_id       INTEGER NOT NULL,
    name         BLOB    NOT NULL,
    last_ms      INTEGER NOT NULL,
    last_seq     INTEGER NOT NULL,
    entries_read INTEGER NOT NULL,
    PRIMARY KEY (key_id, name)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS rstream_consumer (
    key_id  INTEGER NOT NULL,
    grp     BLOB    NOT NULL,
    name    BLOB    NOT NULL,
    seen    INTEGER NOT NULL,          -- last seen, Unix ms
    pending INTEGER NOT NULL DEFAULT 0, -- its rows in rstream_pending (triggers below)
    PRIMARY KEY (key_id, grp, name)
) WITHOUT ROWID;

-- Pending entries (the PEL): delivered to a consumer, not yet acknowledged.
CREATE TABLE IF NOT EXISTS rstream_pending (
    key_id    INTEGER NOT NULL,
    grp       BLOB    NOT NULL,
    ms        INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    consumer  BLOB    NOT NULL,
    delivered INTEGER NOT NULL,        -- last delivery, Unix ms
    count     INTEGER NOT NULL,        -- deliveries
    PRIMARY KEY (key_id, grp, ms, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rstream_pending_consumer ON rstream_pending (key_id, grp, consumer, ms, seq);

-- Each consumer's pending count, kept whatever the statement: XPENDING's
-- summary and XINFO read the consumers, not the pending entries.
CREATE TRIGGER IF NOT EXISTS rstream_pending_added AFTER INSERT ON rstream_pending
BEGIN
    UPDATE rstream_consumer SET pending = pending + 1
    WHERE key_id = new.key_id AND grp = new.grp AND name = new.consumer;
END;

CREATE TRIGGER IF NOT EXISTS rstream_pending_removed AFTER DELETE ON rstream_pending
BEGIN
    UPDATE rstream_consumer SET pending = pending - 1
    WHERE key_id = old.key_id AND grp = old.grp AND name = old.consumer;
END;

CREATE TRIGGER IF NOT EXISTS rstream_pending_moved AFTER UPDATE OF consumer ON rstream_pending
WHEN old.consumer <> new.consumer
BEGIN
    UPDATE rstream_consumer SET pending = pending - 1
    WHERE key_id = old.key_id AND grp = old.grp AND name = old.consumer;
    UPDATE rstream_consumer SET pending = pending + 1
    WHERE key_id = new.key_id AND grp = new.grp AND name = new.consumer;
END;

-- A key's value rows go with it: deleting a key row, or changing its type
-- (SET over a list, say), deletes the rows of its old value. Whatever the
-- code path (DEL, expiry, FLUSHALL, RENAME over a key), no orphans remain.
CREATE TRIGGER IF NOT EXISTS rkey_delete_value AFTER DELETE ON rkey WHEN old.type <> 0
BEGIN
    DELETE FROM rlist WHERE old.type = 1 AND key_id = old.id;
    DELETE FROM rset  WHERE old.type = 2 AND key_id = old.id;
    DELETE FROM rzset WHERE old.type = 3 AND key_id = old.id;
    DELETE FROM rhash WHERE old.type = 4 AND key_id = old.id;
    DELETE FROM rstream WHERE old.type = 5 AND key_id = old.id;
    DELETE FROM rstream_meta WHERE old.type = 5 AND key_id = old.id;
    DELETE FROM rstream_group WHERE old.type = 5 AND key_id = old.id;
    DELETE FROM rstream_consumer WHERE old.type = 5 AND key_id = old.id;
    DELETE FROM rstream_pending WHERE old.type = 5 AND key_id = old.id;
END;

CREATE TRIGGER IF NOT EXISTS rkey_retype_value AFTER UPDATE OF type ON rkey WHEN old.type <> new.type
BEGIN
    DELETE FROM rlist WHERE old.type = 1 AND key_id = old.id;
    DELETE FROM rset  WHERE old.type = 2 AND key_id = old.id;
    DELETE FROM rzset WHERE old.type = 3 AND key_id = old.id;
    DELETE FROM rhash WHERE old.type = 4 AND key_id = old.id;
    DELETE FROM rstream WHERE old.type = 5 AND key_id = old.id;
    DELETE FROM rstream_meta WHERE old.type = 5 AND key_id = old.id;
    DELETE FROM rstream_group WHERE old.type = 5 AND key_id = old.id;
    DELETE FROM rstream_consumer WHERE old.type = 5 AND key_id = old.id;
    DELETE FROM rstream_pending WHERE old.type = 5 AND key_id = old.id;
END;

-- Keys per database: every row of rkey (expired rows the sweeper has not
-- deleted yet included), and how many of them have an expiry time. DBSIZE
-- and INFO keyspace read a row instead of counting millions, and subtract
-- the expired rows (found through rkey_expire; few, the sweeper deletes
-- them). Deleted rows, rows moved to another database and expiry times set
-- or removed are counted by the triggers below, whatever the statement. New
-- rows are counted by the store itself, once per transaction: its INSERT
-- statements report each key they create (src/backend/sqlite/counts.rs), as
-- a trigger on INSERT would cost every new key a trigger program.
--
-- No constraint here can fail (no NOT NULL, the primary key is never
-- updated), and the triggers' statements cannot abort: a statement whose
-- triggers may abort halfway is run with a statement journal (a copy of every
-- page it changes), which would double the cost of a plain SET.
CREATE TABLE IF NOT EXISTS rcount (
    db      INTEGER PRIMARY KEY,
    keys    INTEGER,
    expires INTEGER
);

-- The rows of databases 0-15 (Redis's default `databases`) are always
-- there; the row of any other database is created by its first key.
INSERT OR IGNORE INTO rcount (db, keys, expires)
VALUES (0, 0, 0), (1, 0, 0), (2, 0, 0), (3, 0, 0), (4, 0, 0), (5, 0, 0), (6, 0, 0), (7, 0, 0),
       (8, 0, 0), (9, 0, 0), (10, 0, 0), (11, 0, 0), (12, 0, 0), (13, 0, 0), (14, 0, 0), (15, 0, 0);

CREATE TRIGGER IF NOT EXISTS rkey_count_delete AFTER DELETE ON rkey
BEGIN
    UPDATE rcount SET keys = keys - 1, expires = expires - (old.expire_at IS NOT NULL) WHERE db = old.db;
END;

CREATE TRIGGER IF NOT EXISTS rkey_count_expire AFTER UPDATE OF expire_at ON rkey
WHEN (old.expire_at IS NULL) <> (new.expire_at IS NULL) AND old.db = new.db
BEGIN
    UPDATE rcount SET expires = expires + (new.expire_at IS NOT NULL) - (old.expire_at IS NOT NULL) WHERE db = new.db;
END;

CREATE TRIGGER IF NOT EXISTS rkey_count_move AFTER UPDATE OF db ON rkey WHEN old.db <> new.db
BEGIN
    UPDATE rcount SET keys = keys - 1, expires = expires - (old.expire_at IS NOT NULL) WHERE db = old.db;
    INSERT OR IGNORE INTO rcount (db, keys, expires) SELECT new.db, 0, 0 WHERE new.db NOT BETWEEN 0 AND 15;
    UPDATE rcount SET keys = keys + 1, expires = expires + (new.expire_at IS NOT NULL) WHERE db = new.db;
END;

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

CREATE VIEW IF NOT EXISTS vlist AS
SELECT k.id AS key_id, k.db, k.key, l.pos - (SELECT min(pos) FROM rlist WHERE key_id = k.id) AS idx, l.value, k.expire_at
FROM rkey k JOIN rlist l ON l.key_id = k.id
WHERE k.type = 1 AND (k.expire_at IS NULL OR k.expire_at > CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE VIEW IF NOT EXISTS vhash AS
SELECT k.id AS key_id, k.db, k.key, h.field, h.value, k.expire_at
FROM rkey k JOIN rhash h ON h.key_id = k.id
WHERE k.type = 4 AND (k.expire_at IS NULL OR k.expire_at > CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE VIEW IF NOT EXISTS vset AS
SELECT k.id AS key_id, k.db, k.key, s.member, k.expire_at
FROM rkey k JOIN rset s ON s.key_id = k.id
WHERE k.type = 2 AND (k.expire_at IS NULL OR k.expire_at > CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE VIEW IF NOT EXISTS vzset AS
SELECT k.id AS key_id, k.db, k.key, z.member, z.score, k.expire_at
FROM rkey k JOIN rzset z ON z.key_id = k.id
WHERE k.type = 3 AND (k.expire_at IS NULL OR k.expire_at > CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE VIEW IF NOT EXISTS vstream AS
SELECT k.id AS key_id, k.db, k.key,
       printf('%d-%d', e.ms + 9223372036854775807 + 1, e.seq + 9223372036854775807 + 1) AS id,
       e.fields, k.expire_at
FROM rkey k JOIN rstream e ON e.key_id = k.id
WHERE k.type = 5 AND (k.expire_at IS NULL OR k.expire_at > CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE VIEW IF NOT EXISTS vstream_group AS
SELECT k.id AS key_id, k.db, k.key, g.name AS "group",
       printf('%d-%d', g.last_ms + 9223372036854775807 + 1, g.last_seq + 9223372036854775807 + 1) AS last_delivered_id,
       g.entries_read
FROM rkey k JOIN rstream_group g ON g.key_id = k.id
WHERE k.type = 5 AND (k.expire_at IS NULL OR k.expire_at > CAST(unixepoch('subsec') * 1000 AS INTEGER));

CREATE VIEW IF NOT EXISTS vstream_pending AS
SELECT k.id AS key_id, k.db, k.key, p.grp AS "group",
       printf('%d-%d', p.ms + 9223372036854775807 + 1, p.seq + 9223372036854775807 + 1) AS id,
       p.consumer, p.delivered, p.count
FROM rkey k JOIN rstream_pending p ON p.key_id = k.id
WHERE k.type = 5 AND (k.expire_at IS NULL OR k.expire_at > CAST(unixepoch('subsec') * 1000 AS INTEGER));
