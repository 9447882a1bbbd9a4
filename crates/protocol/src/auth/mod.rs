//! Layer 3, authentication: bce-auth-v1 signatures ([`sign`]), the credentials a client
//! holds ([`credentials`]), the shared access-token cache ([`token_cache`]) and the
//! authorization of one operation request ([`authorize`]).

pub(crate) mod authorize;
pub(crate) mod credentials;
pub mod sign;
pub(crate) mod token_cache;
