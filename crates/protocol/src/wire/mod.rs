//! Layer 2, the wire: request bodies written ([`encode`]) and read back on the server
//! side ([`decode_request`]), the form and base64 codecs they share ([`form`]), operation
//! replies ([`reply`]) and the token endpoint's request and reply ([`token`]).

pub(crate) mod decode_request;
pub(crate) mod encode;
pub(crate) mod form;
pub(crate) mod reply;
pub(crate) mod token;
