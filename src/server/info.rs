//! INFO: the sections that clients and tools parse.
