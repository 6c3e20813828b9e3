//! The node: chain state in memory over RocksDB, the mempool, block
//! production and proofs.
//!
//! **Consensus seam.** Blocks are made in two steps that any engine drives:
//! [`Node::propose`] (take transactions from the mempool, execute them
//! against the committed state, compute the header) and [`Node::commit`]
//! (store a proposed block with its certificate and make it the new head).
//! The single-validator engine ([`run_solo`]) signs its own precommit between
//! the two, which for n = 1 is a complete commit certificate under the
//! rules of spec §5.4; the BFT engine (`crate::bft`) drives the same seam
//! for several validators.
//!
//! Here: the [`Node`] (its parts, the committed head, identity and wiring);
//! `mempool` (admission and standing), `raw` (the raw-record group-commit
//! writer), `state` (queries of the committed state), `blocks` (propose,
//! validate, commit, the single-validator engine) and `proofs` (credit proofs).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use credex_chain::{AnchorTx, Block, BlockContext, BlockOutcome, Overlay, Transaction, TxError, apply_admitted};
use credex_crypto::{Hash32, SecretKey};
use credex_proof::{Anchor, Claim, CreditProof, build};
use credex_storage::{BlockCommit, Store, StoreError};
use credex_types::attestation::{Attestation, AttestationError, AttestationHeader, AttestationId};
use credex_types::chain::{BlockHeader, CommitCertificate, ValidatorSet, admit_commit};
use credex_types::genesis::Genesis;
use credex_types::labels::LabelTable;
use credex_types::lifecycle::{CaseId, CaseRecord, IssuerRecord, SubjectKeyRecord};
use credex_types::state::{AttestationRecord, AttestationStatus, ListingRecord, StateKey, StateValue};
use credex_types::{AgencyId, FieldCode, ListKind, SubjectId, Timestamp};

mod blocks;
mod compact;
mod mempool;
mod proofs;
mod raw;
mod snapshot;
mod state;

pub use blocks::{
    BLOCK_TXS, BlockError, CommitError, MAX_FUTURE_MS, MAX_PAST_MS, Proposal, SoloTiming, SyncError, run_solo,
    solo_certificate, warn_if_behind,
};
pub use mempool::{BUSY_RETRY_AFTER_S, MempoolLimits, READ_ONLY_RETRY_AFTER_S, SubmitError};
use mempool::{Mempool, VerifiedKeys};
pub use proofs::ProofError;
use raw::RawWriter;
pub use snapshot::{SNAPSHOT_IDLE, SNAPSHOT_REFRESH, SnapshotError};
pub use state::MembersPage;

/// Where the node reads the time: behind a trait so that tests and
/// consensus code never touch the wall clock directly.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The operating system clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::system_now()
    }
}

/// Where an attestation is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Waiting for a block.
    Pending,
    /// In the block at this height.
    Anchored(u64),
    /// Dropped when its block was built.
    Rejected(TxError),
    /// Never seen.
    Unknown,
}

/// The committed chain: its head, and the state as the store holds it
/// (values, map nodes and indexes on disk, ADR 0002). Whoever holds the
/// lock on it reads one committed state: a commit takes the write lock.
struct Chain {
    store: Arc<Store>,
    head: Option<(BlockHeader, CommitCertificate)>,
    /// The validator set in force for the next block (state, else genesis;
    /// read at open and kept at each commit: consensus reads it often).
    validators: ValidatorSet,
}

/// The node.
pub struct Node {
    genesis: Genesis,
    /// Chain id, genesis hash and time, as every header names them.
    identity: credex_types::ChainIdentity,
    labels: LabelTable,
    store: Arc<Store>,
    raw: RawWriter,
    chain: RwLock<Chain>,
    mempool: Mutex<Mempool>,
    clock: Box<dyn Clock>,
    new_tx: tokio::sync::Notify,
    /// Read-only mode: the data directory's disk is below its free-space
    /// floor; no new data is admitted (nor, on a single validator, new
    /// blocks made), reads and proofs are served.
    read_only: std::sync::atomic::AtomicBool,
    height_tx: tokio::sync::watch::Sender<u64>,
    wiring: Wiring,
    metrics: crate::metrics::Metrics,
    /// The state snapshot served to syncing nodes (module `snapshot`).
    snapshot: Mutex<Option<snapshot::Served>>,
    /// This height's proposal bodies, for peers assembling compact
    /// proposals (module `compact`).
    held: Mutex<compact::Held>,
}

/// Why a node cannot open its data directory.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The genesis pins another label table than this binary's.
    #[error("genesis pins label table {pinned}, this binary has {have}")]
    Labels {
        /// What genesis pins.
        pinned: Hash32,
        /// What this binary has.
        have: Hash32,
    },
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The head block or its certificate is not on disk.
    #[error("{what} {height} missing from the data directory")]
    Missing {
        /// `block` or `certificate`.
        what: &'static str,
        /// Its height.
        height: u64,
    },
    /// The state on disk does not give the head block's state root.
    #[error("state rebuilt from disk has root {rebuilt}, block {height} says {header}")]
    StateRoot {
        /// What the state on disk gives.
        rebuilt: Hash32,
        /// The head's height.
        height: u64,
        /// What the head block says.
        header: Hash32,
    },
    /// The raw-record writer thread cannot start.
    #[error("starting the raw-record writer: {0}")]
    RawWriter(std::io::Error),
}

/// What a node is and how it reaches the rest of the process, all fixed at
/// construction ([`crate::builder`] creates the channels first, then the
/// node, then the tasks at their other ends).
pub struct Wiring {
    /// `dev`, `validator` or `observer`.
    pub role: &'static str,
    /// This node's agency and the key it signs its audit anchors with (the
    /// validator key, or the key of its genesis peer id).
    pub identity: Option<(AgencyId, SecretKey)>,
    /// Where newly admitted local submissions go for gossip (networked nodes).
    pub gossip: Option<tokio::sync::mpsc::UnboundedSender<Transaction>>,
    /// Where the subjects each committed block touched go (early warning).
    pub touched: Option<tokio::sync::mpsc::UnboundedSender<Vec<SubjectId>>>,
    /// The number of connected peers, kept current by the network task.
    pub peers: Option<tokio::sync::watch::Receiver<usize>>,
    /// The network (raw-record requests to other nodes).
    pub net: Option<credex_p2p::Handle>,
    /// The mempool's bounds.
    pub mempool: MempoolLimits,
    /// Where the state snapshot served to syncing nodes is made (on the
    /// store's file system); `None`: none served.
    pub snapshot_dir: Option<std::path::PathBuf>,
}

impl Wiring {
    /// A node on its own: role `dev`, no identity, network or warnings.
    pub fn solo() -> Wiring {
        Wiring {
            role: "dev",
            identity: None,
            gossip: None,
            touched: None,
            peers: None,
            net: None,
            mempool: MempoolLimits::default(),
            snapshot_dir: None,
        }
    }
}

fn lock_err<T>(e: std::sync::PoisonError<T>) -> T {
    // A panic while holding a lock cannot leave the chain half-updated
    // (writes are applied after the durable commit); keep serving.
    e.into_inner()
}

impl Node {
    /// Opens the node on its store (the state stays on disk; start-up reads
    /// the head and checks the map's root against it).
    pub fn open(genesis: Genesis, store: Store, clock: Box<dyn Clock>, wiring: Wiring) -> Result<Node, OpenError> {
        let labels = LabelTable::builtin();
        if !genesis.pins_labels(&labels) {
            return Err(OpenError::Labels { pinned: genesis.labels_hash, have: labels.hash() });
        }
        if store.import_unfinished()? {
            // nothing of a cut-short state sync was checked: it goes
            tracing::warn!(target: "credex::node", "a state sync was cut short: its partial state is removed");
            store.abort_import()?;
        }
        let started = std::time::Instant::now();
        // Nothing is loaded: the state lives on disk. Only the root is read,
        // to check the store against its head.
        let root = store.state_root()?;
        let height = store.height()?;
        let head = if height == 0 {
            None
        } else {
            let block = store.block(height)?.ok_or(OpenError::Missing { what: "block", height })?;
            let cert = store.certificate(height)?.ok_or(OpenError::Missing { what: "certificate", height })?;
            if block.header.state_root != root {
                return Err(OpenError::StateRoot { rebuilt: root, height, header: block.header.state_root });
            }
            Some((block.header, cert))
        };
        let validators = credex_chain::validator_set(&store, &genesis).map_err(StoreError::State)?;
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(target: "credex::node", height, %root, ms, "state opened");
        let (height_tx, _) = tokio::sync::watch::channel(height);
        let store = Arc::new(store);
        let raw = RawWriter::spawn(store.clone()).map_err(OpenError::RawWriter)?;
        Ok(Node {
            identity: genesis.identity(),
            genesis,
            labels,
            chain: RwLock::new(Chain { store: store.clone(), head, validators }),
            store,
            raw,
            mempool: Mutex::new(Mempool::new(wiring.mempool)),
            clock,
            new_tx: tokio::sync::Notify::new(),
            read_only: std::sync::atomic::AtomicBool::new(false),
            height_tx,
            wiring,
            metrics: crate::metrics::Metrics::default(),
            snapshot: Mutex::new(None),
            held: Mutex::new(compact::Held::default()),
        })
    }

    /// The committed state of `chain` with its anchored headers read from
    /// the store: what blocks execute and admission checks run on.
    fn state_of<'a>(&'a self, chain: &'a Chain) -> &'a Store {
        &chain.store
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The genesis hash.
    pub fn genesis_hash(&self) -> Hash32 {
        self.identity.genesis
    }

    /// The store.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Committed height (0 before the first block).
    pub fn height(&self) -> u64 {
        *self.height_tx.borrow()
    }

    /// A receiver that sees every new committed height.
    pub fn heights(&self) -> tokio::sync::watch::Receiver<u64> {
        self.height_tx.subscribe()
    }

    /// Index of `key` in the validator set in force, if it is a validator.
    pub fn validator_index(&self, key: &credex_crypto::PublicKey) -> Option<u16> {
        self.validator_set().validators.iter().position(|v| v.key == *key).and_then(|i| u16::try_from(i).ok())
    }

    /// The validator set in force for the next block: the genesis set, or
    /// the one the last validator-set change left (spec §9.6).
    pub fn validator_set(&self) -> ValidatorSet {
        self.chain.read().unwrap_or_else(lock_err).validators.clone()
    }

    /// The head header, if any.
    pub fn head(&self) -> Option<BlockHeader> {
        self.chain.read().unwrap_or_else(lock_err).head.as_ref().map(|(h, _)| h.clone())
    }

    /// This node's role: `dev`, `validator` or `observer`.
    pub fn role(&self) -> &'static str {
        self.wiring.role
    }

    /// Connected peers.
    pub fn peers(&self) -> usize {
        self.wiring.peers.as_ref().map(|p| *p.borrow()).unwrap_or(0)
    }

    /// The node's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// This node's agency and node key, if it has one.
    pub fn identity(&self) -> Option<&(AgencyId, SecretKey)> {
        self.wiring.identity.as_ref()
    }

    /// The jurisdiction of an agency: a genesis validator's or observer's, or an issuer's.
    pub fn jurisdiction_of(&self, agency: &AgencyId) -> Result<Option<credex_types::Jurisdiction>, StoreError> {
        let g = &self.genesis;
        if let Some(j) = g
            .validators
            .iter()
            .find(|v| &v.agency == agency)
            .map(|v| v.jurisdiction)
            .or_else(|| g.observers.iter().find(|o| &o.agency == agency).map(|o| o.jurisdiction))
        {
            return Ok(Some(j));
        }
        Ok(self.issuer(agency)?.map(|r| r.jurisdiction))
    }

    /// The agency of a genesis peer id (validator or observer).
    pub fn agency_of_peer(&self, peer: &str) -> Option<AgencyId> {
        self.genesis
            .validators
            .iter()
            .find(|v| v.peer_id.as_deref() == Some(peer))
            .map(|v| v.agency.clone())
            .or_else(|| self.genesis.observers.iter().find(|o| o.peer_id == peer).map(|o| o.agency.clone()))
    }

    /// The node's metrics.
    /// Whether the node is in read-only mode (disk below its floor).
    pub fn read_only(&self) -> bool {
        self.read_only.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Enters or leaves read-only mode; whether it changed.
    pub fn set_read_only(&self, on: bool) -> bool {
        self.read_only.swap(on, std::sync::atomic::Ordering::SeqCst) != on
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The network handle, if this node is on a network.
    pub fn net(&self) -> Option<&credex_p2p::Handle> {
        self.wiring.net.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credex_types::AttestationKind;
    use credex_types::attestation::{ATTESTATION_VERSION, AttestationHeader};
    use credex_types::chain::Names;
    use credex_types::genesis::{GenesisValidator, Issuer};

    struct Fixed(std::sync::atomic::AtomicU64);
    impl Clock for Fixed {
        fn now(&self) -> Timestamp {
            Timestamp(self.0.fetch_add(1000, std::sync::atomic::Ordering::Relaxed))
        }
    }

    fn names() -> Names {
        Names { zh: "机构".into(), ru: "Агентство".into(), en: "Agency".into() }
    }

    fn genesis(validator: &SecretKey, issuer: &SecretKey) -> Genesis {
        Genesis {
            chain_id: "credex-unit".parse().unwrap(),
            genesis_time: Timestamp(1_000_000),
            labels_hash: LabelTable::builtin().hash(),
            validators: vec![GenesisValidator {
                agency: "cn-sfh-ftz".parse().unwrap(),
                names: names(),
                jurisdiction: "CN".parse().unwrap(),
                key: validator.public(),
                power: 1,
                peer_id: None,
            }],
            observers: vec![],
            issuers: vec![Issuer {
                agency: "cn-sfh-amr".parse().unwrap(),
                names: names(),
                jurisdiction: "CN".parse().unwrap(),
                key: issuer.public(),
                kinds: vec![AttestationKind::AdministrativeLicence, AttestationKind::AbnormalOperationListing],
            }],
        }
    }

    fn node(dir: &std::path::Path, g: &Genesis) -> Node {
        node_with(dir, g, MempoolLimits::default())
    }

    fn node_with(dir: &std::path::Path, g: &Genesis, mempool: MempoolLimits) -> Node {
        let store = Store::open(dir, g.hash()).unwrap();
        let wiring = Wiring { mempool, ..Wiring::solo() };
        Node::open(g.clone(), store, Box::new(Fixed(std::sync::atomic::AtomicU64::new(2_000_000))), wiring).unwrap()
    }

    fn att(g: &Genesis, key: &SecretKey, n: u8) -> Attestation {
        att_kind(g, key, n, AttestationKind::AdministrativeLicence)
    }

    fn att_kind(g: &Genesis, key: &SecretKey, n: u8, kind: AttestationKind) -> Attestation {
        let header = AttestationHeader {
            version: ATTESTATION_VERSION,
            chain_id: g.chain_id.clone(),
            issuer: "cn-sfh-amr".parse().unwrap(),
            subject: "91350100M000100Y43".parse().unwrap(),
            kind,
            effective_at: Timestamp(1_500_000),
            expires_at: None,
            legal_basis: "cn-admin-licensing-law".parse().unwrap(),
            supersedes: None,
            case: None,
            nonce: [n; 16],
        };
        Attestation::sign(header, vec![], key).unwrap()
    }

    /// A produces and commits a block holding `atts`; returns it with its certificate.
    fn produce(a: &Node, v: &SecretKey, atts: &[Attestation]) -> (Block, CommitCertificate) {
        for x in atts {
            a.submit(x).unwrap();
        }
        let p = a.propose(0).unwrap();
        let cert = solo_certificate(v, 0, p.header());
        let h = p.header().height;
        a.commit(p, cert).unwrap();
        a.block_with_certificate(h).unwrap().unwrap()
    }

    #[test]
    fn a_follower_accepts_valid_blocks_and_refuses_tampered_ones() {
        let (v, issuer) = (SecretKey::from_seed([1; 32]), SecretKey::from_seed([2; 32]));
        let g = genesis(&v, &issuer);
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, b) = (node(da.path(), &g), node(db.path(), &g));

        // a proposal that is never committed takes nothing out of the pool
        a.submit(&att(&g, &issuer, 1)).unwrap();
        drop(a.propose(0).unwrap());
        assert_eq!(a.pending(10).len(), 1);
        assert_eq!(a.height(), 0);

        let (b1, c1) = produce(&a, &v, &[att(&g, &issuer, 1), att(&g, &issuer, 2)]);
        assert!(a.pending(10).is_empty(), "committed transactions leave the pool");
        b.commit(b.validate_block(b1.clone()).unwrap(), c1).unwrap();
        assert_eq!(b.head(), a.head());

        let (b2, c2) = produce(&a, &v, &[att(&g, &issuer, 3)]);
        let refused = |block: Block| b.validate_block(block).err().map(|e| e.to_string()).unwrap_or_default();
        let mut x = b2.clone();
        x.header.state_root.0[0] ^= 1;
        assert!(refused(x).contains("state root"));
        let mut x = b2.clone();
        x.txs.clear();
        assert!(refused(x).contains("transaction root"));
        let mut x = b2.clone();
        x.header.parent = b2.header.id();
        assert!(refused(x).contains("parent"));
        assert!(refused(b1.clone()).contains("height"));
        // a transaction with a forged issuer signature, tx root recomputed
        let mut forged = att(&g, &issuer, 9);
        forged = Attestation::sign(forged.header, forged.claims, &SecretKey::from_seed([7; 32])).unwrap();
        let mut x = b2.clone();
        x.txs.push(Transaction::Anchor(AnchorTx::of(&forged)));
        x.header.tx_root = credex_chain::tx_root(&x.txs);
        assert!(refused(x).contains("signature"));
        // the right block with a certificate by someone else
        let stranger = solo_certificate(&SecretKey::from_seed([8; 32]), 0, &b2.header);
        let p = b.validate_block(b2.clone()).unwrap();
        assert!(b.commit(p, stranger).is_err());
        assert_eq!(b.height(), 1);
        // a proposal from the future is refused before execution; the same block certified is not
        let mut x = b2.clone();
        x.header.time = Timestamp(b.now().0 + MAX_FUTURE_MS + 60_000);
        assert!(b.check_proposal_time(&x.header, true).unwrap_err().to_string().contains("too far ahead"));
        assert!(b.check_proposal_time(&x.header, false).unwrap_err().to_string().contains("too far ahead"));
        // ... and so is a fresh one from the past; a re-proposal (a polka took its time) is not
        let mut old = b2.clone();
        old.header.time = Timestamp(b.now().0.saturating_sub(MAX_PAST_MS + 60_000));
        assert!(b.check_proposal_time(&old.header, true).unwrap_err().to_string().contains("too far behind"));
        assert!(b.check_proposal_time(&old.header, false).is_ok());
        assert!(b.check_proposal_time(&b2.header, true).is_ok());
        // and with the real one it goes through
        b.commit(b.validate_block(b2).unwrap(), c2).unwrap();
        assert_eq!(b.head(), a.head());
        assert_eq!(b.height(), 2);
    }

    /// Backpressure (issue #17): the pool is bounded in count and in bytes;
    /// what does not fit is refused as busy before anything of it is
    /// written, and room comes back when a block takes transactions out.
    #[test]
    fn a_full_mempool_refuses_as_busy_keeps_nothing_of_the_refused_and_takes_again_after_a_block() {
        let (v, issuer) = (SecretKey::from_seed([1; 32]), SecretKey::from_seed([2; 32]));
        let g = genesis(&v, &issuer);
        let dir = tempfile::tempdir().unwrap();
        let a = node_with(dir.path(), &g, MempoolLimits { txs: 3, bytes: 1 << 20 });
        for n in 1..=3 {
            assert_eq!(a.submit(&att(&g, &issuer, n)).unwrap().1, Standing::Pending);
        }
        let fourth = att(&g, &issuer, 4);
        let e = a.submit(&fourth).unwrap_err();
        assert!(matches!(e, SubmitError::Busy { waiting: 3, limit_txs: 3, .. }), "{e}");
        assert!(e.to_string().contains("retry later"), "{e}");
        assert_eq!(a.store.raw(&fourth.id()).unwrap(), None, "nothing of a refused submission is kept");
        assert_eq!(a.standing(&fourth.id()).unwrap(), Standing::Unknown);
        // a resubmission of one already waiting is answered, not refused
        assert_eq!(a.submit(&att(&g, &issuer, 2)).unwrap().1, Standing::Pending);
        // in bulk: each answered on its own, in order
        let answers = a.submit_many(&[att(&g, &issuer, 1), att(&g, &issuer, 5)]);
        assert!(matches!(answers.as_slice(), [Ok((_, Standing::Pending)), Err(SubmitError::Busy { .. })]));
        assert_eq!(a.mempool_len(), 3);
        let bytes = a.mempool_bytes();
        assert!(bytes > 3 * 100, "the pool counts its bytes: {bytes}");
        // a block makes room, and the refused one goes in now
        let p = a.propose(0).unwrap();
        let cert = solo_certificate(&v, 0, p.header());
        a.commit(p, cert).unwrap();
        assert_eq!((a.mempool_len(), a.mempool_bytes()), (0, 0), "the block took them, and their bytes");
        assert_eq!(a.submit(&fourth).unwrap().1, Standing::Pending);
        assert!(a.store.raw(&fourth.id()).unwrap().is_some());

        // the byte bound: room for two anchors, not three
        let dir = tempfile::tempdir().unwrap();
        let one = credex_codec::encode(&Transaction::Anchor(AnchorTx::of(&att(&g, &issuer, 1)))).len();
        let b = node_with(dir.path(), &g, MempoolLimits { txs: 100, bytes: 2 * one + one / 2 });
        let answers = b.submit_many(&[att(&g, &issuer, 1), att(&g, &issuer, 2), att(&g, &issuer, 3)]);
        assert!(answers[0].is_ok() && answers[1].is_ok(), "{:?}", answers[1]);
        assert!(matches!(&answers[2], Err(SubmitError::Busy { waiting: 2, .. })), "{:?}", answers[2]);
        assert_eq!(b.mempool_bytes(), 2 * one);
    }

    #[test]
    fn a_follower_drops_pending_transactions_the_chain_now_refuses() {
        let (v, issuer) = (SecretKey::from_seed([1; 32]), SecretKey::from_seed([2; 32]));
        let g = genesis(&v, &issuer);
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, b) = (node(da.path(), &g), node(db.path(), &g));
        // two listings of the same trader: B holds one, A commits the other
        let mine = att_kind(&g, &issuer, 1, AttestationKind::AbnormalOperationListing);
        let theirs = att_kind(&g, &issuer, 2, AttestationKind::AbnormalOperationListing);
        let (id, standing) = b.submit(&mine).unwrap();
        assert_eq!(standing, Standing::Pending);
        let (blk, cert) = produce(&a, &v, &[theirs]);
        b.commit(b.validate_block(blk).unwrap(), cert).unwrap();
        assert_eq!(b.pending(10).len(), 1, "still pending until pruned");
        assert_eq!(b.prune_pending(), 1);
        assert!(b.pending(10).is_empty());
        assert!(matches!(b.standing(&id).unwrap(), Standing::Rejected(TxError::AlreadyListed { .. })));
    }

    /// A peer's block is judged by its certificate before it is executed:
    /// re-execution is the expensive part, and a block nobody certified
    /// must not cost the node that (issue #14, bounded inputs).
    #[test]
    fn a_synced_block_is_checked_against_its_certificate_before_it_is_executed() {
        let (v, issuer) = (SecretKey::from_seed([1; 32]), SecretKey::from_seed([2; 32]));
        let g = genesis(&v, &issuer);
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, b) = (node(da.path(), &g), node(db.path(), &g));
        let (b1, c1) = produce(&a, &v, &[att(&g, &issuer, 1)]);
        // a block that would fail execution, under a certificate by a stranger
        let mut bogus = b1.clone();
        bogus.header.state_root.0[0] ^= 1;
        let stranger = solo_certificate(&SecretKey::from_seed([8; 32]), 0, &bogus.header);
        let e = b.apply_certified(bogus, stranger).unwrap_err();
        assert!(matches!(e, SyncError::Certificate(_)), "refused for its certificate, not after executing it: {e}");
        // the real one, certified, goes through
        b.apply_certified(b1, c1).unwrap();
        assert_eq!(b.head(), a.head());
    }
}
