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
    /// The write lost a race (stale version) or breaks a rule about other rows.
    #[error("{0}")]
    Conflict(Conflict),
    /// The database cannot be reached right now.
    #[error("service temporarily unavailable, try again shortly")]
    Unavailable,
    /// A bug or an unexpected failure; details are in the server log only.
    #[error("internal server error")]
    Internal,
}

/// Why a write was refused with `CONFLICT`. Clients branch on `extensions.conflict`, never on
/// the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// The row moved on since the version the caller read.
    #[error("{what} {id} has changed since version {expected}: reload it and try again")]
    StaleVersion {
        /// What kind of row, e.g. "interaction".
        what: &'static str,
        /// Its id.
        id: i32,
        /// The version the caller named.
        expected: i32,
    },
    /// The row's status does not allow this step (say, closing an open interaction).
    #[error("only {allowed} interaction can be {action}")]
    WrongStatus {
        /// The statuses that allow it, e.g. "an open".
        allowed: &'static str,
        /// The step, e.g. "resolved".
        action: &'static str,
    },
    /// The interaction was rated already; a rating is given once.
    #[error("this interaction has already been rated")]
    AlreadyRated,
    /// The caller answered this week's pulse already.
    #[error("you already answered this week's pulse")]
    AlreadyAnswered,
    /// The e-mail address cannot be used. Deliberately silent about why: saying "someone else
    /// has it" would confirm another customer's address to whoever asks.
    #[error("this e-mail address cannot be used: choose a different one")]
    EmailUnavailable,
    /// Another department already has this name (department names are not secret inside).
    #[error("another department already has this name")]
    DepartmentName,
    /// A row the write refers to does not exist (any more).
    #[error("something this change refers to does not exist: reload and try again")]
    MissingReference,
    /// Another row already holds one of the unique values.
    #[error("another record already has one of these unique values")]
    Duplicate,
    /// The customer's personal data was erased; the record can no longer be changed.
    #[error("this customer's personal data has been erased")]
    Erased,
}

impl Conflict {
    /// The stable kind clients branch on, in `extensions.conflict`.
    pub fn kind(&self) -> &'static str {
        match self {
            Conflict::StaleVersion { .. } => "STALE_VERSION",
            Conflict::WrongStatus { .. } => "WRONG_STATUS",
            Conflict::AlreadyRated => "ALREADY_RATED",
            Conflict::AlreadyAnswered => "ALREADY_ANSWERED",
            Conflict::EmailUnavailable => "EMAIL_UNAVAILABLE",
            Conflict::DepartmentName => "DEPARTMENT_NAME_TAKEN",
            Conflict::MissingReference => "MISSING_REFERENCE",
            Conflict::Duplicate => "DUPLICATE",
            Conflict::Erased => "ERASED",
        }
    }
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
        // Constraint failures are the caller's (or a race's) doing, not a bug: they get a coded
        // answer whatever write hit them, so no forgotten check can surface as a 5xx.
        match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
                return Error::Conflict(Conflict::Duplicate);
            }
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                return Error::Conflict(Conflict::MissingReference);
            }
            _ => {}
        }
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
            match self {
                Error::BadInput { field, .. } => ext.set("field", field.as_str()),
                Error::Conflict(conflict) => ext.set("conflict", conflict.kind()),
                _ => {}
            }
        })
    }
}

impl From<Error> for async_graphql::Error {
    fn from(err: Error) -> Self {
        err.extend()
    }
}
