//! RESP, the Redis serialization protocol (versions 2 and 3).
//!
//! * [`request`] turns bytes from a client into commands (`Vec<Bytes>` argument
//!   vectors), both the multibulk form that clients send and the inline form
//!   typed into telnet, with Redis's limits and error texts.
//! * [`Reply`] is one value a command answers with; [`Reply::write`] renders it
//!   in the protocol version that the connection negotiated with `HELLO`.
//! * [`value`] parses RESP3 replies (used for the command-table data file and
//!   by tests).

pub mod reply;
pub mod request;
pub mod value;

pub use reply::Reply;
pub use request::{ParseError, RequestParser};
