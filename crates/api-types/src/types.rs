//! The bodies of the HTTP API's answers (spec §11): what the node's
//! handlers serialize, what the CLI, the tests and the typed client
//! deserialize, and what the OpenAPI document describes (utoipa schemas
//! derived from these very types).

use credex_crypto::Hash32;
use credex_types::attestation::AttestationId;
use credex_types::{AgencyId, ChainId, Timestamp};

/// An error answer: `{"code": "...", "message": "..."}` (spec §11.1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// The head of the chain as `/v1/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct HeadSummary {
    /// Block id (hex).
    #[schema(value_type = String)]
    pub id: Hash32,
    /// Block time (milliseconds since the epoch).
    #[schema(value_type = u64)]
    pub time: Timestamp,
    /// State root after the block (hex).
    #[schema(value_type = String)]
    pub state_root: Hash32,
}

/// `GET /v1/status`: what chain the node runs and where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct NodeStatus {
    /// The chain id of the genesis.
    #[schema(value_type = String)]
    pub chain_id: ChainId,
    /// The genesis hash (hex).
    #[schema(value_type = String)]
    pub genesis: Hash32,
    /// Committed height.
    pub height: u64,
    /// The newest block, if any.
    pub head: Option<HeadSummary>,
    /// Transactions waiting in the mempool.
    pub mempool: usize,
    /// Number of validators in the genesis.
    pub validators: usize,
    /// `dev`, `validator` or `observer`.
    pub role: String,
    /// The agency this node belongs to (the audience of signed requests).
    #[schema(value_type = Option<String>)]
    pub agency: Option<AgencyId>,
    /// Connected peers.
    pub peers: usize,
}

/// `GET /readyz`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Readiness {
    /// The chain is loaded and, for a networked node, a peer is connected.
    pub ready: bool,
    /// Committed height.
    pub height: u64,
    /// Connected peers.
    pub peers: usize,
    /// `dev`, `validator` or `observer`.
    pub role: String,
}

/// Where a transaction stands (`GET /v1/transactions/{id}`, spec §11.2).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Standing {
    /// Admitted, waiting for a block.
    Pending,
    /// In the committed block at `height`.
    Anchored {
        /// The block height.
        height: u64,
    },
    /// Admitted, then refused when its block was built.
    Rejected {
        /// Why.
        error: ErrorBody,
    },
    /// Not known to this node.
    Unknown,
}

/// The answer to a submission: the transaction's id and standing (202
/// pending, 200 already anchored).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Submitted {
    /// Transaction (attestation) id (hex).
    #[schema(value_type = String)]
    pub id: AttestationId,
    /// Where it stands.
    #[serde(flatten)]
    pub standing: Standing,
}

/// A credit proof as the API hands it out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ProofAnswer {
    /// The `credex1:` text form (spec §8.4), for files and QR codes.
    pub proof_text: String,
    /// Size of the canonical encoding in bytes.
    pub size: usize,
    /// The proof as JSON (for reading; verify the text or bytes).
    #[schema(value_type = Object)]
    pub proof: serde_json::Value,
    /// Field codes asked for but not disclosed: the caller had no basis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<Vec<String>>,
    /// Why they were withheld.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld_reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standing_is_tagged_by_status() -> Result<(), serde_json::Error> {
        let s = serde_json::to_value(Standing::Anchored { height: 7 })?;
        assert_eq!(s, serde_json::json!({ "status": "anchored", "height": 7 }));
        let r: Standing = serde_json::from_value(
            serde_json::json!({ "status": "rejected", "error": { "code": "conflict", "message": "m" } }),
        )?;
        assert_eq!(r, Standing::Rejected { error: ErrorBody { code: "conflict".into(), message: "m".into() } });
        let sub: Submitted = serde_json::from_value(serde_json::json!({ "id": "00".repeat(32), "status": "pending" }))?;
        assert_eq!(sub.standing, Standing::Pending);
        Ok(())
    }
}
