use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use hkdf::Hkdf;
use rand::TryRng;
use rand::rngs::SysRng;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

/// The server's master secret. Never printed: `Debug` shows a redaction;
/// wiped from memory when dropped.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

/// Where the secret came from, for the start-up log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Environment,
    File(PathBuf),
    CreatedFile(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "SECRET_KEY: must be set when DATABASE_URL is PostgreSQL, so that every server process shares it"
    )]
    RequiredForPostgres,
    #[error("SECRET_KEY: cannot read or create {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("SECRET_KEY: the file {0} holds too short a secret (at least 32 characters)")]
    TooShort(PathBuf),
}

impl SecretKey {
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> SecretKey {
        SecretKey(Zeroizing::new(bytes.into()))
    }

    /// `SECRET_KEY` if given; otherwise, for SQLite, the secret kept in a
    /// file beside the database (created once, mode 0600).
    pub fn resolve(
        configured: Option<&SecretString>,
        sqlite_path: Option<&str>,
    ) -> Result<(SecretKey, SecretSource), SecretError> {
        if let Some(key) = configured {
            return Ok((
                SecretKey::from_bytes(key.expose_secret().as_bytes()),
                SecretSource::Environment,
            ));
        }
        let Some(db_path) = sqlite_path else {
            return Err(SecretError::RequiredForPostgres);
        };
        let path = secret_file_for(Path::new(db_path));
        let file_error = |source| SecretError::File {
            path: path.clone(),
            source,
        };
        match fs::read_to_string(&path).map(Zeroizing::new) {
            Ok(text) => {
                let text = text.trim();
                if text.len() < 32 {
                    return Err(SecretError::TooShort(path));
                }
                Ok((
                    SecretKey::from_bytes(text.as_bytes()),
                    SecretSource::File(path),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                SysRng
                    .try_fill_bytes(&mut bytes)
                    .map_err(|e| file_error(std::io::Error::other(e.to_string())))?;
                let text = Zeroizing::new(hex::encode(bytes));
                bytes.zeroize();
                // create_new: two processes starting at once cannot both write.
                match fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                {
                    Ok(mut file) => {
                        file.write_all(text.as_bytes())
                            .and_then(|_| file.sync_all())
                            .map_err(file_error)?;
                        Ok((
                            SecretKey::from_bytes(text.as_bytes()),
                            SecretSource::CreatedFile(path),
                        ))
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        SecretKey::resolve(None, sqlite_path)
                    }
                    Err(e) => Err(file_error(e)),
                }
            }
            Err(e) => Err(file_error(e)),
        }
    }

    /// An `N`-byte key for one purpose: HKDF-SHA256 (no salt) with `label`
    /// as info.
    pub fn derive<const N: usize>(&self, label: &[u8]) -> [u8; N] {
        let mut out = [0u8; N];
        Hkdf::<Sha256>::new(None, self.0.as_slice())
            .expand(label, &mut out)
            .expect("N is far below HKDF-SHA256's output limit");
        out
    }
}

/// `authtoken.sqlite3` → `authtoken.sqlite3.secret`, in the same folder.
pub fn secret_file_for(db_path: &Path) -> PathBuf {
    let mut name = db_path.file_name().unwrap_or_default().to_os_string();
    name.push(".secret");
    db_path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn hkdf_known_answer() {
        // RFC 5869 test case 3 (SHA-256, no salt, no info), first 32 bytes.
        let secret = SecretKey::from_bytes(vec![0x0b; 22]);
        assert_eq!(
            hex::encode(secret.derive::<32>(b"")),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
        );
    }

    #[test]
    fn labels_give_different_keys() {
        let secret = SecretKey::from_bytes(b"x".repeat(40));
        assert_ne!(
            secret.derive::<32>(crate::crypto::TOKEN_SEALING_LABEL),
            secret.derive::<32>(crate::crypto::SESSION_COOKIE_LABEL)
        );
    }

    #[test]
    fn postgres_requires_a_configured_secret() {
        assert!(matches!(
            SecretKey::resolve(None, None),
            Err(SecretError::RequiredForPostgres)
        ));
    }

    #[test]
    fn creates_the_file_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db.sqlite3");
        let db = db.to_str().unwrap();
        let (first, source) = SecretKey::resolve(None, Some(db)).unwrap();
        let path = dir.path().join("db.sqlite3.secret");
        assert_eq!(source, SecretSource::CreatedFile(path.clone()));
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, source) = SecretKey::resolve(None, Some(db)).unwrap();
        assert_eq!(source, SecretSource::File(path));
        assert_eq!(first.derive::<32>(b"a"), again.derive::<32>(b"a"));
        assert_eq!(format!("{first:?}"), "SecretKey([redacted])");
    }
}
