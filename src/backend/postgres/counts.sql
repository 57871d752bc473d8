-- redsql schema for PostgreSQL, version 3: the number of keys per database,
-- so that DBSIZE and INFO keyspace read a few rows instead of counting
-- millions. Runs after watch.sql (new schemas) or alone (a version 2 schema
-- migrated), with search_path set to the store's schema; @schema@ is replaced
-- by its quoted name.
--
-- Every row of rkey is counted (expired rows the sweeper has not deleted yet
-- included: readers subtract those, found through rkey_expire), and so are
-- those with an expiry time. The triggers below keep the counts, in the
-- writing transaction, whatever the statement and whichever process runs it.
--
-- The counts are spread over shards: a transaction adds its changes to the
-- rows of shard pg_backend_pid() % 64, so that writers on different
-- connections, in one redsql process or many, seldom wait for each other's
-- row locks. A database's count is the sum of its shards (any one shard may
-- be negative: a key created by one connection and deleted by another).
CREATE TABLE IF NOT EXISTS rcount (
    db      integer NOT NULL,
    shard   integer NOT NULL,
    keys    bigint  NOT NULL DEFAULT 0,
    expires bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (db, shard)
);

-- Inserted and deleted rows, per statement: a FLUSHDB of millions of keys
-- is one upsert per database, not one per row.
CREATE OR REPLACE FUNCTION rkey_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO @schema@.rcount AS c (db, shard, keys, expires)
            SELECT db, pg_backend_pid() % 64, count(*), count(expire_at) FROM created GROUP BY db
            ON CONFLICT (db, shard) DO UPDATE SET keys = c.keys + EXCLUDED.keys, expires = c.expires + EXCLUDED.expires;
    ELSE
        INSERT INTO @schema@.rcount AS c (db, shard, keys, expires)
            SELECT db, pg_backend_pid() % 64, -count(*), -count(expire_at) FROM gone GROUP BY db
            ON CONFLICT (db, shard) DO UPDATE SET keys = c.keys + EXCLUDED.keys, expires = c.expires + EXCLUDED.expires;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS rkey_count_insert ON rkey;
CREATE TRIGGER rkey_count_insert AFTER INSERT ON rkey
    REFERENCING NEW TABLE AS created FOR EACH STATEMENT EXECUTE FUNCTION rkey_count_rows();
DROP TRIGGER IF EXISTS rkey_count_delete ON rkey;
CREATE TRIGGER rkey_count_delete AFTER DELETE ON rkey
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION rkey_count_rows();

-- A row that moves to another database (MOVE, SWAPDB), or gains or loses its
-- expiry time. (Transition tables cannot go with a column list, so this one
-- is per row; the condition keeps it off every other update.)
CREATE OR REPLACE FUNCTION rkey_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.db = NEW.db THEN
        INSERT INTO @schema@.rcount AS c (db, shard, keys, expires)
            VALUES (NEW.db, pg_backend_pid() % 64, 0, (NEW.expire_at IS NOT NULL)::int - (OLD.expire_at IS NOT NULL)::int)
            ON CONFLICT (db, shard) DO UPDATE SET expires = c.expires + EXCLUDED.expires;
    ELSE
        INSERT INTO @schema@.rcount AS c (db, shard, keys, expires)
            VALUES (OLD.db, pg_backend_pid() % 64, -1, -(OLD.expire_at IS NOT NULL)::int),
                   (NEW.db, pg_backend_pid() % 64, 1, (NEW.expire_at IS NOT NULL)::int)
            ON CONFLICT (db, shard) DO UPDATE SET keys = c.keys + EXCLUDED.keys, expires = c.expires + EXCLUDED.expires;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS rkey_count_update ON rkey;
CREATE TRIGGER rkey_count_update AFTER UPDATE OF db, expire_at ON rkey
    FOR EACH ROW
    WHEN (OLD.db <> NEW.db OR (OLD.expire_at IS NULL) <> (NEW.expire_at IS NULL))
    EXECUTE FUNCTION rkey_count_change();

-- The keys there already (a version 2 schema being migrated).
DELETE FROM rcount;
INSERT INTO rcount (db, shard, keys, expires) SELECT db, 0, count(*), count(expire_at) FROM rkey GROUP BY db;
