//! How a client authenticates.

use crate::auth::sign::BceCredentials;
use crate::secret::{AccessToken, SecretKey};

/// How a client authenticates.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Credentials {
    /// An application's API Key and Secret Key, exchanged for access tokens (refreshed
    /// automatically).
    ApiKey {
        /// The API Key (`client_id`).
        api_key: String,
        /// The Secret Key (`client_secret`).
        secret_key: SecretKey,
    },
    /// A fixed access token obtained elsewhere (never refreshed).
    AccessToken(AccessToken),
    /// Baidu Cloud AK/SK, signing every request with bce-auth-v1 (no token).
    BceAuthV1(BceCredentials),
}

impl Credentials {
    /// API Key + Secret Key, exchanged for tokens.
    pub fn api_key(api_key: impl Into<String>, secret_key: impl Into<SecretKey>) -> Self {
        Self::ApiKey {
            api_key: api_key.into(),
            secret_key: secret_key.into(),
        }
    }

    /// A fixed access token.
    pub fn access_token(token: impl Into<AccessToken>) -> Self {
        Self::AccessToken(token.into())
    }

    /// Baidu Cloud Access Key ID + Secret Access Key, signing with bce-auth-v1.
    pub fn bce_auth_v1(access_key: impl Into<String>, secret_key: impl Into<SecretKey>) -> Self {
        Self::BceAuthV1(BceCredentials {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
        })
    }
}
