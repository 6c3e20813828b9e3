//! The node: chain state in memory over RocksDB, the mempool, block
//! production and proofs.
//!
//! **Consensus seam.** Blocks are made in two steps that any engine drives:
//! [`Node::propose`] (take transactions from the mempool, execute them
//! against the committed state, compute the header) and [`Node::commit`]
//! (store a proposed block with its certificate and make it the new head).
//! The single-validator engine ([`run_solo`]) signs its own precommit between
//! the two, which for n = 1 is a complete commit certificate under the
//! rules of spec §5.4. The BFT-network issue replaces `run_solo` with the
//! multi-validator engine; storage, chain logic and API stay as they are.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use credex_chain::{
    AnchorTx, Block, BlockContext, BlockOutcome, MemState, Overlay, StateRead, Transaction, TxError, apply_admitted,
};
use credex_crypto::{Hash32, SecretKey};
use credex_merkle::smt::SparseMerkleMap;
use credex_proof::{Anchor, CreditProof, build};
use credex_storage::{BlockCommit, Store, StoreError};
use credex_types::attestation::{Attestation, AttestationError, AttestationHeader, AttestationId};
use credex_types::chain::{BlockHeader, CommitCertificate, ValidatorSet, verify_commit};
use credex_types::genesis::Genesis;
use credex_types::labels::LabelTable;
use credex_types::lifecycle::{CaseId, CaseRecord, IssuerRecord, SubjectKeyRecord};
use credex_types::state::{AttestationRecord, AttestationStatus, ListingRecord, StateKey, StateValue};
use credex_types::{AgencyId, FieldCode, ListKind, SubjectId, Timestamp};

/// Most transactions waiting in the mempool.
pub const MEMPOOL_CAP: usize = 100_000;
/// Largest lead of a proposed block's time over a validator's clock.
pub const MAX_FUTURE_MS: u64 = 30_000;
/// Most transactions per block.
pub const BLOCK_TXS: usize = 5_000;
/// Remembered rejections (id → reason) of transactions dropped at block time.
const REJECTED_CAP: usize = 10_000;

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

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The attestation itself is malformed.
    #[error("{0}")]
    Attestation(#[from] AttestationError),
    /// Admission failed (chain, issuer, kind, signature).
    #[error("{0}")]
    Invalid(TxError),
    /// The current state forbids it (already listed, target not active, …).
    #[error("{0}")]
    Conflict(TxError),
    /// The attestation was erased: it can never be stored, served or proven with fields again.
    #[error("attestation {0} was erased; it cannot be submitted again")]
    Erased(AttestationId),
    /// The mempool is full.
    #[error("mempool is full ({MEMPOOL_CAP} transactions); retry later")]
    Busy,
    /// The raw record could not be written.
    #[error("storage: {0}")]
    RawWrite(String),
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

type RawJob = (Attestation, std::sync::mpsc::SyncSender<Result<(), String>>);

/// Group commit of raw records: submissions arriving together share one
/// fsync'd write. Each caller returns only once its record is durable.
struct RawWriter {
    tx: Mutex<Option<std::sync::mpsc::Sender<RawJob>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for RawWriter {
    /// Closes the queue and waits for the writer, so the store it shares is
    /// closed before the process exits (RocksDB aborts if torn down by
    /// static destructors while a thread still holds it).
    fn drop(&mut self) {
        self.tx.lock().unwrap_or_else(lock_err).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(lock_err).take() {
            let _ = t.join();
        }
    }
}

impl RawWriter {
    fn spawn(store: Arc<Store>) -> std::io::Result<RawWriter> {
        let (tx, rx) = std::sync::mpsc::channel::<RawJob>();
        let thread = std::thread::Builder::new().name("credex-raw-writer".into()).spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                while batch.len() < 4096 {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let atts: Vec<&Attestation> = batch.iter().map(|(a, _)| a).collect();
                let result = store.put_raws(&atts).map_err(|e| e.to_string());
                for (_, reply) in batch {
                    let _ = reply.send(result.clone());
                }
            }
        })?;
        Ok(RawWriter { tx: Mutex::new(Some(tx)), thread: Mutex::new(Some(thread)) })
    }

    fn put(&self, att: Attestation) -> Result<(), SubmitError> {
        let (reply, done) = std::sync::mpsc::sync_channel(1);
        let sent = match self.tx.lock().unwrap_or_else(lock_err).as_ref() {
            Some(tx) => tx.send((att, reply)).is_ok(),
            None => false,
        };
        if !sent {
            return Err(SubmitError::RawWrite("raw-record writer stopped".into()));
        }
        done.recv()
            .map_err(|_| SubmitError::RawWrite("raw-record writer stopped".into()))?
            .map_err(SubmitError::RawWrite)
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

struct Chain {
    state: MemState,
    smt: SparseMerkleMap,
    head: Option<(BlockHeader, CommitCertificate)>,
    rejected: HashMap<AttestationId, TxError>,
    rejected_order: VecDeque<AttestationId>,
}

/// The keys a transaction's signatures were verified under.
type VerifiedKeys = Vec<credex_crypto::PublicKey>;

#[derive(Default)]
struct Mempool {
    queue: VecDeque<(AttestationId, Transaction)>,
    /// Ids in the queue, with the keys their signatures were verified under at admission.
    ids: HashMap<AttestationId, VerifiedKeys>,
}

/// A block ready for a certificate.
pub struct Proposal {
    block: Block,
    outcome: BlockOutcome,
    included: Vec<AttestationId>,
}

impl Proposal {
    /// The proposed header.
    pub fn header(&self) -> &BlockHeader {
        &self.block.header
    }

    /// The proposed block.
    pub fn block(&self) -> &Block {
        &self.block
    }
}

/// Why a proof cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// No such attestation on chain.
    #[error("attestation {0} is not anchored")]
    NotAnchored(AttestationId),
    /// Anchored, but this node does not hold its fields.
    #[error("this node does not hold the fields of attestation {0}; ask the issuer's node")]
    NoRawRecord(AttestationId),
    /// A field to disclose is absent.
    #[error("{0}")]
    Disclose(AttestationError),
    /// Nothing committed yet.
    #[error("no block committed yet")]
    NoBlock,
    /// No such case.
    #[error("case {0} is not on chain")]
    NoCase(CaseId),
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl From<build::BuildError> for ProofError {
    fn from(e: build::BuildError) -> ProofError {
        match e {
            build::BuildError::NotAnchored(id) => ProofError::NotAnchored(id),
            build::BuildError::NoCase(id) => ProofError::NoCase(id),
            build::BuildError::NoRoot => ProofError::NoBlock,
            build::BuildError::Disclose(e) => ProofError::Disclose(e),
        }
    }
}

/// The node.
pub struct Node {
    genesis: Genesis,
    genesis_hash: Hash32,
    set: ValidatorSet,
    labels: LabelTable,
    store: Arc<Store>,
    raw: RawWriter,
    chain: RwLock<Chain>,
    mempool: Mutex<Mempool>,
    clock: Box<dyn Clock>,
    new_tx: tokio::sync::Notify,
    height_tx: tokio::sync::watch::Sender<u64>,
    wiring: Wiring,
    metrics: crate::metrics::Metrics,
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
}

impl Wiring {
    /// A node on its own: role `dev`, no identity, network or warnings.
    pub fn solo() -> Wiring {
        Wiring { role: "dev", identity: None, gossip: None, touched: None, peers: None, net: None }
    }
}

/// Proofs are built from the committed state and its map ([`build`]).
impl build::ProofSource for Chain {
    fn value(&self, key: &StateKey) -> Option<StateValue> {
        self.state.get(key)
    }

    fn map_proof(&self, key: &StateKey) -> Option<credex_merkle::smt::SmtProof> {
        self.smt.proof(&key.hash())
    }
}

fn lock_err<T>(e: std::sync::PoisonError<T>) -> T {
    // A panic while holding a lock cannot leave the chain half-updated
    // (writes are applied after the durable commit); keep serving.
    e.into_inner()
}

impl Node {
    /// Opens the store and rebuilds the in-memory state and map.
    pub fn open(genesis: Genesis, store: Store, clock: Box<dyn Clock>, wiring: Wiring) -> anyhow::Result<Node> {
        let labels = LabelTable::builtin();
        anyhow::ensure!(
            genesis.pins_labels(&labels),
            "genesis pins label table {}, this binary has {}",
            genesis.labels_hash,
            labels.hash()
        );
        let started = std::time::Instant::now();
        let state = store.load_state()?;
        let mut smt = SparseMerkleMap::new();
        for (k, v) in &state.values {
            smt.insert(*k, v.hash());
        }
        let root = smt.root();
        let height = store.height()?;
        let head = if height == 0 {
            None
        } else {
            let block = store.block(height)?.ok_or_else(|| anyhow::anyhow!("block {height} missing"))?;
            let cert = store.certificate(height)?.ok_or_else(|| anyhow::anyhow!("certificate {height} missing"))?;
            anyhow::ensure!(
                block.header.state_root == root,
                "state rebuilt from disk has root {root}, block {height} says {}",
                block.header.state_root
            );
            Some((block.header, cert))
        };
        tracing::info!(target: "credex::node", height, entries = state.values.len(), ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX), "state loaded");
        let set = genesis.validator_set();
        let (height_tx, _) = tokio::sync::watch::channel(height);
        let store = Arc::new(store);
        let raw = RawWriter::spawn(store.clone())?;
        Ok(Node {
            genesis_hash: genesis.hash(),
            genesis,
            set,
            labels,
            store,
            raw,
            chain: RwLock::new(Chain { state, smt, head, rejected: HashMap::new(), rejected_order: VecDeque::new() }),
            mempool: Mutex::new(Mempool::default()),
            clock,
            new_tx: tokio::sync::Notify::new(),
            height_tx,
            wiring,
            metrics: crate::metrics::Metrics::default(),
        })
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The genesis hash.
    pub fn genesis_hash(&self) -> Hash32 {
        self.genesis_hash
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

    /// Index of `key` in the validator set, if it is a validator.
    pub fn validator_index(&self, key: &credex_crypto::PublicKey) -> Option<u16> {
        self.set.validators.iter().position(|v| v.key == *key).and_then(|i| u16::try_from(i).ok())
    }

    /// The validator set.
    pub fn validator_set(&self) -> &ValidatorSet {
        &self.set
    }

    /// The head header, if any.
    pub fn head(&self) -> Option<BlockHeader> {
        self.chain.read().unwrap_or_else(lock_err).head.as_ref().map(|(h, _)| h.clone())
    }

    /// Drops waiting transactions that the committed state now refuses (a
    /// conflicting transaction was committed first), remembering why; a
    /// follower calls it after applying blocks so it stops republishing them.
    pub fn prune_pending(&self) -> usize {
        let pending: Vec<(AttestationId, Transaction)> =
            self.mempool.lock().unwrap_or_else(lock_err).queue.iter().cloned().collect();
        let mut dead = Vec::new();
        {
            let chain = self.chain.read().unwrap_or_else(lock_err);
            let ctx = BlockContext { height: self.height() + 1, time: self.clock.now() };
            for (id, tx) in &pending {
                let mut overlay = Overlay::new(&chain.state);
                if let Err(e) = apply_admitted(&mut overlay, &self.genesis, ctx, tx) {
                    dead.push((*id, e));
                }
            }
        }
        let n = dead.len();
        if n > 0 {
            let mut chain = self.chain.write().unwrap_or_else(lock_err);
            self.reject(&mut chain, dead, "dropped: refused by the committed state");
        }
        n
    }

    /// Takes refused transactions out of the pool and remembers why (bounded).
    fn reject(&self, chain: &mut Chain, dead: Vec<(AttestationId, TxError)>, why: &'static str) {
        if dead.is_empty() {
            return;
        }
        {
            let mut pool = self.mempool.lock().unwrap_or_else(lock_err);
            let ids: HashSet<&AttestationId> = dead.iter().map(|(id, _)| id).collect();
            pool.queue.retain(|(id, _)| !ids.contains(id));
            for id in ids {
                pool.ids.remove(id);
            }
        }
        for (id, e) in dead {
            self.metrics.reject(e.code());
            tracing::info!(target: "credex::mempool", %id, error = %e, "{why}");
            chain.rejected.insert(id, e);
            chain.rejected_order.push_back(id);
        }
        while chain.rejected_order.len() > REJECTED_CAP {
            if let Some(old) = chain.rejected_order.pop_front() {
                chain.rejected.remove(&old);
            }
        }
    }

    /// Up to `limit` waiting transactions with their ids, oldest first.
    pub fn pending(&self, limit: usize) -> Vec<(AttestationId, Transaction)> {
        self.mempool.lock().unwrap_or_else(lock_err).queue.iter().take(limit).cloned().collect()
    }

    /// Transactions waiting.
    pub fn mempool_len(&self) -> usize {
        self.mempool.lock().unwrap_or_else(lock_err).queue.len()
    }

    /// Admits an attestation: checks it, keeps its full record, queues its
    /// anchor. Resubmitting is idempotent.
    pub fn submit(&self, att: &Attestation) -> Result<(AttestationId, Standing), SubmitError> {
        att.check_shape()?;
        att.check_labels(&self.labels)?;
        let tx = Transaction::Anchor(AnchorTx::of(att));
        let admitted = self.check_tx(&tx)?;
        let id = admitted.id;
        if let Standing::Anchored(h) = self.standing(&id)? {
            // Erased means erased: the record is never stored again (spec §11.5).
            if matches!(self.record(&id).map(|r| r.status), Some(AttestationStatus::Erased { .. })) {
                return Err(SubmitError::Erased(id));
            }
            if self.store.raw(&id)?.is_none() {
                self.store.put_raw(att)?;
            }
            return Ok((id, Standing::Anchored(h)));
        }
        self.check_against_state(&tx, &admitted)?;
        // The issuer's node keeps the fields (durably) before anyone learns the id.
        self.raw.put(att.clone())?;
        let standing = self.enqueue(id, tx.clone(), admitted.keys())?;
        if let Some(out) = self.wiring.gossip.as_ref() {
            // Other nodes get the anchor only (header, claims root, signature).
            let _ = out.send(tx);
        }
        Ok((id, standing))
    }

    /// Admits a transaction gossiped by another node (no fields, no raw record).
    pub fn submit_tx(&self, tx: &Transaction) -> Result<(AttestationId, Standing), SubmitError> {
        // Repeats (gossip republishes) are answered before any signature work.
        let known = tx.id();
        match self.standing(&known)? {
            s @ (Standing::Anchored(_) | Standing::Pending) => return Ok((known, s)),
            Standing::Rejected(_) | Standing::Unknown => {}
        }
        let admitted = self.check_tx(tx)?;
        self.check_against_state(tx, &admitted)?;
        Ok((admitted.id, self.enqueue(admitted.id, tx.clone(), admitted.keys())?))
    }

    /// Admits a transaction a local client submitted (subject acts, key
    /// bindings, governance, evidence) and gossips it.
    pub fn submit_local(&self, tx: &Transaction) -> Result<(AttestationId, Standing), SubmitError> {
        let (id, standing) = self.submit_tx(tx)?;
        if let (Standing::Pending, Some(out)) = (&standing, self.wiring.gossip.as_ref()) {
            let _ = out.send(tx.clone());
        }
        Ok((id, standing))
    }

    /// Stateless and registry checks with every signature, against the
    /// committed state; the id and the keys the signatures verified under.
    fn check_tx(&self, tx: &Transaction) -> Result<credex_chain::Admitted, SubmitError> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        credex_chain::admit_checked(&chain.state, &self.genesis, tx).map_err(SubmitError::Invalid)
    }

    /// This node's role: `dev`, `validator` or `observer`.
    pub fn role(&self) -> &'static str {
        self.wiring.role
    }

    /// Connected peers.
    pub fn peers(&self) -> usize {
        self.wiring.peers.as_ref().map(|p| *p.borrow()).unwrap_or(0)
    }

    fn check_against_state(&self, tx: &Transaction, admitted: &credex_chain::Admitted) -> Result<(), SubmitError> {
        // The committed state's verdict (pending transactions are checked again at block time).
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let mut overlay = Overlay::new(&chain.state);
        let ctx = BlockContext { height: self.height() + 1, time: self.clock.now() };
        // Structure and signatures were checked by `check_tx` just before: only the state rules run.
        credex_chain::apply_rules_of(&mut overlay, &self.genesis, ctx, tx, admitted).map_err(SubmitError::Conflict)?;
        drop(overlay);
        Ok(())
    }

    fn enqueue(
        &self,
        id: AttestationId,
        tx: Transaction,
        keys: Vec<credex_crypto::PublicKey>,
    ) -> Result<Standing, SubmitError> {
        {
            let mut pool = self.mempool.lock().unwrap_or_else(lock_err);
            if pool.ids.contains_key(&id) {
                return Ok(Standing::Pending);
            }
            if pool.queue.len() >= MEMPOOL_CAP {
                return Err(SubmitError::Busy);
            }
            pool.ids.insert(id, keys);
            pool.queue.push_back((id, tx));
        }
        self.chain.write().unwrap_or_else(lock_err).rejected.remove(&id);
        self.new_tx.notify_one();
        tracing::debug!(target: "credex::mempool", %id, "admitted");
        Ok(Standing::Pending)
    }

    /// Where transaction `id` is (an attestation id, a case id, or another
    /// transaction's hash).
    pub fn standing(&self, id: &AttestationId) -> Result<Standing, StoreError> {
        if let Some((h, _)) = self.store.anchor(id)? {
            return Ok(Standing::Anchored(h));
        }
        if let Some(h) = self.store.tx_height(&id.0)? {
            return Ok(Standing::Anchored(h));
        }
        if let Some(c) = self.case(&CaseId(id.0)) {
            return Ok(Standing::Anchored(c.history.first().map_or(0, |e| e.height)));
        }
        if self.mempool.lock().unwrap_or_else(lock_err).ids.contains_key(id) {
            return Ok(Standing::Pending);
        }
        Ok(match self.chain.read().unwrap_or_else(lock_err).rejected.get(id) {
            Some(e) => Standing::Rejected(e.clone()),
            None => Standing::Unknown,
        })
    }

    /// The on-chain record of `id`.
    pub fn record(&self, id: &AttestationId) -> Option<AttestationRecord> {
        match self.chain.read().unwrap_or_else(lock_err).state.get(&StateKey::Attestation(*id)) {
            Some(StateValue::Attestation(r)) => Some(r),
            _ => None,
        }
    }

    /// The anchored header of `id`.
    pub fn anchored_header(&self, id: &AttestationId) -> Option<AttestationHeader> {
        self.chain.read().unwrap_or_else(lock_err).state.anchored(id)
    }

    /// The committed state value under `key`.
    pub fn state_value(&self, key: &StateKey) -> Option<StateValue> {
        self.chain.read().unwrap_or_else(lock_err).state.get(key)
    }

    /// A case.
    pub fn case(&self, id: &CaseId) -> Option<CaseRecord> {
        match self.state_value(&StateKey::Case(*id)) {
            Some(StateValue::Case(c)) => Some(c),
            _ => None,
        }
    }

    /// A subject's bound key.
    pub fn subject_key(&self, subject: &SubjectId) -> Option<SubjectKeyRecord> {
        match self.state_value(&StateKey::SubjectKey(subject.clone())) {
            Some(StateValue::SubjectKey(k)) => Some(k),
            _ => None,
        }
    }

    /// The registry entry of `agency` (state, else genesis).
    pub fn issuer(&self, agency: &AgencyId) -> Option<IssuerRecord> {
        credex_chain::issuer(&self.chain.read().unwrap_or_else(lock_err).state, &self.genesis, agency)
    }

    /// The whole issuer registry: genesis issuers and those governance added.
    pub fn issuers(&self) -> Vec<(AgencyId, IssuerRecord)> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let mut ids: BTreeSet<AgencyId> = self.genesis.issuers.iter().map(|i| i.agency.clone()).collect();
        ids.extend(chain.state.governed_issuers().cloned());
        ids.into_iter().filter_map(|a| credex_chain::issuer(&chain.state, &self.genesis, &a).map(|r| (a, r))).collect()
    }

    /// What the chain knows about `subject`, as the grading and warning rules read it.
    pub fn subject_record(&self, subject: &SubjectId) -> Result<credex_rules::Record, StoreError> {
        let ids = self.store.by_subject(subject)?;
        let cases = self.store.cases_of(subject)?;
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let attestations = ids
            .iter()
            .filter_map(|(id, _)| {
                let header = chain.state.anchored(id)?;
                match chain.state.get(&StateKey::Attestation(*id)) {
                    Some(StateValue::Attestation(r)) => Some(credex_rules::Entry { header, status: r.status }),
                    _ => None,
                }
            })
            .collect();
        let listings = ListKind::ALL
            .iter()
            .filter_map(|l| match chain.state.get(&StateKey::Listing { list: *l, subject: subject.clone() }) {
                Some(StateValue::Listing(r)) => Some((*l, r)),
                _ => None,
            })
            .collect();
        let cases = cases
            .iter()
            .filter_map(|(id, _)| match chain.state.get(&StateKey::Case(*id)) {
                Some(StateValue::Case(c)) => Some(c),
                _ => None,
            })
            .collect();
        Ok(credex_rules::Record { attestations, listings, cases })
    }

    /// Subjects whose abnormal-operation listing took effect at or before `cutoff` (at most `limit`).
    pub fn abnormal_since(&self, cutoff: Timestamp, limit: usize) -> Vec<SubjectId> {
        self.chain.read().unwrap_or_else(lock_err).state.due_escalations(cutoff, limit)
    }

    /// The node's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// A credit proof of case `id`.
    pub fn case_proof(&self, id: &CaseId) -> Result<CreditProof, ProofError> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let claim = build::case_claim(&*chain, *id)?;
        Ok(build::proof(claim, Self::anchor_of(&chain)?))
    }

    /// This node's agency and node key, if it has one.
    pub fn identity(&self) -> Option<&(AgencyId, SecretKey)> {
        self.wiring.identity.as_ref()
    }

    /// The jurisdiction of an agency: a genesis validator's or observer's, or an issuer's.
    pub fn jurisdiction_of(&self, agency: &AgencyId) -> Option<credex_types::Jurisdiction> {
        let g = &self.genesis;
        g.validators
            .iter()
            .find(|v| &v.agency == agency)
            .map(|v| v.jurisdiction)
            .or_else(|| g.observers.iter().find(|o| &o.agency == agency).map(|o| o.jurisdiction))
            .or_else(|| self.issuer(agency).map(|r| r.jurisdiction))
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

    /// Subjects on `list` now with their listings (see [`MemState::members`]), and the list's size.
    pub fn members(
        &self,
        list: ListKind,
        after: Option<&SubjectId>,
        query: Option<&str>,
        limit: usize,
    ) -> (Vec<(SubjectId, credex_types::state::Listing)>, usize) {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let out = chain
            .state
            .members(list, after, query, limit)
            .into_iter()
            .filter_map(|s| match chain.state.get(&StateKey::Listing { list, subject: s.clone() }) {
                Some(StateValue::Listing(ListingRecord { current: Some(l), .. })) => Some((s, l)),
                _ => None,
            })
            .collect();
        (out, chain.state.member_count(list))
    }

    /// The node's metrics.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The network handle, if this node is on a network.
    pub fn net(&self) -> Option<&credex_p2p::Handle> {
        self.wiring.net.as_ref()
    }

    /// A subject's record on `list` (None: never listed).
    pub fn listing(&self, list: ListKind, subject: &SubjectId) -> Option<ListingRecord> {
        match self
            .chain
            .read()
            .unwrap_or_else(lock_err)
            .state
            .get(&StateKey::Listing { list, subject: subject.clone() })
        {
            Some(StateValue::Listing(r)) => Some(r),
            _ => None,
        }
    }

    /// Executes pending transactions into the next block (consensus seam, step 1).
    /// The pool is not drained: its transactions leave it when a block holding
    /// them is committed. Transactions the state now refuses are dropped and
    /// remembered as rejected.
    /// Returns `None` when there is nothing to do.
    pub fn propose(&self, proposer: u16) -> Option<Proposal> {
        self.propose_with(proposer, false)
    }

    /// As [`Node::propose`]; with `allow_empty` an empty pool still gives a
    /// block (the BFT engine must propose something in every round it leads).
    pub fn propose_with(&self, proposer: u16, allow_empty: bool) -> Option<Proposal> {
        // A snapshot: transactions stay in the pool until a block holding
        // them is committed, so a proposal that is never decided loses nothing.
        let (batch, verified): (Vec<(AttestationId, Transaction)>, HashMap<AttestationId, VerifiedKeys>) = {
            let pool = self.mempool.lock().unwrap_or_else(lock_err);
            let batch: Vec<_> = pool.queue.iter().take(BLOCK_TXS).cloned().collect();
            let verified = batch.iter().filter_map(|(id, _)| pool.ids.get(id).map(|k| (*id, k.clone()))).collect();
            (batch, verified)
        };
        // Built under the read lock: readers (API, proofs) go on meanwhile.
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let parent = chain.head.as_ref().map(|(h, _)| h);
        let ctx = credex_chain::next_context(parent, self.genesis.genesis_time, self.clock.now());
        if batch.is_empty() && !allow_empty && !credex_chain::has_block_work(&chain.state, ctx.time) {
            return None;
        }
        let already =
            |id: &AttestationId, key: &credex_crypto::PublicKey| verified.get(id).is_some_and(|k| k.contains(key));
        let built = credex_chain::build_block(&chain.state, &self.genesis, ctx, batch, &already);
        let (txs, included): (Vec<Transaction>, Vec<AttestationId>) =
            built.included.into_iter().map(|(id, tx)| (tx, id)).unzip();
        let mut outcome = BlockOutcome::new(built.state, &txs, built.escalated, built.dropped);
        let state_root = chain.smt.root_with(&outcome.map_updates());
        let header = state_root.map(|root| {
            credex_chain::next_header(&self.genesis.chain_id, &self.set, parent, ctx, proposer, &txs, root)
        });
        drop(chain);
        let dropped = std::mem::take(&mut outcome.dropped);
        if !dropped.is_empty() {
            let mut chain = self.chain.write().unwrap_or_else(lock_err);
            self.reject(&mut chain, dropped, "dropped at block time");
        }
        if txs.is_empty() && outcome.escalated.is_empty() && !allow_empty {
            return None;
        }
        // The map is clean between commits (each ends with its root); a
        // dirty map here is a bug, and no block is better than a wrong root.
        let Some(header) = header else {
            tracing::error!(target: "credex::chain", "state map not rehashed since the last commit; no proposal");
            return None;
        };
        Some(Proposal { block: Block { header, txs }, outcome, included })
    }

    /// Checks another node's block against the committed head and re-executes
    /// it; the result can be committed with its certificate.
    pub fn validate_block(&self, block: Block) -> Result<Proposal, BlockError> {
        // Executed under the read lock: readers go on meanwhile.
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let height = block.header.height;
        let parent = chain.head.as_ref().map(|(h, _)| h);
        let ctx =
            credex_chain::check_header(&self.genesis.chain_id, &self.set, parent, self.genesis.genesis_time, &block)
                .map_err(|e| BlockError::Header { height, what: header_rule(e) })?;
        let state = credex_chain::execute_block(&chain.state, &self.genesis, ctx, &block.txs)
            .map_err(|e| BlockError::Execution { height, error: e.to_string() })?;
        let outcome = BlockOutcome::new(state, &block.txs, Vec::new(), Vec::new());
        if chain.smt.root_with(&outcome.map_updates()) != Some(block.header.state_root) {
            return Err(BlockError::Header { height, what: "state root" });
        }
        drop(chain);
        let included = block.txs.iter().map(Transaction::id).collect();
        Ok(Proposal { block, outcome, included })
    }

    /// Checks a proposed (not yet certified) block's time against this
    /// node's clock: block time drives chain rules (escalation, deadlines),
    /// so a proposer may not run it more than [`MAX_FUTURE_MS`] ahead.
    /// Certified blocks (sync) are not subject to it.
    pub fn check_proposal_time(&self, header: &BlockHeader) -> Result<(), BlockError> {
        if header.time.0 > self.clock.now().0.saturating_add(MAX_FUTURE_MS) {
            return Err(BlockError::Header {
                height: header.height,
                what: "time is too far ahead of this node's clock",
            });
        }
        Ok(())
    }

    /// The block at `height` with its certificate.
    pub fn block_with_certificate(&self, height: u64) -> Result<Option<(Block, CommitCertificate)>, StoreError> {
        Ok(match (self.store.block(height)?, self.store.certificate(height)?) {
            (Some(b), Some(c)) => Some((b, c)),
            _ => None,
        })
    }

    /// Stores a proposal with its certificate and makes it the head
    /// (consensus seam, step 2). The certificate is checked first.
    pub fn commit(&self, proposal: Proposal, cert: CommitCertificate) -> anyhow::Result<()> {
        verify_commit(&self.set, &proposal.block.header, &cert)?;
        let mut chain = self.chain.write().unwrap_or_else(lock_err);
        let expected = chain.head.as_ref().map_or(1, |(h, _)| h.height + 1);
        anyhow::ensure!(
            proposal.block.header.height == expected,
            "proposal for height {} but next is {expected}",
            proposal.block.header.height
        );
        let outcome = proposal.outcome;
        self.store.commit_block(&BlockCommit {
            block: &proposal.block,
            certificate: &cert,
            writes: &outcome.writes,
            anchors: &outcome.anchors,
            erased: &outcome.erased,
        })?;
        for id in &outcome.erased {
            tracing::info!(target: "credex::chain", %id, "erased: raw record and its key destroyed");
        }
        // durable: now apply to memory
        let new_anchors: BTreeMap<AttestationId, AttestationHeader> =
            outcome.anchors.iter().map(|a| (a.id(), a.header.clone())).collect();
        for (k, v) in &outcome.writes {
            chain.smt.insert(k.hash(), v.hash());
        }
        let root = chain.smt.root();
        if root != proposal.block.header.state_root {
            // Execution is deterministic; this would be a bug, and continuing
            // would serve proofs that do not verify.
            anyhow::bail!(
                "state root after commit {root} differs from the header's {}",
                proposal.block.header.state_root
            );
        }
        let touched = outcome.touched;
        chain.state.apply(outcome.writes, new_anchors);
        let height = proposal.block.header.height;
        let block_time = proposal.block.header.time;
        let txs = proposal.block.txs.len();
        chain.head = Some((proposal.block.header, cert));
        drop(chain);
        {
            // Whoever proposed the block, its transactions leave this node's pool.
            let mut pool = self.mempool.lock().unwrap_or_else(lock_err);
            let included: HashSet<&AttestationId> = proposal.included.iter().collect();
            pool.queue.retain(|(id, _)| !included.contains(id));
            for id in &proposal.included {
                pool.ids.remove(id);
            }
        }
        self.height_tx.send_replace(height);
        #[allow(clippy::cast_precision_loss)] // milliseconds far below 2^52
        self.metrics.observe_finality(self.clock.now().since(block_time) as f64 / 1000.0);
        if let Some(out) = self.wiring.touched.as_ref() {
            // Never blocks: the early-warning task drains it at its own pace.
            let _ = out.send(touched);
        }
        tracing::info!(target: "credex::chain", height, txs, "block committed");
        Ok(())
    }

    /// The anchor (head header, certificate) proofs are made against.
    fn anchor_of(chain: &Chain) -> Result<Anchor, ProofError> {
        let (header, certificate) = chain.head.clone().ok_or(ProofError::NoBlock)?;
        Ok(Anchor { set_changes: vec![], header, certificate })
    }

    /// A credit proof for attestation `id`, disclosing `disclose`. Without
    /// the fields (erased, or held by another node) and with nothing to
    /// disclose, a status proof: header, claims root, signature and status.
    pub fn attestation_proof(&self, id: &AttestationId, disclose: &[FieldCode]) -> Result<CreditProof, ProofError> {
        let raw = self.store.raw(id)?;
        let anchored = self.store.anchor(id)?;
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let claim = match (raw, anchored) {
            (Some(raw), _) => build::attestation_claim(&*chain, &raw, disclose)?,
            (None, Some((_, a))) if disclose.is_empty() => {
                build::status_claim(&*chain, a.header, a.claims_root, a.signature)?
            }
            (None, Some(_)) => return Err(ProofError::NoRawRecord(*id)),
            (None, None) => return Err(ProofError::NotAnchored(*id)),
        };
        Ok(build::proof(claim, Self::anchor_of(&chain)?))
    }

    /// A credit proof of `subject`'s standing on `list`.
    pub fn listing_proof(&self, list: ListKind, subject: &SubjectId) -> Result<CreditProof, ProofError> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let claim = build::list_claim(&*chain, list, subject)?;
        Ok(build::proof(claim, Self::anchor_of(&chain)?))
    }

    /// Waits until a transaction arrives or `timeout` passes.
    pub async fn wait_for_tx(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.new_tx.notified()).await;
    }
}

/// Why another node's block was refused.
#[derive(Debug, thiserror::Error)]
pub enum BlockError {
    /// A header field is wrong.
    #[error("block {height}: {what}")]
    Header {
        /// Height of the block.
        height: u64,
        /// Which check failed.
        what: &'static str,
    },
    /// A transaction does not apply.
    #[error("block {height}: {error}")]
    Execution {
        /// Height.
        height: u64,
        /// Why.
        error: String,
    },
}

/// The words of a broken header rule (the `what` of [`BlockError::Header`]).
fn header_rule(e: credex_chain::HeaderError) -> &'static str {
    use credex_chain::HeaderError as E;
    match e {
        E::ChainId => "chain id",
        E::Height => "height does not follow the head",
        E::Parent => "parent is not the head",
        E::Time => "time does not increase",
        E::ValidatorSet => "validator set",
        E::Proposer => "proposer",
        E::TxRoot => "transaction root",
    }
}

/// The one-signature certificate of a single-validator chain (round 0).
pub fn solo_certificate(key: &SecretKey, index: u16, h: &BlockHeader) -> CommitCertificate {
    CommitCertificate::signed(h, 0, &[(index, key)])
}

/// The single-validator engine: proposes whenever transactions wait, signs
/// the precommit with the only validator key, commits. Runs until the
/// process stops; a commit failure (disk) stops the node.
pub async fn run_solo(node: Arc<Node>, key: SecretKey, interval: Duration) -> anyhow::Result<()> {
    let index = node
        .set
        .validators
        .iter()
        .position(|v| v.key == key.public())
        .and_then(|i| u16::try_from(i).ok())
        .ok_or_else(|| anyhow::anyhow!("this node's key is not a validator of the genesis"))?;
    anyhow::ensure!(
        node.set.validators.len() == 1,
        "the single-validator engine needs a genesis with exactly one validator"
    );
    loop {
        node.wait_for_tx(interval).await;
        // Let a burst of submissions gather into one block.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let n = node.clone();
        let k = SecretKey::from_seed(key.seed());
        let done = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            while let Some(p) = n.propose(index) {
                let cert = solo_certificate(&k, index, p.header());
                n.commit(p, cert)?;
            }
            Ok(())
        })
        .await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(e) => anyhow::bail!("block production task failed: {e}"),
        }
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
        let store = Store::open(dir, g.hash()).unwrap();
        Node::open(g.clone(), store, Box::new(Fixed(std::sync::atomic::AtomicU64::new(2_000_000))), Wiring::solo())
            .unwrap()
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
        assert!(b.check_proposal_time(&x.header).unwrap_err().to_string().contains("too far ahead"));
        assert!(b.check_proposal_time(&b2.header).is_ok());
        // and with the real one it goes through
        b.commit(b.validate_block(b2).unwrap(), c2).unwrap();
        assert_eq!(b.head(), a.head());
        assert_eq!(b.height(), 2);
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
}
