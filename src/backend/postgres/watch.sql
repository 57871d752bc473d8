-- redsql schema for PostgreSQL, version 2: WATCH of keys that do not exist,
-- across every redsql process sharing the store. Runs after schema.sql (new
-- schemas) or alone (a version 1 schema migrated), with search_path set to
-- the store's schema; @schema@ is replaced by its quoted name.
--
-- A client that WATCHes a missing key registers a row here; a write that
-- creates the key, in any process, deletes the key's rows in the creating
-- statement itself (the triggers below). EXEC runs only if the client's row
-- is still there. Rows are removed when the watch ends (EXEC, DISCARD,
-- UNWATCH, RESET, a closed connection), and the rows of a process that died
-- by any process's expiry sweeper: `owner` names a session-level advisory
-- lock (`pg_advisory_lock_shared(tag, owner)`) that the owner's writer
-- connection holds while it lives.
CREATE TABLE IF NOT EXISTS rwatch (
    id    bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- the watch
    db    integer NOT NULL,                                  -- the key watched
    key   bytea   NOT NULL,
    owner integer NOT NULL                                   -- the watching process (its lock)
);
CREATE INDEX IF NOT EXISTS rwatch_db_key ON rwatch (db, key);

-- A key came to exist: the watches of it (while it was missing) are broken.
-- The table is named with its schema: the function runs in whatever session
-- writes rkey, whatever its search_path.
CREATE OR REPLACE FUNCTION rkey_created() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM @schema@.rwatch WHERE db = NEW.db AND key = NEW.key;
    RETURN NULL;
END $$;

-- Every inserted key row is a creation: plain inserts, the inserted rows of
-- INSERT ... ON CONFLICT DO UPDATE (the deferred string writes), COPY ...
DROP TRIGGER IF EXISTS rkey_inserted ON rkey;
CREATE TRIGGER rkey_inserted AFTER INSERT ON rkey
    FOR EACH ROW EXECUTE FUNCTION rkey_created();

-- ... and so is an update that gives a row a new name or database (RENAME,
-- MOVE, SWAPDB), or rewrites a row that has an expiry: the only writes that
-- update a row whose key is expired are the ones replacing it in place (SET,
-- the deferred upsert, a collection made a string), creations for clients.
-- A live row with an expiry rewritten fires it too, harmlessly: nobody can
-- be watching that key as missing (it was created since, which already
-- removed those watches). Updates of other columns (a collection's length
-- and version, INCR without expiry) do not even evaluate the condition.
DROP TRIGGER IF EXISTS rkey_renamed ON rkey;
CREATE TRIGGER rkey_renamed AFTER UPDATE OF db, key, expire_at ON rkey
    FOR EACH ROW
    WHEN (OLD.expire_at IS NOT NULL OR OLD.key <> NEW.key OR OLD.db <> NEW.db)
    EXECUTE FUNCTION rkey_created();
