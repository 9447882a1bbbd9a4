//! Layer 4, the call machines, in dependency order: the [`step`] protocol every machine
//! speaks; the client state a call holds ([`shared`]); one operation call ([`call`]) and
//! one token fetch ([`token_call`]); starting them from a session ([`session`]); and the
//! drivers that run a machine over a transport ([`drive`]).

pub(crate) mod call;
pub(crate) mod drive;
pub(crate) mod session;
pub(crate) mod shared;
pub(crate) mod step;
pub(crate) mod token_call;
