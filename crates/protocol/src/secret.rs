//! Secret newtypes that never print their contents.

use std::fmt;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// `Debug` prints a placeholder and there is no `Display`, so the value cannot leak
        /// into logs or error messages by accident. Read it with
        #[doc = concat!("[`", stringify!($name), "::expose_secret`].")]
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret itself.
            ///
            /// Security: never log or display the returned value.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

secret_type!(
    /// The Secret Key of a Baidu AI application (or the Secret Access Key of a Baidu
    /// Cloud account for bce-auth-v1 signing).
    SecretKey
);
secret_type!(
    /// An OAuth access token, sent as the `access_token` query parameter.
    AccessToken
);

impl AccessToken {
    /// Compares two tokens in constant time with respect to their contents.
    pub fn same_as(&self, other: &Self) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = SecretKey::new("sentinel-secret");
        let t = AccessToken::new("sentinel-token");
        assert_eq!(format!("{s:?}"), "SecretKey(<redacted>)");
        assert_eq!(format!("{t:#?}"), "AccessToken(<redacted>)");
        assert_eq!(s.expose_secret(), "sentinel-secret");
    }

    #[test]
    fn token_comparison() {
        assert!(AccessToken::new("abc").same_as(&AccessToken::new("abc")));
        assert!(!AccessToken::new("abc").same_as(&AccessToken::new("abd")));
        assert!(!AccessToken::new("abc").same_as(&AccessToken::new("abcd")));
    }
}
