//! The genesis file: the one thing an offline verifier trusts (spec §7).
//!
//! TOML on disk; its hash is over the canonical encoding, so formatting and
//! comments do not change it:
//! `genesis hash = H("credex/genesis/v1", encode(genesis))`.

use credex_crypto::{Hash32, PublicKey, domain, hash};

use crate::chain::{Names, Validator, ValidatorSet, ValidatorSetError};
use crate::ids::{AgencyId, ChainId, Jurisdiction};
use crate::kinds::AttestationKind;
use crate::labels::LabelTable;
use crate::time::Timestamp;

/// A validator as genesis lists it: the consensus fields plus its network identity.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct GenesisValidator {
    /// Operating agency.
    pub agency: AgencyId,
    /// Names in zh / ru / en.
    pub names: Names,
    /// Jurisdiction.
    pub jurisdiction: Jurisdiction,
    /// Consensus key (hex).
    pub key: PublicKey,
    /// Voting power.
    pub power: u64,
    /// libp2p peer id, if the validator is reachable on a network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
}

/// A non-voting node allowed to connect and follow the chain.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Observer {
    /// Operating agency.
    pub agency: AgencyId,
    /// Names in zh / ru / en.
    pub names: Names,
    /// Jurisdiction.
    pub jurisdiction: Jurisdiction,
    /// libp2p peer id.
    pub peer_id: String,
}

/// An agency allowed to issue attestations.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Issuer {
    /// The agency.
    pub agency: AgencyId,
    /// Names in zh / ru / en.
    pub names: Names,
    /// Jurisdiction.
    pub jurisdiction: Jurisdiction,
    /// Signing key (hex).
    pub key: PublicKey,
    /// Kinds it may issue.
    pub kinds: Vec<AttestationKind>,
}

/// The genesis document.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode, serde::Serialize, serde::Deserialize)]
pub struct Genesis {
    /// Chain name, in every header and attestation.
    pub chain_id: ChainId,
    /// Time of the genesis state.
    pub genesis_time: Timestamp,
    /// Hash of the label table in force.
    pub labels_hash: Hash32,
    /// The initial validator set, in index order.
    pub validators: Vec<GenesisValidator>,
    /// Observers allowed to connect.
    #[serde(default)]
    pub observers: Vec<Observer>,
    /// The initial issuer registry.
    #[serde(default)]
    pub issuers: Vec<Issuer>,
}

/// Why a genesis file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// Not valid TOML for this schema.
    #[error("genesis is not valid: {0}")]
    Parse(String),
    /// Validator set problem.
    #[error("genesis validators: {0}")]
    Validators(#[from] ValidatorSetError),
    /// An issuer listed twice.
    #[error("issuer {0} is listed twice")]
    DuplicateIssuer(String),
    /// A validator or issuer key outside the prime-order subgroup (spec §2.4).
    #[error("key of {0} has a torsion component: not admissible (generate a new key)")]
    WeakKey(String),
}

/// What every header of a chain must name: its id, its genesis hash and
/// the genesis time the first block follows (spec §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainIdentity {
    /// The chain id.
    pub chain_id: ChainId,
    /// [`Genesis::hash`].
    pub genesis: Hash32,
    /// The genesis time.
    pub genesis_time: Timestamp,
}

impl Genesis {
    /// This genesis's chain identity (hashes the genesis once).
    pub fn identity(&self) -> ChainIdentity {
        ChainIdentity { chain_id: self.chain_id.clone(), genesis: self.hash(), genesis_time: self.genesis_time }
    }

    /// Parses and checks a TOML genesis.
    pub fn from_toml(text: &str) -> Result<Genesis, GenesisError> {
        let g = Self::parse_toml(text)?;
        g.check()?;
        Ok(g)
    }

    /// Parses a TOML genesis without the checks, for tools that build one
    /// step by step (a genesis with no validator yet is not usable).
    pub fn parse_toml(text: &str) -> Result<Genesis, GenesisError> {
        toml::from_str(text).map_err(|e| GenesisError::Parse(e.to_string()))
    }

    /// The TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Validator set and issuer checks.
    pub fn check(&self) -> Result<(), GenesisError> {
        self.validator_set().check()?;
        let keys =
            self.validators.iter().map(|v| (&v.agency, &v.key)).chain(self.issuers.iter().map(|i| (&i.agency, &i.key)));
        for (agency, key) in keys {
            key.check_admissible().map_err(|_| GenesisError::WeakKey(agency.to_string()))?;
        }
        for (i, is) in self.issuers.iter().enumerate() {
            if self.issuers[..i].iter().any(|o| o.agency == is.agency) {
                return Err(GenesisError::DuplicateIssuer(is.agency.to_string()));
            }
        }
        Ok(())
    }

    /// `H("credex/genesis/v1", encode(genesis))`.
    pub fn hash(&self) -> Hash32 {
        hash(domain::GENESIS, &credex_codec::encode(self))
    }

    /// The validator set at height 1.
    pub fn validator_set(&self) -> ValidatorSet {
        ValidatorSet {
            validators: self
                .validators
                .iter()
                .map(|v| Validator {
                    agency: v.agency.clone(),
                    names: v.names.clone(),
                    jurisdiction: v.jurisdiction,
                    key: v.key,
                    power: v.power,
                })
                .collect(),
        }
    }

    /// The registry entry of `agency`.
    pub fn issuer(&self, agency: &AgencyId) -> Option<&Issuer> {
        self.issuers.iter().find(|i| &i.agency == agency)
    }

    /// True if this genesis pins `labels`.
    pub fn pins_labels(&self, labels: &LabelTable) -> bool {
        self.labels_hash == labels.hash()
    }
}
