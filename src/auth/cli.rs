//! The `token` command: mints a token the gateway accepts, in one step. It signs with
//! `JWT_SECRET`, or in dev mode with the secret file beside the SQLite database (the same file the
//! running gateway uses), under the server's rules for secrets, and only for a customer the role
//! fits — it opens the database to check: clients are external customers, employees and
//! managers internal ones.

use entity::{customer, enums::CustomerKind};
use sea_orm::{Database, EntityTrait};

use super::{Role, TokenIssuer, dev_secret, token::check_hmac_secret};
use crate::config::{Config, TokenArgs, redact_url};

/// Why the command printed no token; the message says what to do.
pub type CliError = Box<dyn std::error::Error + Send + Sync>;

/// Prints a token for `args` signed the way the gateway configured by `config` verifies it.
pub async fn mint(config: &Config, args: &TokenArgs) -> Result<(), CliError> {
    let role: Role = args
        .role
        .parse()
        .map_err(|_| "--role must be employee, manager or client")?;
    if args.sub <= 0 {
        return Err("--sub must be a positive customer id".into());
    }
    let secret = signing_secret(config)?;
    check_fits(config, role, args.sub).await?;
    let secret = match secret {
        Secret::Configured(secret) => secret,
        Secret::DevFile(file) => dev_secret::load_or_create(&file)?,
    };
    let token = TokenIssuer::new(&secret, config).mint(role, args.sub, args.ttl)?;
    println!("{token}");
    Ok(())
}

/// Where the signing secret comes from.
enum Secret {
    /// `JWT_SECRET`, already checked.
    Configured(String),
    /// Dev mode's file, read (or created) only once the customer checks out.
    DevFile(std::path::PathBuf),
}

/// `JWT_SECRET`, else dev mode's secret file for the configured SQLite database.
fn signing_secret(config: &Config) -> Result<Secret, CliError> {
    if let Some(secret) = &config.jwt_secret {
        check_hmac_secret(secret)?;
        return Ok(Secret::Configured(secret.clone()));
    }
    if config.jwt_public_key_file.is_some() {
        return Err(
            "JWT_PUBLIC_KEY_FILE is set: the gateway accepts tokens signed by your \
                    identity provider's private key, which this command does not have"
                .into(),
        );
    }
    let file = dev_secret::file_for(&config.database_url).ok_or(
        "no JWT_SECRET: dev mode keeps its secret in a file only beside a SQLite database; \
         with PostgreSQL set JWT_SECRET (at least 32 bytes) for the gateway and this command",
    )?;
    Ok(Secret::DevFile(file))
}

/// Refuses a customer that does not exist or that `role` does not fit.
async fn check_fits(config: &Config, role: Role, id: i32) -> Result<(), CliError> {
    let url = read_only(&config.database_url);
    let shown = redact_url(&config.database_url);
    let db = Database::connect(url.as_str()).await.map_err(|err| {
        format!(
            "cannot open {shown} to check customer {id} (use the gateway's DATABASE_URL; \
                 start the gateway once to create and seed it): {err}"
        )
    })?;
    let found = customer::Entity::find_by_id(id).one(&db).await;
    db.close().await.ok();
    let customer = found
        .map_err(|err| {
            format!(
                "cannot read customers from {shown} (start the gateway once to create them): {err}"
            )
        })?
        .ok_or_else(|| format!("customer {id} does not exist in {shown}"))?;
    let fits = match role {
        Role::Client => customer.kind == CustomerKind::External,
        Role::Employee | Role::Manager => customer.kind == CustomerKind::Internal,
    };
    if fits {
        return Ok(());
    }
    let (kind, fitting) = match customer.kind {
        CustomerKind::External => ("an external customer", "client"),
        CustomerKind::Internal => ("an internal customer", "employee or manager"),
    };
    Err(format!(
        "customer {id} ({}) is {kind}: a {} token does not fit; use --role {fitting}",
        customer.name,
        role.as_claim()
    )
    .into())
}

/// The same database, opened read-only when it is a SQLite file, so checking a customer can
/// never create or change one.
fn read_only(url: &str) -> String {
    if !url.starts_with("sqlite:") {
        return url.to_owned();
    }
    let (path, options) = url.split_once('?').unwrap_or((url, ""));
    let kept: Vec<&str> = options
        .split('&')
        .filter(|o| !o.is_empty() && !o.starts_with("mode="))
        .chain(["mode=ro"])
        .collect();
    format!("{path}?{}", kept.join("&"))
}

#[cfg(test)]
mod tests {
    use super::read_only;

    #[test]
    fn sqlite_files_are_opened_read_only() {
        assert_eq!(
            read_only("sqlite://crm.db?mode=rwc"),
            "sqlite://crm.db?mode=ro"
        );
        assert_eq!(read_only("sqlite://crm.db"), "sqlite://crm.db?mode=ro");
        assert_eq!(
            read_only("postgres://postgres@localhost/crm"),
            "postgres://postgres@localhost/crm"
        );
    }
}
