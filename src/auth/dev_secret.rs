//! Dev mode's signing secret. With no key configured the gateway signs its own HS256 tokens;
//! on SQLite it keeps the secret in a file beside the database (`crm.db` → `crm.db.jwt-secret`,
//! mode 0600), created on first start and reused afterwards, so tokens printed at one start keep
//! working after a restart and `crm-gateway token` mints tokens the running gateway accepts.
//!
//! PostgreSQL gets no file: it is the backend for several replicas on several machines, which a
//! file on one machine's disk cannot serve. There the secret lives in memory only (tokens end
//! with the process and differ per replica); configure `JWT_SECRET` instead.

use std::{
    io::Write,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

use super::token::{KeyConfigError, check_hmac_secret};

/// Where dev mode's secret is kept for `database_url`: beside a SQLite file; `None` for
/// PostgreSQL and in-memory SQLite.
pub fn file_for(database_url: &str) -> Option<PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || options.contains("mode=memory") {
        return None;
    }
    let mut file = PathBuf::from(path).into_os_string();
    file.push(".jwt-secret");
    Some(PathBuf::from(file))
}

/// The secret kept in `path`, created (randomly, mode 0600) when there is none yet.
pub fn load_or_create(path: &Path) -> Result<String, KeyConfigError> {
    match load(path)? {
        Some(secret) => Ok(secret),
        None => create(path),
    }
}

/// The secret kept in `path`, if the file exists; refused when others may read it.
pub fn load(path: &Path) -> Result<Option<String>, KeyConfigError> {
    let shown = path.display();
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(KeyConfigError::new(format!("cannot read {shown}: {err}"))),
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyConfigError::new(format!(
            "{shown} holds the dev signing secret but other users may read it (mode {mode:o}): \
             run `chmod 600 {shown}`, or delete it to get a new secret"
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|err| KeyConfigError::new(format!("cannot read {shown}: {err}")))?;
    let secret = text.trim().to_owned();
    check_hmac_secret(&secret).map_err(|err| {
        KeyConfigError::new(format!("{shown}: {err}; delete it to get a new one"))
    })?;
    Ok(Some(secret))
}

/// Writes a fresh secret to `path` without ever exposing a partly written file: it is written
/// to a private temporary file and linked into place, which fails if another process got there
/// first — then that process's secret is the one to use.
fn create(path: &Path) -> Result<String, KeyConfigError> {
    let secret = random_secret();
    let failed = |err: std::io::Error| {
        KeyConfigError::new(format!("cannot create {}: {err}", path.display()))
    };
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut file| file.write_all(format!("{secret}\n").as_bytes()));
    let linked = written.and_then(|()| std::fs::hard_link(&temporary, path));
    std::fs::remove_file(&temporary).ok();
    match linked {
        Ok(()) => Ok(secret),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            load(path)?.ok_or_else(|| KeyConfigError::new(format!("{} vanished", path.display())))
        }
        Err(err) => Err(failed(err)),
    }
}

/// 48 random alphanumeric characters (about 285 bits).
pub fn random_secret() -> String {
    use rand::{Rng, distr::Alphanumeric};
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(48)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_file_sits_beside_a_sqlite_file_only() {
        assert_eq!(
            file_for("sqlite://crm.db?mode=rwc"),
            Some(PathBuf::from("crm.db.jwt-secret"))
        );
        assert_eq!(
            file_for("sqlite:///var/lib/crm/data.db"),
            Some(PathBuf::from("/var/lib/crm/data.db.jwt-secret"))
        );
        assert_eq!(file_for("sqlite::memory:"), None);
        assert_eq!(file_for("sqlite://x.db?mode=memory"), None);
        assert_eq!(file_for("postgres://postgres@localhost/crm"), None);
    }

    #[test]
    fn a_secret_is_created_private_then_reused_and_refused_once_others_can_read_it() {
        let dir = std::env::temp_dir().join(format!("crm-dev-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("crm.db.jwt-secret");
        std::fs::remove_file(&path).ok();

        let first = load_or_create(&path).unwrap();
        assert!(first.len() >= 32);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            load_or_create(&path).unwrap(),
            first,
            "reused, not replaced"
        );

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = load_or_create(&path).unwrap_err().to_string();
        assert!(refused.contains("chmod 600"), "{refused}");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::fs::write(&path, "short\n").unwrap();
        assert!(
            load(&path)
                .unwrap_err()
                .to_string()
                .contains("at least 32 bytes")
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
