//! Key files: an agency's ed25519 key as JSON.
//!
//! ```json
//! { "warning": "INSECURE DEVELOPMENT KEY …", "agency": "cn-sfh-amr", "role": "issuer",
//!   "public_key": "<hex>", "secret_seed": "<hex>" }
//! ```
//! The public key is checked against the seed when the file is read.

use std::path::Path;

use credex_crypto::{PublicKey, SecretKey};
use credex_types::{AgencyId, SubjectId};

/// The marker written into development key files.
pub const DEV_WARNING: &str =
    "INSECURE DEVELOPMENT KEY: for local demo chains only (credex dev, the devnet); never use it for a real agency";

/// A key file's content.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct KeyFile {
    /// Why this key must not be trusted, if it must not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The agency the key belongs to.
    pub agency: AgencyId,
    /// `issuer`, `validator`, `p2p`, `official` or `platform`.
    pub role: String,
    /// For `official` and `platform` keys: the client id registered in the node's clients.toml.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Public key (hex).
    pub public_key: PublicKey,
    /// RFC 8032 seed (hex).
    pub secret_seed: String,
}

impl KeyFile {
    /// A new key file for `agency` in `role`.
    pub fn generate(agency: AgencyId, role: &str, warning: Option<&str>) -> Result<(KeyFile, SecretKey), FileError> {
        let key = SecretKey::generate().map_err(|e| FileError::Randomness(e.to_string()))?;
        let file = KeyFile {
            warning: warning.map(str::to_string),
            agency,
            role: role.to_string(),
            client: None,
            public_key: key.public(),
            secret_seed: hex::encode(key.seed()),
        };
        Ok((file, key))
    }

    /// Reads and checks a key file.
    pub fn read(path: &Path) -> Result<(KeyFile, SecretKey), FileError> {
        let file: KeyFile = read_json(path)?;
        let key = checked_key(path, &file.secret_seed, &file.public_key)?;
        Ok((file, key))
    }

    /// Writes the file, readable by the owner only.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        write_private(path, self)
    }
}

/// A subject's (trader's) key file: the key a registrar binds on chain and
/// the subject signs its commitments, repair applications and objections with.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SubjectKeyFile {
    /// Why this key must not be trusted, if it must not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The subject the key belongs to.
    pub subject: SubjectId,
    /// Always `subject`.
    pub role: String,
    /// Public key (hex).
    pub public_key: PublicKey,
    /// RFC 8032 seed (hex).
    pub secret_seed: String,
}

impl SubjectKeyFile {
    /// A new key for `subject`.
    pub fn generate(subject: SubjectId, warning: Option<&str>) -> Result<(SubjectKeyFile, SecretKey), FileError> {
        let key = SecretKey::generate().map_err(|e| FileError::Randomness(e.to_string()))?;
        let file = SubjectKeyFile {
            warning: warning.map(str::to_string),
            subject,
            role: "subject".into(),
            public_key: key.public(),
            secret_seed: hex::encode(key.seed()),
        };
        Ok((file, key))
    }

    /// Reads and checks a subject key file.
    pub fn read(path: &Path) -> Result<(SubjectKeyFile, SecretKey), FileError> {
        let file: SubjectKeyFile = read_json(path)?;
        let key = checked_key(path, &file.secret_seed, &file.public_key)?;
        Ok((file, key))
    }

    /// Writes the file, readable by the owner only.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        write_private(path, self)
    }
}

/// Why a key or clients file cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not what it should be.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The system has no randomness to make a key.
    #[error("no randomness: {0}")]
    Randomness(String),
}

impl FileError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> FileError {
        FileError::Io { path: path.display().to_string(), source }
    }

    pub(crate) fn invalid(path: &Path, reason: impl std::fmt::Display) -> FileError {
        FileError::Invalid { path: path.display().to_string(), reason: reason.to_string() }
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, FileError> {
    let text = std::fs::read_to_string(path).map_err(|e| FileError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| FileError::invalid(path, format!("not a key file: {e}")))
}

fn checked_key(path: &Path, seed_hex: &str, public: &PublicKey) -> Result<SecretKey, FileError> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(seed_hex, &mut seed)
        .map_err(|_| FileError::invalid(path, "secret_seed must be 64 hex digits"))?;
    let key = SecretKey::from_seed(seed);
    if key.public() != *public {
        return Err(FileError::invalid(path, "public_key does not belong to secret_seed"));
    }
    Ok(key)
}

fn write_private<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), FileError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| FileError::invalid(path, e))?;
    std::fs::write(path, text + "\n").map_err(|e| FileError::io(path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| FileError::io(path, e))?;
    }
    Ok(())
}
