//! Test fixtures, known-answer vector generation and checks, cross-crate property tests and benchmarks for credex.
//!
//! [`Fixture`] is a deterministic, in-memory stand-in for a finalized chain:
//! it holds validator and issuer keys derived from fixed seeds, a state map,
//! and signs block headers with commit certificates, so that tests, vectors
//! and benchmarks can build real credit proofs. It is test-only: it decides
//! nothing and checks nothing; the chain and consensus crates do that.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::too_many_arguments, clippy::type_complexity, clippy::cast_possible_truncation)]

pub mod harness;
pub mod torsion;
pub mod vectors;

use std::collections::BTreeMap;

use credex_crypto::{Hash32, SecretKey};
use credex_merkle::smt::SparseMerkleMap;
use credex_proof::{Anchor, Claim, CreditProof, SetChange, build};
use credex_types::attestation::{ATTESTATION_VERSION, Attestation, AttestationHeader, ClaimField};
use credex_types::chain::{BlockHeader, CommitCertificate, ValidatorSet};
use credex_types::genesis::{Genesis, GenesisValidator, Issuer};
use credex_types::labels::LabelTable;
use credex_types::state::{AttestationRecord, AttestationStatus, ListingRecord, StateKey, StateValue};
use credex_types::{AgencyId, AttestationId, AttestationKind, FieldCode, ListKind, SubjectId, Timestamp};

/// A deterministic 32-byte seed for `label`.
pub fn seed(label: &str) -> [u8; 32] {
    Hash32::sha256(&[b"credex-test-seed:", label.as_bytes()]).0
}

/// A deterministic 16-byte value (salt, nonce) for `label`.
pub fn seed16(label: &str) -> [u8; 16] {
    let s = seed(label);
    let mut out = [0u8; 16];
    out.copy_from_slice(&s[..16]);
    out
}

/// The demo validators and issuers: the one roster of `credex_types::demo`.
pub use credex_types::demo::{ISSUERS, VALIDATORS};

/// A deterministic in-memory chain for building proofs.
pub struct Fixture {
    /// The genesis.
    pub genesis: Genesis,
    /// Keys of the validator set in force, by index.
    pub validator_keys: Vec<SecretKey>,
    /// The validator set in force.
    pub set: ValidatorSet,
    /// Issuer keys by agency.
    pub issuer_keys: BTreeMap<String, SecretKey>,
    /// The state map.
    pub map: SparseMerkleMap,
    /// Values by key hash (the map holds only their hashes).
    pub values: BTreeMap<Hash32, StateValue>,
    /// Set changes so far.
    pub set_changes: Vec<SetChange>,
    /// Next block height.
    pub height: u64,
    /// Last block id.
    pub parent: Hash32,
    /// Block time of the next block.
    pub time: Timestamp,
    /// Counter for nonces and salts.
    counter: u64,
}

/// Fixtures build proofs the way the node does ([`build`]).
impl build::ProofSource for Fixture {
    fn value(&self, key: &StateKey) -> Result<Option<StateValue>, build::BuildError> {
        Ok(self.values.get(&key.hash()).cloned())
    }

    fn map_proof(&self, key: &StateKey) -> Result<credex_merkle::smt::SmtProof, build::BuildError> {
        self.map.proof(&key.hash()).ok_or(build::BuildError::NoRoot)
    }
}

/// The chain id of fixtures.
pub const CHAIN_ID: &str = "credex-vectors-1";
/// Genesis time of fixtures.
pub const GENESIS_TIME: &str = "2026-01-01T00:00:00Z";

impl Fixture {
    /// A chain with the demo validators and issuers.
    pub fn new(label: &str) -> Fixture {
        Self::with_chain(label, CHAIN_ID)
    }

    /// As [`Fixture::new`], for another chain id.
    pub fn with_chain(label: &str, chain_id: &str) -> Fixture {
        let validator_keys: Vec<SecretKey> =
            (0..VALIDATORS.len()).map(|i| SecretKey::from_seed(seed(&format!("{label}/validator/{i}")))).collect();
        let validators = VALIDATORS
            .iter()
            .zip(&validator_keys)
            .map(|(a, k)| GenesisValidator {
                agency: a.agency.parse().unwrap(),
                names: a.names(),
                jurisdiction: a.jurisdiction.parse().unwrap(),
                key: k.public(),
                power: 1,
                peer_id: None,
            })
            .collect();
        let mut issuer_keys = BTreeMap::new();
        let issuers = ISSUERS
            .iter()
            .map(|(a, kinds)| {
                let key = SecretKey::from_seed(seed(&format!("{label}/issuer/{}", a.agency)));
                let public = key.public();
                issuer_keys.insert(a.agency.to_string(), key);
                Issuer {
                    agency: a.agency.parse().unwrap(),
                    names: a.names(),
                    jurisdiction: a.jurisdiction.parse().unwrap(),
                    key: public,
                    kinds: kinds.to_vec(),
                }
            })
            .collect();
        let genesis = Genesis {
            chain_id: chain_id.parse().unwrap(),
            genesis_time: GENESIS_TIME.parse().unwrap(),
            labels_hash: LabelTable::builtin().hash(),
            validators,
            observers: vec![],
            issuers,
        };
        genesis.check().unwrap();
        let set = genesis.validator_set();
        Fixture {
            time: genesis.genesis_time.plus_ms(60_000),
            genesis,
            validator_keys,
            set,
            issuer_keys,
            map: SparseMerkleMap::new(),
            values: BTreeMap::new(),
            set_changes: vec![],
            height: 1,
            parent: Hash32::ZERO,
            counter: 0,
        }
    }

    /// As [`Fixture::new`] with `n` validators of power 1 (at least the four
    /// demo ones; the others are bench agencies `cn-sfh-v5`, `cn-sfh-v6`, …).
    pub fn with_validators(label: &str, n: usize) -> Fixture {
        let mut fx = Self::new(label);
        assert!(n >= fx.validator_keys.len(), "at least the demo validators");
        for i in fx.validator_keys.len()..n {
            let key = SecretKey::from_seed(seed(&format!("{label}/validator/{i}")));
            let mut v = fx.genesis.validators[0].clone();
            v.agency = format!("cn-sfh-v{}", i + 1).parse().unwrap();
            v.names.en = format!("Bench validator {}", i + 1);
            v.key = key.public();
            fx.genesis.validators.push(v);
            fx.validator_keys.push(key);
        }
        fx.genesis.check().unwrap();
        fx.set = fx.genesis.validator_set();
        fx
    }

    fn next_label(&mut self, what: &str) -> String {
        self.counter += 1;
        format!("{}/{what}/{}", self.genesis.chain_id, self.counter)
    }

    /// Signs an attestation by `issuer` with deterministic nonce and salts.
    pub fn attest(
        &mut self,
        issuer: &str,
        subject: &str,
        kind: AttestationKind,
        fields: &[(&str, &str)],
        expires_at: Option<Timestamp>,
    ) -> Attestation {
        let nonce = seed16(&self.next_label("nonce"));
        let header = AttestationHeader {
            version: ATTESTATION_VERSION,
            chain_id: self.genesis.chain_id.clone(),
            issuer: issuer.parse().unwrap(),
            subject: subject.parse().unwrap(),
            kind,
            effective_at: self.time,
            expires_at,
            legal_basis: "cn-saic-2014-1/art4".parse().unwrap(),
            supersedes: None,
            case: None,
            nonce,
        };
        let claims = fields
            .iter()
            .map(|(c, v)| {
                let salt = seed16(&self.next_label("salt"));
                ClaimField::new(c.parse().unwrap(), (*v).to_string(), salt)
            })
            .collect();
        Attestation::sign(header, claims, &self.issuer_keys[issuer]).unwrap()
    }

    /// Writes `value` under `key`.
    pub fn put(&mut self, key: StateKey, value: StateValue) {
        let k = key.hash();
        self.map.insert(k, value.hash());
        self.values.insert(k, value);
    }

    /// Anchors `att` as active in the next block.
    pub fn anchor(&mut self, att: &Attestation) {
        let record = AttestationRecord {
            issuer_key: self.issuer_keys[att.header.issuer.as_str()].public(),
            anchored_height: self.height,
            status: AttestationStatus::Active,
        };
        self.put(StateKey::Attestation(att.id()), StateValue::Attestation(record));
    }

    /// Changes an anchored attestation's status.
    pub fn set_status(&mut self, id: AttestationId, status: AttestationStatus) {
        let key = StateKey::Attestation(id);
        let Some(StateValue::Attestation(mut rec)) = self.values.get(&key.hash()).cloned() else {
            panic!("not anchored: {id}");
        };
        rec.status = status;
        self.put(key, StateValue::Attestation(rec));
    }

    /// Sets a subject's list record.
    pub fn set_listing(&mut self, list: ListKind, subject: &SubjectId, record: ListingRecord) {
        self.put(StateKey::Listing { list, subject: subject.clone() }, StateValue::Listing(record));
    }

    /// Adds `n` unrelated anchored attestation entries (realistic tree depth).
    pub fn add_filler(&mut self, n: usize) {
        let issuer_key = self.issuer_keys["cn-sfh-amr"].public();
        let rec = StateValue::Attestation(AttestationRecord {
            issuer_key,
            anchored_height: 1,
            status: AttestationStatus::Active,
        });
        let vh = rec.hash();
        for i in 0..n {
            let id = AttestationId(Hash32::sha256(&[b"filler", &(i as u64).to_le_bytes()]));
            self.map.insert(StateKey::Attestation(id).hash(), vh);
        }
    }

    /// The header of the next block over the current state.
    pub fn next_header(&mut self) -> BlockHeader {
        let vh = self.set.hash();
        BlockHeader {
            chain_id: self.genesis.chain_id.clone(),
            genesis: self.genesis.hash(),
            height: self.height,
            time: self.time,
            proposer: (self.height % self.set.validators.len() as u64) as u16,
            parent: self.parent,
            tx_root: credex_merkle::tree::root(&[]),
            state_root: self.map.root(),
            validators_hash: vh,
            next_validators_hash: vh,
        }
    }

    /// Precommit signatures of `signers` over `header` in `round`.
    pub fn certify(&self, header: &BlockHeader, round: u32, signers: &[u16]) -> CommitCertificate {
        let keys: Vec<(u16, &SecretKey)> =
            signers.iter().map(|i| (*i, &self.validator_keys[usize::from(*i)])).collect();
        CommitCertificate::signed(header, round, &keys)
    }

    /// Finalizes a block over the current state, signed by `signers`.
    pub fn commit(&mut self, signers: &[u16]) -> (BlockHeader, CommitCertificate) {
        let header = self.next_header();
        let cert = self.certify(&header, 0, signers);
        self.advance(&header);
        (header, cert)
    }

    fn advance(&mut self, header: &BlockHeader) {
        self.parent = header.id();
        self.height += 1;
        self.time = self.time.plus_ms(1000);
    }

    /// Finalizes a block that hands over to validators keyed by `new_seeds`
    /// (same agencies, new keys), recording the set change.
    pub fn rotate_validators(&mut self, label: &str) {
        let new_keys: Vec<SecretKey> = (0..self.set.validators.len())
            .map(|i| SecretKey::from_seed(seed(&format!("{label}/rotated/{i}"))))
            .collect();
        let mut next = self.set.clone();
        for (v, k) in next.validators.iter_mut().zip(&new_keys) {
            v.key = k.public();
        }
        let mut header = self.next_header();
        header.next_validators_hash = next.hash();
        let certificate = self.certify(&header, 0, &[0, 1, 2]);
        self.advance(&header);
        self.set_changes.push(SetChange { header, certificate, next_set: next.clone() });
        self.set = next;
        self.validator_keys = new_keys;
    }

    /// A checkpoint (spec §8.5) at a new block signed by `signers`.
    pub fn checkpoint(&mut self, signers: &[u16]) -> credex_proof::Checkpoint {
        let (header, certificate) = self.commit(signers);
        credex_proof::Checkpoint {
            version: credex_proof::CHECKPOINT_VERSION,
            anchor: Anchor { set_changes: self.set_changes.clone(), header, certificate },
            next_set: self.set.clone(),
        }
    }

    /// `claim` in a proof anchored at a new block signed by `signers`.
    fn prove_claim(&mut self, claim: Claim, signers: &[u16]) -> CreditProof {
        let (header, certificate) = self.commit(signers);
        build::proof(claim, Anchor { set_changes: self.set_changes.clone(), header, certificate })
    }

    /// A proof for an anchored attestation, disclosing `disclose`.
    pub fn prove_attestation(&mut self, att: &Attestation, disclose: &[&str], signers: &[u16]) -> CreditProof {
        let codes: Vec<FieldCode> = disclose.iter().map(|c| c.parse().unwrap()).collect();
        self.map.root();
        let claim = build::attestation_claim(&*self, att, &codes).unwrap();
        self.prove_claim(claim, signers)
    }

    /// A status-only proof of an anchored attestation (no fields).
    pub fn prove_status(&mut self, att: &Attestation, signers: &[u16]) -> CreditProof {
        self.map.root();
        let claim = build::status_claim(&*self, att.header.clone(), att.claims_root(), att.signature).unwrap();
        self.prove_claim(claim, signers)
    }

    /// A proof of a case's record.
    pub fn prove_case(&mut self, case: credex_types::lifecycle::CaseId, signers: &[u16]) -> CreditProof {
        self.map.root();
        let claim = build::case_claim(&*self, case).unwrap();
        self.prove_claim(claim, signers)
    }

    /// A proof of a subject's standing on every list (one state leaf,
    /// derived here from its listing records as the chain derives it).
    pub fn prove_standing(&mut self, subject: &SubjectId, signers: &[u16]) -> CreditProof {
        let lists: Vec<_> = ListKind::ALL
            .iter()
            .filter_map(|l| {
                match build::ProofSource::value(&*self, &StateKey::Listing { list: *l, subject: subject.clone() }) {
                    Ok(Some(StateValue::Listing(r))) => Some((*l, r)),
                    _ => None,
                }
            })
            .collect();
        if !lists.is_empty() {
            self.put(
                StateKey::Standing(subject.clone()),
                StateValue::Standing(credex_types::state::StandingRecord { lists }),
            );
        }
        self.map.root();
        let claim = build::standing_claim(&*self, subject).unwrap();
        self.prove_claim(claim, signers)
    }

    /// A proof of a subject's standing on `list`.
    pub fn prove_listing(&mut self, list: ListKind, subject: &SubjectId, signers: &[u16]) -> CreditProof {
        self.map.root();
        let claim = build::list_claim(&*self, list, subject).unwrap();
        self.prove_claim(claim, signers)
    }
}

/// Issuer agency ids of the fixture, parsed.
pub fn agency(s: &str) -> AgencyId {
    s.parse().unwrap()
}
