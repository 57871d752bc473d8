//! Converting replies into typed results, shared by the typed handles.

use crate::Error;
use crate::resp::Reply;
use bytes::Bytes;

/// The error for a reply of an unexpected shape (a bug, if it ever happens).
pub(crate) fn unexpected<T>(reply: Reply) -> Result<T, Error> {
    Err(Error::Redis(format!("unexpected reply {reply:?}")))
}

/// An integer reply.
pub(crate) fn int(reply: Reply) -> Result<i64, Error> {
    match reply {
        Reply::Int(n) => Ok(n),
        other => unexpected(other),
    }
}

/// A bulk string that must be there.
pub(crate) fn bulk(reply: Reply) -> Result<Bytes, Error> {
    match reply {
        Reply::Bulk(b) => Ok(b),
        other => unexpected(other),
    }
}

/// A bulk string or a null.
pub(crate) fn optional(reply: Reply) -> Result<Option<Bytes>, Error> {
    match reply {
        Reply::Bulk(b) => Ok(Some(b)),
        Reply::Nil | Reply::NilArray => Ok(None),
        other => unexpected(other),
    }
}

/// The items of an array or set reply (a null array reads as empty).
pub(crate) fn array(reply: Reply) -> Result<Vec<Reply>, Error> {
    match reply {
        Reply::Array(items) | Reply::Set(items) => Ok(items),
        Reply::Nil | Reply::NilArray => Ok(Vec::new()),
        other => unexpected(other),
    }
}

/// An array (or set) of bulk strings.
pub(crate) fn bulks(reply: Reply) -> Result<Vec<Bytes>, Error> {
    array(reply)?.into_iter().map(bulk).collect()
}
