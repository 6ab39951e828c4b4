//! Who you are: bearer tokens are verified once per request into a [`Viewer`] carrying a
//! [`Role`]. An absent token means anonymous; a token that fails to verify is an error, never a
//! silent downgrade to anonymous.

pub mod cli;
pub mod cursor_key;
pub mod dev_secret;
mod role;
mod token;

pub use cursor_key::{CursorKey, CursorKeyError};
pub use role::Role;
pub use token::{
    AuthError, KeyConfigError, Rejection, TokenIssuer, TokenVerifier, check_hmac_secret,
};

/// The verified identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The caller's role, from the token.
    pub role: Role,
    /// The caller's own customer id (employees are internal customers too).
    pub customer_id: i32,
    /// When the token expires, as seconds since the Unix epoch.
    pub expires_at: i64,
}

/// The identity of one request: `None` is an anonymous caller.
#[derive(Debug, Clone, Default)]
pub struct Caller(pub Option<Viewer>);

impl Caller {
    /// The verified viewer, if any.
    pub fn viewer(&self) -> Option<&Viewer> {
        self.0.as_ref()
    }

    /// The caller's role, `None` when anonymous.
    pub fn role(&self) -> Option<Role> {
        self.0.as_ref().map(|v| v.role)
    }
}
