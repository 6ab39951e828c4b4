//! The one error type of the gateway and the one place that maps it to a GraphQL
//! `extensions.code`. Internal causes are logged here and never reach a client.

use async_graphql::ErrorExtensions;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while serving a request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// No valid identity where one is required (or a token failed to verify).
    #[error("{0}")]
    Unauthenticated(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The record does not exist, or the caller may not know that it exists.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. "customer".
        what: &'static str,
    },
    /// An argument is malformed or out of range.
    #[error("{field}: {message}")]
    BadInput {
        /// The argument or input field at fault.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The write lost a race (stale version) or breaks a uniqueness rule.
    #[error("{0}")]
    Conflict(String),
    /// The database cannot be reached right now.
    #[error("service temporarily unavailable, try again shortly")]
    Unavailable,
    /// A bug or an unexpected failure; details are in the server log only.
    #[error("internal server error")]
    Internal,
}

impl Error {
    /// Shorthand for [`Error::BadInput`].
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Logs an unexpected failure with its context and returns the opaque [`Error::Internal`].
    pub fn internal(context: &str, cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "{context}");
        Error::Internal
    }

    /// The stable machine-readable code clients branch on (Apollo conventions).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthenticated(_) => "UNAUTHENTICATED",
            Error::Forbidden(_) => "FORBIDDEN",
            Error::NotFound { .. } => "NOT_FOUND",
            Error::BadInput { .. } => "BAD_USER_INPUT",
            Error::Conflict(_) => "CONFLICT",
            Error::Unavailable => "SERVICE_UNAVAILABLE",
            Error::Internal => "INTERNAL_SERVER_ERROR",
        }
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(err: sea_orm::DbErr) -> Self {
        use sea_orm::{DbErr, RuntimeErr};
        // A connection that broke mid-statement (I/O, pool closed) is an outage too, not a bug.
        let broken = |e: &RuntimeErr| {
            matches!(e, RuntimeErr::SqlxError(e) if matches!(
                e.as_ref(),
                sea_orm::sqlx::Error::Io(_)
                    | sea_orm::sqlx::Error::PoolTimedOut
                    | sea_orm::sqlx::Error::PoolClosed
                    | sea_orm::sqlx::Error::WorkerCrashed
            ))
        };
        match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
                tracing::warn!(cause = %err, "database unavailable");
                Error::Unavailable
            }
            DbErr::Query(ref e) | DbErr::Exec(ref e) if broken(e) => {
                tracing::warn!(cause = %err, "database connection lost");
                Error::Unavailable
            }
            other => Error::internal("database error", other),
        }
    }
}

impl ErrorExtensions for Error {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, ext| {
            ext.set("code", self.code());
            if let Error::BadInput { field, .. } = self {
                ext.set("field", field.as_str());
            }
        })
    }
}

impl From<Error> for async_graphql::Error {
    fn from(err: Error) -> Self {
        err.extend()
    }
}
