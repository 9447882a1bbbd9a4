//! Self-verifying access tokens (`--token-secret`): several emulator instances accept
//! each other's tokens without sharing a store. A token is
//! `24.EXPIRY-NONCE.TTL.MAC`, the MAC an HMAC-SHA256 of `EXPIRY-NONCE` under the secret.

use baidu_imageprocess_protocol::SecretKey;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::state::TokenCheck;

fn mac(secret: &SecretKey, payload: &str) -> String {
    // HMAC takes keys of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()) else {
        return String::new();
    };
    mac.update(payload.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// A token valid until `expiry` (Unix seconds).
pub(crate) fn issue(secret: &SecretKey, nonce: u64, expiry: u64, ttl: u64) -> String {
    let payload = format!("{expiry}-{nonce:016x}");
    let mac = mac(secret, &payload);
    format!("24.{payload}.{ttl}.{mac}")
}

/// How a signed token fares at `now`; `None` if it is not one signed with `secret`.
pub(crate) fn check(secret: &SecretKey, token: &str, now: u64) -> Option<TokenCheck> {
    let mut parts = token.strip_prefix("24.")?.split('.');
    let (payload, ttl, given) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let expected = mac(secret, payload);
    // Constant-time comparison: the MAC is a secret-derived value.
    let same = expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same || expected.is_empty() {
        return None;
    }
    let expiry: u64 = payload.split_once('-')?.0.parse().ok()?;
    let ttl: u64 = ttl.parse().ok()?;
    Some(if now < expiry {
        TokenCheck::Valid
    } else if now < expiry.saturating_add(ttl) {
        // As unsigned tokens: "expired" (111) for one more lifetime, then unknown (110).
        TokenCheck::Expired
    } else {
        TokenCheck::Unknown
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_under_their_secret_only() {
        let secret = SecretKey::new("s3cret".to_owned());
        let token = issue(&secret, 7, 1_000, 100);
        assert!(matches!(
            check(&secret, &token, 999),
            Some(TokenCheck::Valid)
        ));
        assert!(matches!(
            check(&secret, &token, 1_050),
            Some(TokenCheck::Expired)
        ));
        assert!(matches!(
            check(&secret, &token, 1_100),
            Some(TokenCheck::Unknown)
        ));
        let other = SecretKey::new("other".to_owned());
        assert!(check(&other, &token, 999).is_none());
        let forged = token.replace("1000-", "9000-");
        assert!(check(&secret, &forged, 999).is_none());
    }
}
