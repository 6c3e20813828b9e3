//! The clients file (`clients.toml`, spec §12.1): the officials and
//! platforms a node serves, each with its role, agency and key.

use std::path::Path;

use credex_crypto::PublicKey;
use credex_types::AgencyId;
use credex_types::access::Role;

use crate::FileError;

/// A registered API client (an agency's official or a platform).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Client {
    /// Client id, sent as `X-Credex-Client`.
    pub id: String,
    /// `official` or `platform`.
    pub role: Role,
    /// The agency (or platform operator) it acts for.
    pub agency: AgencyId,
    /// Its public key.
    pub key: PublicKey,
}

/// The clients file (`clients.toml`): `[[clients]]` tables.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Clients {
    /// The clients.
    #[serde(default)]
    pub clients: Vec<Client>,
}

impl Clients {
    /// Reads and checks a clients file (unique ids, roles official or platform).
    pub fn read(path: &Path) -> Result<Clients, FileError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError::io(path, e))?;
        let c: Clients =
            toml::from_str(&text).map_err(|e| FileError::invalid(path, format!("not a clients file: {e}")))?;
        for (i, x) in c.clients.iter().enumerate() {
            if !matches!(x.role, Role::Official | Role::Platform) {
                return Err(FileError::invalid(
                    path,
                    format!(
                        "client {} has role {}; clients are official or platform (issuers and subjects use their chain keys)",
                        x.id, x.role
                    ),
                ));
            }
            if c.clients[..i].iter().any(|y| y.id == x.id) {
                return Err(FileError::invalid(path, format!("client {} twice", x.id)));
            }
        }
        Ok(c)
    }

    /// Writes the file.
    pub fn write(&self, path: &Path) -> Result<(), FileError> {
        let text = toml::to_string_pretty(self).map_err(|e| FileError::invalid(path, e))?;
        std::fs::write(path, text).map_err(|e| FileError::io(path, e))
    }
}
