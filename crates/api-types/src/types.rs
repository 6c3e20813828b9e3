//! The bodies of the HTTP API's answers (spec §11): what the node's
//! handlers serialize, what the CLI, the tests and the typed client
//! deserialize, and what the OpenAPI document describes (utoipa schemas
//! derived from these very types).

use credex_crypto::{Hash32, PublicKey};
use credex_types::access::{AuditEntry, Role};
use credex_types::attestation::{Attestation, AttestationHeader, AttestationId};
use credex_types::chain::{BlockHeader, CommitCertificate, Names};
use credex_types::labels::LabelEntry;
use credex_types::lifecycle::{ActBody, CaseStatus};
use credex_types::state::{AttestationRecord, Listing, ListingRecord};
use credex_types::{AgencyId, AttestationKind, ChainId, Jurisdiction, LegalBasis, ListKind, SubjectId, Timestamp};

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
    /// Block time (RFC 3339).
    #[schema(value_type = String)]
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
    /// Number of validators in the set in force (genesis, or as governance changed it).
    pub validators: usize,
    /// `dev`, `validator` or `observer`.
    pub role: String,
    /// The agency this node belongs to (the audience of signed requests).
    #[schema(value_type = Option<String>)]
    pub agency: Option<AgencyId>,
    /// Connected peers.
    pub peers: usize,
}

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
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
    /// Read-only mode: the disk is below the node's free-space floor; it
    /// serves reads and proofs and admits nothing until space returns.
    pub read_only: bool,
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

/// Most attestations in one bulk submission (`POST /v1/bulk/attestations`).
pub const MAX_BULK_SUBMIT: usize = 1_000;

/// Largest body of the bulk routes (`POST /v1/standing`: [`MAX_BULK`]
/// subject ids; `POST /v1/bulk/attestations`: [`MAX_BULK_SUBMIT`]
/// attestations); every other route takes 64 KiB.
pub const BULK_BODY_LIMIT: usize = 1 << 20;

/// `POST /v1/bulk/attestations`: an issuer's attestations, at most
/// [`MAX_BULK_SUBMIT`] (and 1 MiB), each signed as for `POST /v1/attestations`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkSubmission {
    /// The attestations (JSON, spec §4).
    #[schema(value_type = Vec<Object>)]
    pub attestations: Vec<Attestation>,
}

/// The answer to a bulk submission: one result per attestation, in the
/// order sent, each as `POST /v1/attestations` would have answered it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BulkSubmitted {
    /// Admitted now (202 each).
    pub admitted: usize,
    /// On chain already (200 each).
    pub already_on_chain: usize,
    /// Refused for what they are or what the chain holds (4xx each): do not resend as they are.
    pub refused: usize,
    /// Refused because the node is busy or read-only (503 each): resend them after `retry_after_s`.
    pub retry: usize,
    /// When those may be resent, in seconds (the largest of theirs), if any.
    pub retry_after_s: Option<u64>,
    /// Per attestation, in order.
    pub results: Vec<BulkResult>,
}

/// One attestation's result in a bulk submission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BulkResult {
    /// Its position in the request (from 0).
    pub index: usize,
    /// Its id (hex).
    #[schema(value_type = String)]
    pub id: AttestationId,
    /// The HTTP status a single submission would have had (200, 202, 4xx, 503).
    pub status: u16,
    /// Where it stands, when admitted or on chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standing: Option<Standing>,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl BulkResult {
    /// Refused only for now (busy, read-only): send it again later.
    pub fn retryable(&self) -> bool {
        self.status == 503
    }
}

impl BulkSubmitted {
    /// The answer for `results` (in order), with its counts.
    pub fn of(results: Vec<BulkResult>, retry_after_s: Option<u64>) -> BulkSubmitted {
        let count = |f: &dyn Fn(&BulkResult) -> bool| results.iter().filter(|r| f(r)).count();
        BulkSubmitted {
            admitted: count(&|r| r.status == 202),
            already_on_chain: count(&|r| r.status == 200),
            refused: count(&|r| r.status >= 400 && !r.retryable()),
            retry: count(&BulkResult::retryable),
            retry_after_s: if results.iter().any(BulkResult::retryable) { retry_after_s } else { None },
            results,
        }
    }

    /// Splits `atts` into bulk requests: at most [`MAX_BULK_SUBMIT`] each,
    /// and bodies within [`BULK_BODY_LIMIT`] (an attestation too large even
    /// alone goes alone, and the node refuses it with 413).
    pub fn chunks(atts: &[Attestation]) -> Vec<&[Attestation]> {
        // room for `{"attestations":[` … `]}` and the commas
        let budget = BULK_BODY_LIMIT - 64;
        let mut out = Vec::new();
        let (mut start, mut bytes) = (0usize, 0usize);
        for (i, a) in atts.iter().enumerate() {
            let size = serde_json::to_vec(a).map_or(budget, |v| v.len()) + 1;
            if i > start && (i - start >= MAX_BULK_SUBMIT || bytes + size > budget) {
                out.extend(atts.get(start..i));
                (start, bytes) = (i, 0);
            }
            bytes += size;
        }
        if start < atts.len() {
            out.extend(atts.get(start..));
        }
        out
    }
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

/// `GET /v1/attestations/{id}`: standing, header and on-chain record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AttestationAnswer {
    /// Attestation id (hex).
    #[schema(value_type = String)]
    pub id: AttestationId,
    /// Where it stands.
    #[serde(flatten)]
    pub standing: Standing,
    /// The kind's label in the response language (anchored attestations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind_label: Option<String>,
    /// The signed header (anchored attestations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub header: Option<AttestationHeader>,
    /// `active`, `revoked`, `superseded` or `erased`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The on-chain record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub record: Option<AttestationRecord>,
    /// Whether this node holds the fields (raw record).
    pub fields_held: bool,
}

/// `GET /v1/lists/{list}/{subject}`: a subject's standing on a list with
/// its (non-)membership proof.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ListStatus {
    /// The proof.
    #[serde(flatten)]
    pub proof: ProofAnswer,
    /// The list.
    #[schema(value_type = String)]
    pub list: ListKind,
    /// Its label.
    pub list_label: String,
    /// The subject.
    #[schema(value_type = String)]
    pub subject: SubjectId,
    /// Its registered name, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<RegisteredName>,
    /// On the list now.
    pub listed: bool,
    /// The current listing, if listed.
    #[schema(value_type = Option<Object>)]
    pub listing: Option<Listing>,
    /// The subject's whole record on the list (None: never listed).
    #[schema(value_type = Option<Object>)]
    pub record: Option<ListingRecord>,
}

/// `GET /v1/standing/{subject}`: a subject's standing on every list, with
/// one proof for all of them (small enough for one QR code).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AllLists {
    /// The proof.
    #[serde(flatten)]
    pub proof: ProofAnswer,
    /// The subject.
    #[schema(value_type = String)]
    pub subject: SubjectId,
    /// Its registered name, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<RegisteredName>,
    /// The lists it is on now.
    #[schema(value_type = Vec<String>)]
    pub listed_on: Vec<ListKind>,
    /// Its record on each list it was ever on (a list it never was on is absent).
    pub lists: Vec<ListRecord>,
}

/// Most subjects one bulk check takes (`POST /v1/standing`).
pub const MAX_BULK: usize = 10_000;

/// `POST /v1/standing`: the subjects to check, at most [`MAX_BULK`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkQuery {
    /// Subject ids, in any spelling `credex id check` accepts.
    pub subjects: Vec<String>,
}

/// `POST /v1/standing`: every subject on every list at one height (spec
/// §8.7). One anchor (header, certificate, set changes) for all; for each
/// subject its standing claim. The proof of one subject, as the node would
/// make it alone, is `u8(1) ‖ claim ‖ anchor` (`CreditProof::from_parts`):
/// keep the answer, and any entry becomes a proof anyone can verify offline.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BulkStanding {
    /// The block all answers are at.
    pub height: u64,
    /// Its time.
    #[schema(value_type = String)]
    pub block_time: Timestamp,
    /// Its id (hex).
    pub block_id: String,
    /// The anchor, unpadded base64url of its canonical bytes.
    pub anchor: String,
    /// One entry per subject asked for, in order.
    pub results: Vec<BulkEntry>,
}

/// One subject of a bulk check.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BulkEntry {
    /// The text asked for.
    pub input: String,
    /// Its canonical id, if it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub subject: Option<SubjectId>,
    /// Its registered name, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<RegisteredName>,
    /// The lists it is on now (empty: on none).
    #[schema(value_type = Vec<String>)]
    pub listed_on: Vec<ListKind>,
    /// Its standing claim, unpadded base64url of the canonical bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    /// Why it is not a subject id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// A subject's record on one list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ListRecord {
    /// The list.
    #[schema(value_type = String)]
    pub list: ListKind,
    /// The record.
    #[schema(value_type = Object)]
    pub record: ListingRecord,
}

/// One transaction of a block as `GET /v1/blocks/{height}` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BlockTx {
    /// Transaction hash (hex).
    #[schema(value_type = String)]
    pub hash: Hash32,
    /// Transaction id (hex; an attestation's id for anchors).
    #[schema(value_type = String)]
    pub id: AttestationId,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The transaction itself: only for callers with a role (spec §12.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub tx: Option<serde_json::Value>,
}

/// `GET /v1/blocks/{height}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BlockAnswer {
    /// Block id (hex).
    #[schema(value_type = String)]
    pub id: Hash32,
    /// The header.
    #[schema(value_type = Object)]
    pub header: BlockHeader,
    /// The transactions.
    pub transactions: Vec<BlockTx>,
    /// Whether the transactions are shown without their content.
    pub redacted: bool,
    /// The commit certificate.
    #[schema(value_type = Object)]
    pub certificate: CommitCertificate,
}

/// One member of a list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Member {
    /// The subject.
    #[schema(value_type = String)]
    pub subject: SubjectId,
    /// Its registered name, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<RegisteredName>,
    /// Listed since (RFC 3339).
    #[schema(value_type = String)]
    pub since: Timestamp,
    /// The listing agency.
    #[schema(value_type = String)]
    pub issuer: AgencyId,
    /// The listing attestation (hex).
    pub by: String,
    /// The list it escalated from, if any.
    #[schema(value_type = Option<String>)]
    pub escalated_from: Option<ListKind>,
}

/// A subject's registered name, as its registrar published it on chain
/// (spec §11.10): public, for legal entities only.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RegisteredName {
    /// The name as registered.
    pub name: String,
    /// In Latin letters, if registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latin: Option<String>,
    /// What a reader of the response language is shown.
    pub display: String,
    /// Who published it.
    #[schema(value_type = String)]
    pub registrar: AgencyId,
    /// The block that recorded it.
    pub height: u64,
}

impl RegisteredName {
    /// From the state record, for a reader of `lang`.
    pub fn from_record(r: credex_types::lifecycle::SubjectNameRecord, lang: credex_types::labels::Lang) -> Self {
        RegisteredName {
            display: r.display(lang),
            name: r.name,
            latin: r.latin,
            registrar: r.registrar,
            height: r.height,
        }
    }
}

/// `GET /v1/lists/{list}`: who is on a list now.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Members {
    /// The list.
    #[schema(value_type = String)]
    pub list: ListKind,
    /// Its label.
    pub label: String,
    /// Members in all that match the search (`q`), or of the whole list
    /// without one; not only this page.
    pub total: usize,
    /// This page.
    pub entries: Vec<Member>,
    /// The `after` of the next page; absent on the last page.
    pub next: Option<String>,
}

/// A registered issuer's retired key.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RetiredKey {
    /// The key (hex).
    #[schema(value_type = String)]
    pub key: PublicKey,
    /// Valid for blocks below this height.
    pub until_height: u64,
}

/// An issuer as `GET /v1/issuers` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct IssuerAnswer {
    /// Agency id.
    #[schema(value_type = String)]
    pub agency: AgencyId,
    /// Its name in the response language.
    pub name: String,
    /// Its names.
    #[schema(value_type = Object)]
    pub names: Names,
    /// Jurisdiction.
    #[schema(value_type = String)]
    pub jurisdiction: Jurisdiction,
    /// Current key (hex).
    #[schema(value_type = String)]
    pub key: PublicKey,
    /// May issue now.
    pub active: bool,
    /// Kinds it may issue.
    #[schema(value_type = Vec<String>)]
    pub kinds: Vec<AttestationKind>,
    /// Their labels.
    pub kind_labels: Vec<String>,
    /// Keys it signed with before.
    pub retired_keys: Vec<RetiredKey>,
}

/// `GET /v1/issuers`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Issuers {
    /// The registry.
    pub issuers: Vec<IssuerAnswer>,
}

/// `GET /v1/validators`: the validator set in force for the next block.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Validators {
    /// The committed height it follows.
    pub height: u64,
    /// The set's hash (hex; what the next header's `validators_hash` holds).
    #[schema(value_type = String)]
    pub hash: Hash32,
    /// The set, in index order (the index signs votes and approvals).
    #[schema(value_type = Object)]
    pub set: credex_types::chain::ValidatorSet,
}

/// `GET /v1/labels`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Labels {
    /// The table's hash (what genesis pins; hex).
    #[schema(value_type = String)]
    pub hash: Hash32,
    /// The entries.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<LabelEntry>,
}

/// A subject on the risk list.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RiskEntry {
    /// The subject.
    #[schema(value_type = String)]
    pub subject: SubjectId,
    /// The codes of the rules it meets.
    pub rules: Vec<String>,
    /// Their labels.
    pub labels: Vec<String>,
}

/// `GET /v1/warnings`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RiskList {
    /// The warning model.
    pub model: String,
    /// The newest event number.
    pub last_event: u64,
    /// Subjects on the list.
    pub subjects: Vec<RiskEntry>,
}

/// A change of the risk list (also the body of a webhook delivery).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct WarningEvent {
    /// Event number, from 1.
    pub seq: u64,
    /// The subject.
    #[schema(value_type = String)]
    pub subject: SubjectId,
    /// `entered`, `left` or `changed`.
    pub change: String,
    /// The rules it meets now.
    pub rules: Vec<String>,
    /// The rules it met before.
    pub previous: Vec<String>,
    /// The warning model.
    pub model: String,
    /// When (RFC 3339).
    #[schema(value_type = String)]
    pub time: Timestamp,
    /// The height then.
    pub height: u64,
}

/// `GET /v1/warnings/events`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Events {
    /// Events after the asked number.
    pub events: Vec<WarningEvent>,
    /// The `after` of the next poll.
    pub next: u64,
}

/// A webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Subscription {
    /// Id (hex).
    pub id: String,
    /// The client that created it: only it sees and removes it.
    #[serde(default)]
    pub owner: String,
    /// Where events are POSTed.
    pub url: String,
    /// Last event delivered.
    pub cursor: u64,
    /// The key deliveries are signed with (64 hex digits): shown once, in
    /// the answer to the subscription; never listed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// The `X-Credex-Webhook-Signature` of a delivery (spec §11.7):
/// `v1=` + hex `HMAC-SHA256(secret, time ‖ "." ‖ body)`, `time` the
/// `X-Credex-Webhook-Time` header (milliseconds since the epoch, decimal).
pub fn webhook_signature(secret: &[u8], time_ms: u64, body: &[u8]) -> String {
    let mut msg = format!("{time_ms}.").into_bytes();
    msg.extend_from_slice(body);
    format!("v1={}", hex::encode(credex_crypto::hmac_sha256(secret, &msg)))
}

/// Whether `signature` is [`webhook_signature`] of the delivery (compared
/// in constant time). A receiver also refuses a `time` far from its clock,
/// and a delivery id it has seen.
pub fn webhook_signature_matches(secret: &[u8], time_ms: u64, body: &[u8], signature: &str) -> bool {
    credex_crypto::equal_in_constant_time(webhook_signature(secret, time_ms, body).as_bytes(), signature.as_bytes())
}

/// `GET /v1/warnings/subscriptions`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Subscriptions {
    /// The caller's subscriptions.
    pub subscriptions: Vec<Subscription>,
}

/// `DELETE /v1/warnings/subscriptions/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Deleted {
    /// The subscription removed.
    pub deleted: String,
}

/// `POST /v1/attestations/{id}/record`: a raw record.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RecordAnswer {
    /// Attestation id (hex).
    #[schema(value_type = String)]
    pub id: AttestationId,
    /// Where it came from: `local` or the holder's agency.
    pub source: String,
    /// Always true: a record that does not match its anchor is refused.
    pub matches_anchor: bool,
    /// The attestation with every field.
    #[schema(value_type = Object)]
    pub attestation: Attestation,
}

/// One access to a subject's data, as its access log shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AccessEntry {
    /// Entry number in the node's audit log.
    pub seq: u64,
    /// When (RFC 3339).
    #[schema(value_type = String)]
    pub time: Timestamp,
    /// Who (`<agency>/<client>` for a partner's vouched official).
    pub client: String,
    /// Their role.
    #[schema(value_type = String)]
    pub role: Role,
    /// What they did.
    pub action: String,
    /// The legal basis or authorization they gave.
    pub basis: Option<String>,
    /// The outcome.
    pub result: String,
}

/// `GET /v1/subjects/{subject}/access-log`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AccessLog {
    /// The subject.
    #[schema(value_type = String)]
    pub subject: SubjectId,
    /// The node's agency.
    #[schema(value_type = Option<String>)]
    pub node: Option<AgencyId>,
    /// Always `newest-first`.
    pub order: String,
    /// The `before` of the next page, if there is one.
    pub next: Option<u64>,
    /// This page.
    pub entries: Vec<AccessEntry>,
}

/// An audit-log entry with its hash.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct HashedEntry {
    /// The entry as logged.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub entry: AuditEntry,
    /// Its hash in the chain of entries (hex).
    #[schema(value_type = String)]
    pub hash: Hash32,
}

/// The head of an audit log.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AuditHead {
    /// Entries so far.
    pub seq: u64,
    /// Hash of the newest (hex).
    #[schema(value_type = String)]
    pub hash: Hash32,
}

/// `GET /v1/audit/log`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AuditLog {
    /// The node's agency.
    #[schema(value_type = Option<String>)]
    pub node: Option<AgencyId>,
    /// The head now.
    pub head: AuditHead,
    /// This page.
    pub entries: Vec<HashedEntry>,
}

/// An audit head anchored on chain.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AuditAnchorAnswer {
    /// Entries covered.
    pub seq: u64,
    /// The head hash (hex).
    #[schema(value_type = String)]
    pub head: Hash32,
    /// The block that anchored it.
    pub height: u64,
}

/// `GET /v1/audit/anchors`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AuditAnchors {
    /// The node whose heads these are.
    #[schema(value_type = String)]
    pub node: AgencyId,
    /// Its anchored heads, oldest first.
    pub anchors: Vec<AuditAnchorAnswer>,
}

/// One line of a grade: a rule, how often it applied, its points.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct GradeLine {
    /// Rule code.
    pub rule: String,
    /// Its label.
    pub label: String,
    /// How many times it applied.
    pub count: u32,
    /// Points it adds (negative: deducts).
    pub points: i64,
}

/// A grade under `credex-grade-v1`, line by line.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct GradeAnswer {
    /// The grading model.
    pub model: String,
    /// The sector whose weights apply.
    pub sector: String,
    /// Its label.
    pub sector_label: String,
    /// Graded as of (RFC 3339).
    #[schema(value_type = String)]
    pub as_of: Timestamp,
    /// The base score.
    pub base: i64,
    /// The score.
    pub score: i64,
    /// The grade letter.
    pub grade: String,
    /// Its label.
    pub grade_label: String,
    /// A list that caps the grade, if the subject is on one.
    #[schema(value_type = Option<String>)]
    pub veto: Option<ListKind>,
    /// Its label.
    pub veto_label: Option<String>,
    /// The lines.
    pub lines: Vec<GradeLine>,
    /// The inputs, as text.
    pub scoring_inputs: String,
    /// The chain holds nothing about the subject: the grade is the model's
    /// starting point, not an assessment (show it as "not rated").
    #[serde(default)]
    pub no_record: bool,
}

/// A grade attestation an agency issued.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct IssuedGrade {
    /// The agency.
    #[schema(value_type = String)]
    pub issuer: AgencyId,
    /// Effective from (RFC 3339).
    #[schema(value_type = String)]
    pub effective_at: Timestamp,
}

/// `GET /v1/subjects/{subject}/grade`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SubjectGrade {
    /// The grade.
    #[serde(flatten)]
    pub grade: GradeAnswer,
    /// The subject.
    #[schema(value_type = String)]
    pub subject: SubjectId,
    /// Grade attestations on record, oldest first.
    pub issued: Vec<IssuedGrade>,
}

/// An early-warning rule a subject meets.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct WarningLine {
    /// Rule code.
    pub rule: String,
    /// Its label.
    pub label: String,
    /// How many times.
    pub count: u32,
}

/// One step of a case's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CaseStep {
    /// The block.
    pub height: u64,
    /// Its time (RFC 3339).
    #[schema(value_type = String)]
    pub time: Timestamp,
    /// The status reached.
    #[schema(value_type = String)]
    pub status: CaseStatus,
    /// Its label.
    pub status_label: String,
    /// The attestation that decided it, if any (hex).
    pub by: Option<String>,
}

/// A case: commitment, repair application or objection.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CaseAnswer {
    /// Case id (hex).
    pub id: String,
    /// `commitment`, `repair` or `objection`.
    pub kind: String,
    /// Its label.
    pub kind_label: String,
    /// The subject.
    #[schema(value_type = String)]
    pub subject: SubjectId,
    /// The agency that decides it.
    #[schema(value_type = String)]
    pub agency: AgencyId,
    /// The attestation it is about (hex), if any.
    pub target: Option<String>,
    /// The list it is about, if any.
    #[schema(value_type = Option<String>)]
    pub list: Option<ListKind>,
    /// The list's label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_label: Option<String>,
    /// What repairing a listing on that list takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair_conditions: Option<String>,
    /// Decision due (RFC 3339), if any.
    #[schema(value_type = Option<String>)]
    pub due: Option<Timestamp>,
    /// The subject's signed act.
    #[schema(value_type = Object)]
    pub act: ActBody,
    /// Its status.
    #[schema(value_type = String)]
    pub status: CaseStatus,
    /// Its label.
    pub status_label: String,
    /// How it got there.
    pub history: Vec<CaseStep>,
    /// Its offline proof (`GET /v1/cases/{id}` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof_text: Option<String>,
    /// The proof's size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<usize>,
}

/// `GET /v1/cases/{id}`: the case, or the standing of the act that opens it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CaseOrStanding {
    /// The case is on chain.
    Case(Box<CaseAnswer>),
    /// The act is pending or was rejected.
    Standing(Submitted),
}

/// An attestation on a subject's profile.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ProfileAttestation {
    /// Id (hex).
    #[schema(value_type = String)]
    pub id: AttestationId,
    /// The block that anchored it.
    pub height: u64,
    /// Its kind.
    #[schema(value_type = String)]
    pub kind: AttestationKind,
    /// Its label.
    pub kind_label: String,
    /// The issuing agency.
    #[schema(value_type = String)]
    pub issuer: AgencyId,
    /// Effective from (RFC 3339).
    #[schema(value_type = String)]
    pub effective_at: Timestamp,
    /// Until (RFC 3339), if it ends.
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Timestamp>,
    /// `active`, `revoked`, `superseded` or `erased`.
    pub state: String,
    /// The attestation it replaces (hex).
    pub supersedes: Option<String>,
    /// The case it answers (hex).
    pub case: Option<String>,
}

/// A subject's standing on one list, on its profile.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ProfileList {
    /// The list.
    #[schema(value_type = String)]
    pub list: ListKind,
    /// Its label.
    pub label: String,
    /// On it now.
    pub listed: bool,
    /// Since (RFC 3339).
    #[schema(value_type = Option<String>)]
    pub since: Option<Timestamp>,
    /// The listing attestation (hex).
    pub by: Option<String>,
    /// The listing agency.
    #[schema(value_type = Option<String>)]
    pub issuer: Option<AgencyId>,
    /// The list it escalated from.
    #[schema(value_type = Option<String>)]
    pub escalated_from: Option<ListKind>,
    /// When last removed (RFC 3339).
    #[schema(value_type = Option<String>)]
    pub last_removed: Option<Timestamp>,
    /// How many times listed.
    pub times_listed: u32,
    /// What repair takes, when listed.
    pub repair_conditions: Option<String>,
}

/// A key the subject signed with before.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PreviousKey {
    /// The key (hex).
    #[schema(value_type = String)]
    pub key: PublicKey,
    /// Replaced at this height.
    pub replaced_at: u64,
}

/// The subject's key bound on chain.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ProfileKey {
    /// The key (hex).
    #[schema(value_type = String)]
    pub public_key: PublicKey,
    /// The registrar that bound it.
    #[schema(value_type = String)]
    pub registrar: AgencyId,
    /// Bound at this height.
    pub height: u64,
    /// The legal basis of a recovery without the old key, if it was one.
    #[schema(value_type = Option<String>)]
    pub recovery: Option<LegalBasis>,
    /// Earlier keys.
    pub previous_keys: Vec<PreviousKey>,
}

/// When a profile was read.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct AsOf {
    /// The height.
    pub height: u64,
    /// The node's time (RFC 3339).
    #[schema(value_type = String)]
    pub time: Timestamp,
}

/// `GET /v1/subjects/{subject}`: the subject's profile.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Profile {
    /// The subject.
    #[schema(value_type = String)]
    pub subject: SubjectId,
    /// Its registered name, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<RegisteredName>,
    /// Its jurisdiction.
    #[schema(value_type = String)]
    pub jurisdiction: Jurisdiction,
    /// Its identifier scheme.
    pub scheme: String,
    /// The response language.
    pub lang: String,
    /// Its key on chain, if bound.
    pub key: Option<ProfileKey>,
    /// Its attestations (penalties only within their publication window).
    pub attestations: Vec<ProfileAttestation>,
    /// Penalties left out because their window ended.
    pub withheld_penalties: usize,
    /// Its standing on every list.
    pub lists: Vec<ProfileList>,
    /// Its grade (general sector).
    pub grade: GradeAnswer,
    /// Early-warning rules it meets.
    pub warnings: Vec<WarningLine>,
    /// Its cases.
    pub cases: Vec<CaseAnswer>,
    /// When.
    pub as_of: AsOf,
}

/// A signer of a proof's block.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Signer {
    /// Agency.
    #[schema(value_type = String)]
    pub agency: AgencyId,
    /// Its name in the response language.
    pub name: String,
    /// Jurisdiction.
    #[schema(value_type = String)]
    pub jurisdiction: Jurisdiction,
}

/// A disclosed field of a verified attestation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct DisclosedField {
    /// Field code.
    pub code: String,
    /// Its label.
    pub label: String,
    /// Its value (a reason code shown as its label).
    pub value: String,
}

/// The case a verified proof shows.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct VerifiedCase {
    /// Case id (hex).
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Its status.
    pub status: String,
    /// The status label.
    pub status_label: String,
}

/// A proof that verified (its outcome may still be negative: revoked, listed, …).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Verified {
    /// Always true.
    pub valid: bool,
    /// The genesis it was checked against (hex).
    pub genesis: String,
    /// The outcome's name.
    pub outcome: String,
    /// The verdict in one sentence, in the reader's language and zone, in
    /// words that cannot be misread, naming the list or record and as of
    /// which block ("未列入严重违法失信名单，截至区块 23（2026-12-01 12:03
    /// 北京时间）"; `credex verify`'s second line).
    pub summary: String,
    /// The outcome with its details.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The subject.
    #[schema(value_type = String)]
    pub subject: SubjectId,
    /// The attestation's kind.
    #[schema(value_type = Option<String>)]
    pub kind: Option<AttestationKind>,
    /// Its label.
    pub kind_label: Option<String>,
    /// The list of a list proof.
    #[schema(value_type = Option<String>)]
    pub list: Option<ListKind>,
    /// Its label.
    pub list_label: Option<String>,
    /// The issuer.
    #[schema(value_type = Option<String>)]
    pub issuer: Option<AgencyId>,
    /// Its name in the reader's language, as the genesis gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_name: Option<String>,
    /// The attestation id (hex).
    pub attestation: Option<String>,
    /// When the attestation takes effect (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub effective_at: Option<Timestamp>,
    /// When it lapses, if it does (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Timestamp>,
    /// Disclosed fields.
    pub fields: Vec<DisclosedField>,
    /// The block.
    pub height: u64,
    /// Its time (RFC 3339).
    #[schema(value_type = String)]
    pub block_time: Timestamp,
    /// Its id (hex).
    pub block_id: String,
    /// Who signed it.
    pub signers: Vec<Signer>,
    /// The proof's age when verified (milliseconds: the verifier's clock
    /// minus the block's time).
    pub age_ms: u64,
    /// The policy applied, in words ("max age 90 d 0 h").
    pub policy: String,
    /// The case, for case proofs.
    pub case: Option<VerifiedCase>,
    /// For an every-list proof: the subject on each list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<VerifiedList>,
}

/// The subject on one list, as an every-list proof shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct VerifiedList {
    /// The list.
    #[schema(value_type = String)]
    pub list: ListKind,
    /// Its label.
    pub list_label: String,
    /// Listed since (RFC 3339), if on the list now.
    #[schema(value_type = Option<String>)]
    pub since: Option<Timestamp>,
    /// The listing agency, if on the list now.
    #[schema(value_type = Option<String>)]
    pub issuer: Option<AgencyId>,
    /// Its name in the reader's language, as the genesis gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_name: Option<String>,
}

/// A proof that did not verify.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct NotVerified {
    /// Always false.
    pub valid: bool,
    /// The genesis it was checked against (hex).
    pub genesis: String,
    /// Why: the code and the verifier's own (English) text.
    pub error: ErrorBody,
    /// Why, in the reader's language: what the code means to them.
    pub reason: String,
}

/// `POST /v1/verify`: the verdict (an invalid proof is a 200 answer too).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum VerifyAnswer {
    /// It verified.
    Verified(Box<Verified>),
    /// It did not.
    NotVerified(NotVerified),
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

    fn attestation(n: u64, fields: usize) -> Attestation {
        #![allow(clippy::unwrap_used)]
        let key = credex_crypto::SecretKey::from_seed([3; 32]);
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&n.to_le_bytes());
        let header = AttestationHeader::new(
            "credex-unit".parse().unwrap(),
            "cn-sfh-amr".parse().unwrap(),
            "91350100M000100Y43".parse().unwrap(),
            AttestationKind::AdministrativeLicence,
            Timestamp(1_000),
            nonce,
        )
        .unwrap();
        let claims = (0..fields)
            .map(|i| {
                credex_types::attestation::ClaimField::new(
                    format!("note-{i}").parse().unwrap(),
                    "x".repeat(1_000),
                    [0; 16],
                )
            })
            .collect();
        Attestation::sign(header, claims, &key).unwrap()
    }

    #[test]
    fn bulk_requests_stay_within_the_count_and_the_body_limit() -> Result<(), serde_json::Error> {
        let small: Vec<Attestation> = (0..2_500).map(|n| attestation(n, 0)).collect();
        let sizes: Vec<usize> = BulkSubmitted::chunks(&small).iter().map(|c| c.len()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 2_500, "every attestation once");
        assert!(sizes.iter().all(|n| *n <= MAX_BULK_SUBMIT), "{sizes:?}");
        // large ones: the body limit decides
        let large: Vec<Attestation> = (0..300).map(|n| attestation(n, 8)).collect();
        let chunks = BulkSubmitted::chunks(&large);
        assert!(chunks.len() > 1, "300 attestations of 8 KB need more than one MiB");
        for c in &chunks {
            let body = serde_json::to_vec(&BulkSubmission { attestations: c.to_vec() })?;
            assert!(body.len() <= BULK_BODY_LIMIT, "{} bytes", body.len());
        }
        assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), 300);
        assert!(BulkSubmitted::chunks(&[]).is_empty());
        Ok(())
    }

    #[test]
    fn bulk_answers_count_what_to_resend() {
        let r = |index, status| BulkResult {
            index,
            id: AttestationId(credex_crypto::Hash32([0; 32])),
            status,
            standing: None,
            error: None,
        };
        let a = BulkSubmitted::of(vec![r(0, 202), r(1, 200), r(2, 409), r(3, 503), r(4, 503)], Some(2));
        assert_eq!((a.admitted, a.already_on_chain, a.refused, a.retry, a.retry_after_s), (1, 1, 1, 2, Some(2)));
        let b = BulkSubmitted::of(vec![r(0, 202)], Some(2));
        assert_eq!(b.retry_after_s, None, "nothing to resend, no wait");
    }
}
