//! The mempool: admission of submissions (signatures checked once, then
//! the state rules against the committed state), the queue blocks are
//! built from, and where each transaction stands.

use super::*;

/// The mempool's bounds: how many transactions, and how many bytes of
/// them (their canonical encoding), may wait for a block. A submission
/// beyond either is refused with [`SubmitError::Busy`] (HTTP 503 with
/// `Retry-After`, spec §12.5) before anything of it is written; so what is
/// accepted waits at most about `txs / blocks-per-second × BLOCK_TXS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MempoolLimits {
    /// Most transactions waiting.
    pub txs: usize,
    /// Most bytes waiting (sum of the transactions' encoded sizes).
    pub bytes: usize,
}

impl MempoolLimits {
    /// The default count: four full blocks ([`super::BLOCK_TXS`]), a few
    /// seconds of a single validator's work on a small machine.
    pub const DEFAULT_TXS: usize = 4 * super::BLOCK_TXS;
    /// The default size, 64 MiB (an anchor is about 300 bytes; the byte
    /// bound matters for large governance and evidence transactions).
    pub const DEFAULT_BYTES: usize = 64 << 20;
}

impl Default for MempoolLimits {
    fn default() -> Self {
        MempoolLimits { txs: Self::DEFAULT_TXS, bytes: Self::DEFAULT_BYTES }
    }
}

/// How long a client refused as busy should wait before it retries, in
/// seconds (the `Retry-After` of a 503 `busy`): the time a block takes to
/// drain, rounded up; clients add jitter and back off further on repeats.
pub const BUSY_RETRY_AFTER_S: u64 = 1;

/// How long a client refused because the node is read-only should wait
/// (the disk check runs every 2 s; space rarely returns that fast).
pub const READ_ONLY_RETRY_AFTER_S: u64 = 30;

/// Remembered rejections (id → reason) of transactions dropped at block time.
pub(super) const REJECTED_CAP: usize = 10_000;

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
    /// The node could not read its own state: nothing is decided, retry.
    #[error("{0}")]
    State(credex_chain::StateError),
    /// The attestation was erased: it can never be stored, served or proven with fields again.
    #[error("attestation {0} was erased; it cannot be submitted again")]
    Erased(AttestationId),
    /// The mempool is full (in count or in bytes): nothing of the
    /// submission was kept; retry after [`BUSY_RETRY_AFTER_S`].
    #[error(
        "the node is busy: {waiting} transactions ({bytes} bytes) wait for a block, the most it holds is {limit_txs} ({limit_bytes} bytes); retry later"
    )]
    Busy {
        /// Transactions waiting (with those being admitted).
        waiting: usize,
        /// Their bytes.
        bytes: usize,
        /// [`MempoolLimits::txs`].
        limit_txs: usize,
        /// [`MempoolLimits::bytes`].
        limit_bytes: usize,
    },
    /// A `credit-grade` whose grade or score is not what the published
    /// model gives (spec §11.6), with no `reason` marking it as manual.
    #[error(
        "grade {given} / score {given_score} is not what {model} gives for this subject in sector {sector} ({grade} / {score}); \
         issue the model's grade (credex grade --key …), or add a `reason` field to record a manual grading"
    )]
    GradeNotModel {
        /// The grade given.
        given: String,
        /// The score given.
        given_score: String,
        /// The model.
        model: &'static str,
        /// The sector.
        sector: String,
        /// The model's grade.
        grade: char,
        /// The model's score.
        score: i64,
    },
    /// A `credit-grade` of a subject the chain holds nothing about.
    #[error(
        "the chain holds nothing about {0}: the model's starting score is not an assessment; \
         add a `reason` field to record a manual grading"
    )]
    GradeWithoutRecord(credex_types::SubjectId),
    /// The node is in read-only mode.
    #[error("this node is read-only: the free space of its disk is below its floor (--min-free-disk-mb); retry later")]
    ReadOnly,
    /// The raw record could not be written.
    #[error("storage: {0}")]
    RawWrite(String),
    /// Storage failed.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

/// A submission checked and given room, or answered already.
enum Prepared<'a> {
    /// On chain already (an idempotent resubmission).
    Done(AttestationId, Standing),
    /// In the pool already: only its raw record is (re)written.
    Pending { id: AttestationId },
    /// To be queued in the room reserved for it.
    Admit { id: AttestationId, tx: Box<Transaction>, keys: VerifiedKeys, room: Reservation<'a> },
}

/// The keys a transaction's signatures were verified under.
pub(super) type VerifiedKeys = Vec<credex_crypto::PublicKey>;

pub(super) struct Mempool {
    limits: MempoolLimits,
    queue: VecDeque<(AttestationId, Arc<Transaction>)>,
    /// Ids in the queue, with the keys their signatures were verified under
    /// at admission, their encoded size and their hash.
    ids: HashMap<AttestationId, (VerifiedKeys, usize, Hash32)>,
    /// The queue's transactions by hash (spec §10.7: a proposal names its
    /// transactions by hash).
    by_hash: HashMap<Hash32, Arc<Transaction>>,
    /// Bytes of the transactions in the queue.
    bytes: usize,
    /// Room promised to submissions being admitted (their raw records are
    /// being written): count and bytes.
    reserved: (usize, usize),
    /// Remembered rejections (id → reason) of transactions dropped at block
    /// time, oldest first in `rejected_order` (at most [`REJECTED_CAP`]).
    /// Under the pool's lock with the queue: a transaction leaves the queue
    /// and gets its rejection in one step, so it is never unknown between.
    rejected: HashMap<AttestationId, TxError>,
    rejected_order: VecDeque<AttestationId>,
}

impl Mempool {
    pub(super) fn new(limits: MempoolLimits) -> Mempool {
        Mempool {
            limits,
            queue: VecDeque::new(),
            ids: HashMap::new(),
            by_hash: HashMap::new(),
            bytes: 0,
            reserved: (0, 0),
            rejected: HashMap::new(),
            rejected_order: VecDeque::new(),
        }
    }

    pub(super) fn len(&self) -> usize {
        self.queue.len()
    }

    pub(super) fn contains(&self, id: &AttestationId) -> bool {
        self.ids.contains_key(id)
    }

    /// Up to `limit` transactions with the keys each was verified under, oldest first.
    pub(super) fn batch(
        &self,
        limit: usize,
    ) -> (Vec<(AttestationId, Transaction)>, HashMap<AttestationId, VerifiedKeys>) {
        let batch: Vec<_> = self.queue.iter().take(limit).map(|(id, tx)| (*id, Transaction::clone(tx))).collect();
        let verified = batch.iter().filter_map(|(id, _)| self.ids.get(id).map(|(k, ..)| (*id, k.clone()))).collect();
        (batch, verified)
    }

    /// The pool's transaction with this hash.
    pub(super) fn by_hash(&self, hash: &Hash32) -> Option<Arc<Transaction>> {
        self.by_hash.get(hash).cloned()
    }

    /// The keys the pool verified the signatures of `tx` under, if the pool
    /// holds exactly these bytes (the same hash, not merely the same id).
    pub(super) fn verified_keys(&self, tx: &Transaction) -> Option<&VerifiedKeys> {
        let (keys, _, hash) = self.ids.get(&tx.id())?;
        (*hash == tx.hash()).then_some(keys)
    }

    /// Takes `ids` out of the pool.
    pub(super) fn remove(&mut self, ids: &HashSet<&AttestationId>) {
        if ids.is_empty() {
            return;
        }
        self.queue.retain(|(id, _)| !ids.contains(id));
        for id in ids {
            if let Some((_, size, hash)) = self.ids.remove(*id) {
                self.bytes = self.bytes.saturating_sub(size);
                self.by_hash.remove(&hash);
            }
        }
    }

    /// Whether a transaction of `size` bytes fits now (the count, and the bytes).
    fn room(&self, size: usize) -> Result<(), SubmitError> {
        let (n, b) = (self.queue.len() + self.reserved.0, self.bytes + self.reserved.1);
        if n >= self.limits.txs || b.saturating_add(size) > self.limits.bytes {
            return Err(SubmitError::Busy {
                waiting: n,
                bytes: b,
                limit_txs: self.limits.txs,
                limit_bytes: self.limits.bytes,
            });
        }
        Ok(())
    }

    /// Promises room for one transaction of `size` bytes, or says the pool is full.
    fn reserve(&mut self, size: usize) -> Result<(), SubmitError> {
        self.room(size)?;
        self.reserved = (self.reserved.0 + 1, self.reserved.1 + size);
        Ok(())
    }

    fn release(&mut self, size: usize) {
        self.reserved = (self.reserved.0.saturating_sub(1), self.reserved.1.saturating_sub(size));
    }
}

/// Room in the pool promised to one submission: given back when dropped
/// unless the transaction went in ([`Node::enqueue`] consumes it).
pub(super) struct Reservation<'a> {
    node: &'a Node,
    size: usize,
    live: bool,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.live {
            self.node.mempool.lock().unwrap_or_else(lock_err).release(self.size);
        }
    }
}

impl SubmitError {
    /// `kind` of a transaction's refusal, or [`SubmitError::State`] when
    /// the node could not read its state (no verdict on the transaction).
    fn of(e: TxError, kind: fn(TxError) -> SubmitError) -> SubmitError {
        match e {
            TxError::State(e) => SubmitError::State(e),
            e => kind(e),
        }
    }
}

impl Node {
    /// Drops waiting transactions that the committed state now refuses (a
    /// conflicting transaction was committed first), remembering why; a
    /// follower calls it after applying blocks so it stops republishing them.
    pub fn prune_pending(&self) -> usize {
        let pending: Vec<(AttestationId, Transaction)> = self
            .mempool
            .lock()
            .unwrap_or_else(lock_err)
            .queue
            .iter()
            .map(|(id, tx)| (*id, Transaction::clone(tx)))
            .collect();
        let mut dead = Vec::new();
        {
            let chain = self.chain.read().unwrap_or_else(lock_err);
            let ctx = BlockContext { height: self.height() + 1, time: self.clock.now() };
            let view = self.state_of(&chain);
            for (id, tx) in &pending {
                let mut overlay = Overlay::new(view);
                match apply_admitted(&mut overlay, &self.genesis, ctx, tx) {
                    Ok(_) => {}
                    // a fault of our store says nothing about the transaction: it stays
                    Err(TxError::State(e)) => {
                        tracing::error!(target: "credex::chain", error = %e, "pending transactions not checked");
                        break;
                    }
                    Err(e) => dead.push((*id, e)),
                }
            }
        }
        let n = dead.len();
        self.reject(dead, "dropped: refused by the committed state");
        n
    }

    /// Takes refused transactions out of the pool and remembers why (bounded).
    pub(super) fn reject(&self, dead: Vec<(AttestationId, TxError)>, why: &'static str) {
        if dead.is_empty() {
            return;
        }
        let mut pool = self.mempool.lock().unwrap_or_else(lock_err);
        {
            let ids: HashSet<&AttestationId> = dead.iter().map(|(id, _)| id).collect();
            pool.remove(&ids);
        }
        for (id, e) in dead {
            self.metrics.reject(e.code());
            tracing::info!(target: "credex::mempool", %id, error = %e, "{why}");
            pool.rejected.insert(id, e);
            pool.rejected_order.push_back(id);
        }
        while pool.rejected_order.len() > REJECTED_CAP {
            if let Some(old) = pool.rejected_order.pop_front() {
                pool.rejected.remove(&old);
            }
        }
    }

    /// Up to `limit` waiting transactions with their ids, oldest first.
    pub fn pending(&self, limit: usize) -> Vec<(AttestationId, Transaction)> {
        self.mempool.lock().unwrap_or_else(lock_err).batch(limit).0
    }

    /// Transactions waiting.
    pub fn mempool_len(&self) -> usize {
        self.mempool.lock().unwrap_or_else(lock_err).len()
    }

    /// Bytes of the transactions waiting.
    pub fn mempool_bytes(&self) -> usize {
        self.mempool.lock().unwrap_or_else(lock_err).bytes
    }

    /// The mempool's bounds.
    pub fn mempool_limits(&self) -> MempoolLimits {
        self.mempool.lock().unwrap_or_else(lock_err).limits
    }

    /// Refuses as busy at once when not even one more transaction fits:
    /// under overload a refusal costs no signature check.
    pub(super) fn check_room(&self) -> Result<(), SubmitError> {
        self.mempool.lock().unwrap_or_else(lock_err).room(0)
    }

    /// Promises room for `tx` in the pool, or refuses as busy (before
    /// anything of the submission is written).
    pub(super) fn reserve(&self, tx: &Transaction) -> Result<Reservation<'_>, SubmitError> {
        let size = credex_codec::encode(tx).len();
        self.mempool.lock().unwrap_or_else(lock_err).reserve(size)?;
        Ok(Reservation { node: self, size, live: true })
    }

    /// Admits an attestation: checks it, keeps its full record, queues its
    /// anchor. Resubmitting is idempotent.
    pub fn submit(&self, att: &Attestation) -> Result<(AttestationId, Standing), SubmitError> {
        let mut answers = self.submit_many(std::slice::from_ref(att));
        answers.pop().unwrap_or(Err(SubmitError::RawWrite("no answer for the submission".into())))
    }

    /// Admits many attestations (an issuer's bulk submission), each
    /// answered on its own and in order, as [`Node::submit`] would: the
    /// checks run one by one, the raw records of every admitted one share
    /// one durable write, and each is queued and gossiped. One that does not
    /// fit in the pool is refused as busy and nothing of it is kept.
    pub fn submit_many(&self, atts: &[Attestation]) -> Vec<Result<(AttestationId, Standing), SubmitError>> {
        let prepared: Vec<Result<Prepared<'_>, SubmitError>> = atts.iter().map(|a| self.prepare(a)).collect();
        // The issuer's node keeps the fields (durably) before anyone learns the ids.
        let keep: Vec<Attestation> = atts
            .iter()
            .zip(&prepared)
            .filter(|(_, p)| matches!(p, Ok(Prepared::Admit { .. } | Prepared::Pending { .. })))
            .map(|(a, _)| a.clone())
            .collect();
        let written = if keep.is_empty() { Ok(()) } else { self.raw.put_many(keep) };
        prepared
            .into_iter()
            .map(|p| match p? {
                Prepared::Done(id, standing) => Ok((id, standing)),
                Prepared::Pending { id } => {
                    written.clone().map_err(SubmitError::RawWrite)?;
                    Ok((id, Standing::Pending))
                }
                Prepared::Admit { id, tx, keys, room } => {
                    written.clone().map_err(SubmitError::RawWrite)?;
                    let standing = self.enqueue(id, (*tx).clone(), keys, room)?;
                    if let Some(out) = self.wiring.gossip.as_ref() {
                        // Other nodes get the anchor only (header, claims root, signature).
                        let _ = out.send(*tx);
                    }
                    Ok((id, standing))
                }
            })
            .collect()
    }

    /// Every check of a submitted attestation, and room in the pool for it.
    fn prepare(&self, att: &Attestation) -> Result<Prepared<'_>, SubmitError> {
        if self.read_only() {
            return Err(SubmitError::ReadOnly);
        }
        att.check_shape()?;
        att.check_labels(&self.labels)?;
        let tx = Transaction::Anchor(AnchorTx::of(att));
        let id = tx.id();
        let known = self.standing(&id)?;
        if matches!(known, Standing::Rejected(_) | Standing::Unknown) {
            // new to the pool: refused at once when full, before any signature work
            self.check_room()?;
        }
        self.check_grade(att)?;
        let admitted = self.check_tx(&tx)?;
        match known {
            Standing::Anchored(h) => {
                // Erased means erased: the record is never stored again (spec §11.5).
                if matches!(self.record(&id)?.map(|r| r.status), Some(AttestationStatus::Erased { .. })) {
                    return Err(SubmitError::Erased(id));
                }
                if self.store.raw(&id)?.is_none() {
                    self.store.put_raw(att)?;
                }
                return Ok(Prepared::Done(id, Standing::Anchored(h)));
            }
            // Queued already (gossiped, or submitted before): its fields are kept, no new room.
            Standing::Pending => return Ok(Prepared::Pending { id }),
            Standing::Rejected(_) | Standing::Unknown => {}
        }
        self.check_against_state(&tx, &admitted)?;
        let room = self.reserve(&tx)?;
        Ok(Prepared::Admit { id, keys: admitted.keys(), tx: Box::new(tx), room })
    }

    /// A `credit-grade` must state what the published model computes from
    /// the chain for its subject and sector as of its effective time, or
    /// say why not (a `reason` field: a manual grading, shown as such).
    fn check_grade(&self, att: &Attestation) -> Result<(), SubmitError> {
        if att.header.kind != credex_types::AttestationKind::CreditGrade {
            return Ok(());
        }
        let field = |code: &str| att.claims.iter().find(|f| f.code.as_str() == code).map(|f| f.value.clone());
        if field("reason").is_some_and(|r| !r.trim().is_empty()) {
            return Ok(());
        }
        let sector_text = field("sector").unwrap_or_else(|| "general".to_string());
        let sector: credex_rules::Sector = sector_text.parse().map_err(|_| {
            SubmitError::Attestation(AttestationError::BadValue {
                field: "sector".into(),
                value: sector_text.clone(),
                expected: "a sector of the grade model",
            })
        })?;
        let record = self.subject_record(&att.header.subject)?;
        let model = credex_rules::grade(&record, sector, att.header.effective_at);
        if model.no_record {
            return Err(SubmitError::GradeWithoutRecord(att.header.subject.clone()));
        }
        let (given, given_score) = (field("grade").unwrap_or_default(), field("score").unwrap_or_default());
        if given == model.grade.to_string() && given_score == model.score.to_string() {
            return Ok(());
        }
        Err(SubmitError::GradeNotModel {
            given,
            given_score,
            model: model.model,
            sector: sector_text,
            grade: model.grade,
            score: model.score,
        })
    }

    /// Admits a transaction gossiped by another node (no fields, no raw record).
    pub fn submit_tx(&self, tx: &Transaction) -> Result<(AttestationId, Standing), SubmitError> {
        if self.read_only() {
            return Err(SubmitError::ReadOnly);
        }
        // Repeats (gossip republishes) are answered before any signature work.
        let known = tx.id();
        match self.standing(&known)? {
            s @ (Standing::Anchored(_) | Standing::Pending) => return Ok((known, s)),
            Standing::Rejected(_) | Standing::Unknown => {}
        }
        self.check_room()?;
        let admitted = self.check_tx(tx)?;
        self.check_against_state(tx, &admitted)?;
        let room = self.reserve(tx)?;
        Ok((admitted.id, self.enqueue(admitted.id, tx.clone(), admitted.keys(), room)?))
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
    pub(super) fn check_tx(&self, tx: &Transaction) -> Result<credex_chain::Admitted, SubmitError> {
        let chain = self.chain.read().unwrap_or_else(lock_err);
        credex_chain::admit_checked(self.state_of(&chain), &self.genesis, tx)
            .map_err(|e| SubmitError::of(e, SubmitError::Invalid))
    }

    pub(super) fn check_against_state(
        &self,
        tx: &Transaction,
        admitted: &credex_chain::Admitted,
    ) -> Result<(), SubmitError> {
        // The committed state's verdict (pending transactions are checked again at block time).
        let chain = self.chain.read().unwrap_or_else(lock_err);
        let view = self.state_of(&chain);
        let mut overlay = Overlay::new(view);
        let ctx = BlockContext { height: self.height() + 1, time: self.clock.now() };
        // Structure and signatures were checked by `check_tx` just before: only the state rules run.
        credex_chain::apply_rules_of(&mut overlay, &self.genesis, ctx, tx, admitted)
            .map_err(|e| SubmitError::of(e, SubmitError::Conflict))?;
        drop(overlay);
        Ok(())
    }

    pub(super) fn enqueue(
        &self,
        id: AttestationId,
        tx: Transaction,
        keys: Vec<credex_crypto::PublicKey>,
        mut room: Reservation<'_>,
    ) -> Result<Standing, SubmitError> {
        {
            // One lock for the queue and the rejections (`reject` takes the
            // same): a block built meanwhile can only reject this transaction
            // after it is in the pool and its old rejection is gone, so a
            // fresh rejection is never erased and the transaction is never
            // unknown. Not the chain lock: admission does not wait for a
            // block being built or committed.
            let mut pool = self.mempool.lock().unwrap_or_else(lock_err);
            // The room reserved becomes the transaction's (or is given back).
            room.live = false;
            pool.release(room.size);
            if pool.ids.contains_key(&id) {
                return Ok(Standing::Pending);
            }
            pool.bytes += room.size;
            let (hash, tx) = (tx.hash(), Arc::new(tx));
            pool.ids.insert(id, (keys, room.size, hash));
            pool.by_hash.insert(hash, tx.clone());
            pool.queue.push_back((id, tx));
            pool.rejected.remove(&id);
        }
        self.new_tx.notify_one();
        tracing::debug!(target: "credex::mempool", %id, "admitted");
        Ok(Standing::Pending)
    }

    /// Where transaction `id` is (an attestation id, a case id, or another
    /// transaction's hash).
    pub fn standing(&self, id: &AttestationId) -> Result<Standing, StoreError> {
        if let Some(h) = self.committed_height(id)? {
            return Ok(Standing::Anchored(h));
        }
        if self.mempool.lock().unwrap_or_else(lock_err).contains(id) {
            return Ok(Standing::Pending);
        }
        // A block may have committed it between the two looks: a commit
        // writes the store before it takes the transaction out of the pool,
        // so a second look at the store settles it.
        if let Some(h) = self.committed_height(id)? {
            return Ok(Standing::Anchored(h));
        }
        Ok(match self.mempool.lock().unwrap_or_else(lock_err).rejected.get(id) {
            Some(e) => Standing::Rejected(e.clone()),
            None => Standing::Unknown,
        })
    }

    /// The height of the block holding `id` (an anchor, another transaction
    /// or the act that opened a case), if committed.
    fn committed_height(&self, id: &AttestationId) -> Result<Option<u64>, StoreError> {
        if let Some((h, _)) = self.store.anchor(id)? {
            return Ok(Some(h));
        }
        if let Some(h) = self.store.tx_height(&id.0)? {
            return Ok(Some(h));
        }
        Ok(self.case(&CaseId(id.0))?.map(|c| c.history.first().map_or(0, |e| e.height)))
    }

    /// Waits until a transaction arrives or `timeout` passes.
    pub async fn wait_for_tx(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.new_tx.notified()).await;
    }
}
