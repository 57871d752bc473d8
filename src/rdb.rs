//! Redis's serialization format (RDB) for DUMP and RESTORE.
