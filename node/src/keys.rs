//! Key files: an agency's ed25519 key as JSON.
//!
//! ```json
//! { "warning": "INSECURE DEVELOPMENT KEY …", "agency": "cn-sfh-amr", "role": "issuer",
//!   "public_key": "<hex>", "secret_seed": "<hex>" }
//! ```
//! The public key is checked against the seed when the file is read.

use std::path::Path;

use anyhow::Context as _;
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
    pub fn generate(agency: AgencyId, role: &str, warning: Option<&str>) -> anyhow::Result<(KeyFile, SecretKey)> {
        let key = SecretKey::generate().map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
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
    pub fn read(path: &Path) -> anyhow::Result<(KeyFile, SecretKey)> {
        let file: KeyFile = read_json(path)?;
        let key = checked_key(path, &file.secret_seed, &file.public_key)?;
        Ok((file, key))
    }

    /// Writes the file, readable by the owner only.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
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
    pub fn generate(subject: SubjectId, warning: Option<&str>) -> anyhow::Result<(SubjectKeyFile, SecretKey)> {
        let key = SecretKey::generate().map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
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
    pub fn read(path: &Path) -> anyhow::Result<(SubjectKeyFile, SecretKey)> {
        let file: SubjectKeyFile = read_json(path)?;
        let key = checked_key(path, &file.secret_seed, &file.public_key)?;
        Ok((file, key))
    }

    /// Writes the file, readable by the owner only.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        write_private(path, self)
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading key file {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("key file {}", path.display()))
}

fn checked_key(path: &Path, seed_hex: &str, public: &PublicKey) -> anyhow::Result<SecretKey> {
    let mut seed = [0u8; 32];
    hex::decode_to_slice(seed_hex, &mut seed)
        .with_context(|| format!("key file {}: secret_seed must be 64 hex digits", path.display()))?;
    let key = SecretKey::from_seed(seed);
    anyhow::ensure!(key.public() == *public, "key file {}: public_key does not belong to secret_seed", path.display());
    Ok(key)
}

fn write_private<T: serde::Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}
