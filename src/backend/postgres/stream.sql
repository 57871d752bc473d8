-- redsql schema for PostgreSQL, version 4: streams (type 5). Runs after the
-- earlier scripts (new schemas) or alone (a version 3 schema migrated), with
-- search_path set to the store's schema.
--
-- Ids are two unsigned 64-bit numbers, stored with their top bit flipped so
-- that signed order is id order (store::stream::to_sql: 0 is stored as
-- -9223372036854775808; the views show the real ids).

-- Entries, one row each; `fields` alternates fields and values.
CREATE TABLE IF NOT EXISTS rstream (
    key_id bigint  NOT NULL,
    ms     bigint  NOT NULL,
    seq    bigint  NOT NULL,
    fields bytea[] NOT NULL,
    PRIMARY KEY (key_id, ms, seq)
);

-- One row per stream: last id, entries added, max deleted id.
CREATE TABLE IF NOT EXISTS rstream_meta (
    key_id     bigint PRIMARY KEY,
    last_ms    bigint NOT NULL,
    last_seq   bigint NOT NULL,
    added      bigint NOT NULL,
    maxdel_ms  bigint NOT NULL,
    maxdel_seq bigint NOT NULL
);

-- Consumer groups: last delivered id, entries read (-1: unknown).
CREATE TABLE IF NOT EXISTS rstream_group (
    key_id       bigint NOT NULL,
    name         bytea  NOT NULL,
    last_ms      bigint NOT NULL,
    last_seq     bigint NOT NULL,
    entries_read bigint NOT NULL,
    PRIMARY KEY (key_id, name)
);

CREATE TABLE IF NOT EXISTS rstream_consumer (
    key_id  bigint NOT NULL,
    grp     bytea  NOT NULL,
    name    bytea  NOT NULL,
    seen    bigint NOT NULL,             -- last seen, Unix ms
    pending bigint NOT NULL DEFAULT 0,   -- its rows in rstream_pending (triggers below)
    PRIMARY KEY (key_id, grp, name)
);

-- Pending entries (the PEL): delivered to a consumer, not yet acknowledged.
CREATE TABLE IF NOT EXISTS rstream_pending (
    key_id    bigint NOT NULL,
    grp       bytea  NOT NULL,
    ms        bigint NOT NULL,
    seq       bigint NOT NULL,
    consumer  bytea  NOT NULL,
    delivered bigint NOT NULL,           -- last delivery, Unix ms
    count     bigint NOT NULL,           -- deliveries
    PRIMARY KEY (key_id, grp, ms, seq)
);
CREATE INDEX IF NOT EXISTS rstream_pending_consumer ON rstream_pending (key_id, grp, consumer, ms, seq);

-- Each consumer's pending count, kept whatever the statement: XPENDING's
-- summary and XINFO read the consumers, not the pending entries.
CREATE OR REPLACE FUNCTION rstream_pending_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE rstream_consumer SET pending = pending - 1
        WHERE key_id = OLD.key_id AND grp = OLD.grp AND name = OLD.consumer;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE rstream_consumer SET pending = pending + 1
        WHERE key_id = NEW.key_id AND grp = NEW.grp AND name = NEW.consumer;
    END IF;
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER rstream_pending_count AFTER INSERT OR DELETE ON rstream_pending
    FOR EACH ROW EXECUTE FUNCTION rstream_pending_count();
CREATE OR REPLACE TRIGGER rstream_pending_moved AFTER UPDATE OF consumer ON rstream_pending
    FOR EACH ROW WHEN (OLD.consumer IS DISTINCT FROM NEW.consumer) EXECUTE FUNCTION rstream_pending_count();

-- The real value of a stored id part.
CREATE OR REPLACE FUNCTION rstream_u64(n bigint) RETURNS numeric
    LANGUAGE sql IMMUTABLE AS 'SELECT n::numeric + 9223372036854775808';

CREATE OR REPLACE VIEW vstream AS
SELECT k.id AS key_id, k.db, k.key, rstream_u64(e.ms) || '-' || rstream_u64(e.seq) AS id, e.fields, k.expire_at
FROM rkey k JOIN rstream e ON e.key_id = k.id
WHERE k.type = 5 AND (k.expire_at IS NULL OR k.expire_at > (extract(epoch FROM clock_timestamp()) * 1000)::bigint);

CREATE OR REPLACE VIEW vstream_group AS
SELECT k.id AS key_id, k.db, k.key, g.name AS "group",
       rstream_u64(g.last_ms) || '-' || rstream_u64(g.last_seq) AS last_delivered_id, g.entries_read
FROM rkey k JOIN rstream_group g ON g.key_id = k.id
WHERE k.type = 5 AND (k.expire_at IS NULL OR k.expire_at > (extract(epoch FROM clock_timestamp()) * 1000)::bigint);

CREATE OR REPLACE VIEW vstream_pending AS
SELECT k.id AS key_id, k.db, k.key, p.grp AS "group", rstream_u64(p.ms) || '-' || rstream_u64(p.seq) AS id,
       p.consumer, p.delivered, p.count
FROM rkey k JOIN rstream_pending p ON p.key_id = k.id
WHERE k.type = 5 AND (k.expire_at IS NULL OR k.expire_at > (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
