//! State sync (spec §10.6) between two real nodes' RocksDB stores: the
//! importing node takes a snapshot only when every part checks out, ends at
//! the certified height with the same root, indexes and proofs, and then
//! follows the blocks after it; a source that lies in any part leaves the
//! importing store empty, with a typed error naming what was wrong.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;
use std::sync::Arc;

use credex_chain::{AnchorTx, Block};
use credex_crypto::SecretKey;
use credex_node::service::{Node, SystemClock, Wiring, solo_certificate};
use credex_node::statesync::{NodeSource, SnapshotSource, SourceError, StateSyncError, import};
use credex_storage::Store;
use credex_types::attestation::{Attestation, AttestationHeader, ClaimField};
use credex_types::chain::CommitCertificate;
use credex_types::genesis::Genesis;
use credex_types::state::{StateKey, StateValue};
use credex_types::{AttestationKind, ListKind, Timestamp};
use credex_wire::{SnapshotChunk, SnapshotOffer, SnapshotPart};

/// A dev chain with `blocks` blocks of listings and licences, made through
/// the node's own state transition.
struct Source {
    _tmp: tempfile::TempDir,
    node: Arc<Node>,
    genesis: Genesis,
    validator: SecretKey,
    issuer: (credex_types::AgencyId, SecretKey),
    n: u64,
    ids: Vec<credex_types::AttestationId>,
}

impl Source {
    fn new() -> Source {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("dev");
        let (genesis, validator) = credex_node::dev::init_or_load(&data, Timestamp::system_now()).unwrap();
        let (file, key) = credex_api_types::KeyFile::read(&data.join("keys/cn-sfh-amr.json")).unwrap();
        let store = Store::open(&data.join("db"), genesis.hash()).unwrap();
        let wiring = Wiring { snapshot_dir: Some(data.join("snapshot")), ..Wiring::solo() };
        let node = Arc::new(Node::open(genesis.clone(), store, Box::new(SystemClock), wiring).unwrap());
        Source { _tmp: tmp, node, genesis, validator, issuer: (file.agency, key), n: 0, ids: Vec::new() }
    }

    /// One block: `count` attestations, every third a listing.
    fn block(&mut self, count: usize) {
        let effective = Timestamp(Timestamp::system_now().0 - 60_000);
        let atts: Vec<Attestation> = (0..count)
            .map(|_| {
                self.n += 1;
                let k = self.n;
                let mut nonce = [0u8; 16];
                nonce[..8].copy_from_slice(&k.to_le_bytes());
                let (kind, fields) = if k.is_multiple_of(3) {
                    let f = ClaimField::new("reason-code".parse().unwrap(), "annual-report".into(), [7; 16]);
                    (AttestationKind::AbnormalOperationListing, vec![f])
                } else {
                    (AttestationKind::AdministrativeLicence, vec![])
                };
                let header = AttestationHeader::new(
                    self.genesis.chain_id.clone(),
                    self.issuer.0.clone(),
                    format!("zz-sync:N{k}").parse().unwrap(),
                    kind,
                    effective,
                    nonce,
                )
                .unwrap();
                Attestation::sign(header, fields, &self.issuer.1).unwrap()
            })
            .collect();
        self.ids.extend(atts.iter().map(Attestation::id));
        for r in self.node.submit_many(&atts) {
            r.unwrap();
        }
        let p = self.node.propose(0).expect("a block");
        let cert = solo_certificate(&self.validator, 0, p.header());
        self.node.commit(p, cert).unwrap();
    }
}

/// The source node itself, with hooks to damage what it sends.
struct Local<'a> {
    node: NodeSource<'a>,
    damage: &'a dyn Fn(SnapshotPart, &mut SnapshotChunk),
    offer: &'a dyn Fn(&mut SnapshotOffer),
}

impl SnapshotSource for Local<'_> {
    fn offer(&mut self) -> Result<Option<SnapshotOffer>, SourceError> {
        let mut o = self.node.offer()?;
        if let Some(o) = o.as_mut() {
            (self.offer)(o);
        }
        Ok(o)
    }
    fn chunk(&mut self, height: u64, part: SnapshotPart, after: Option<Vec<u8>>) -> Result<SnapshotChunk, SourceError> {
        let mut c = self.node.chunk(height, part, after)?;
        (self.damage)(part, &mut c);
        Ok(c)
    }
    fn block(&mut self, height: u64) -> Result<Option<(Block, CommitCertificate)>, SourceError> {
        self.node.block(height)
    }
}

fn honest(_: SnapshotPart, _: &mut SnapshotChunk) {}
fn as_offered(_: &mut SnapshotOffer) {}

fn sync(
    src: &Source,
    dir: &Path,
    damage: &dyn Fn(SnapshotPart, &mut SnapshotChunk),
    offer: &dyn Fn(&mut SnapshotOffer),
) -> (Store, Result<credex_node::statesync::Synced, StateSyncError>) {
    let store = Store::open(dir, src.genesis.hash()).unwrap();
    let mut source = Local { node: NodeSource(&src.node), damage, offer };
    let r = import(&store, &src.genesis, &mut source, &mut || Ok(()));
    (store, r)
}

/// After a refused sync the store is as empty as a new one.
fn assert_empty(store: &Store, fresh_root: credex_crypto::Hash32) {
    assert_eq!(store.height().unwrap(), 0);
    assert!(!store.import_unfinished().unwrap());
    assert_eq!(store.state_root().unwrap(), fresh_root, "the refused state was left behind");
    assert_eq!(store.member_count(ListKind::AbnormalOperation).unwrap(), 0);
}

#[test]
fn a_node_synced_from_a_snapshot_has_the_certified_state_and_follows_the_blocks_after_it() {
    let mut src = Source::new();
    for _ in 0..4 {
        src.block(300);
    }
    let tmp = tempfile::tempdir().unwrap();
    let (store, r) = sync(&src, &tmp.path().join("db"), &honest, &as_offered);
    let synced = r.unwrap();
    assert_eq!((synced.height, synced.attestations), (4, 1_200));
    assert!(synced.values > 1_200, "records, listings and standings: {}", synced.values);
    assert_eq!(store.base().unwrap(), Some(4));
    // the synced node opens at the certified height with the same state
    let node = Node::open(src.genesis.clone(), store, Box::new(SystemClock), Wiring::solo()).unwrap();
    assert_eq!(node.height(), 4);
    assert_eq!(node.head().unwrap(), src.node.head().unwrap());
    let listed = |n: &Node| n.members(ListKind::AbnormalOperation, None, None, 1_000).unwrap().total;
    assert_eq!(listed(&node), 400, "the list index is rebuilt");
    assert_eq!(listed(&node), listed(&src.node));
    // a proof from the synced node verifies offline from the genesis
    let subject: credex_types::SubjectId = "zz-sync:N3".parse().unwrap();
    let record = node.subject_record(&subject).unwrap();
    assert_eq!(record.attestations.len(), 1, "the subject index is rebuilt");
    let proof = node.listing_proof(ListKind::AbnormalOperation, &subject).unwrap();
    let verifier = credex_proof::Verifier::new(src.genesis.clone(), credex_proof::Policy::default()).unwrap();
    verifier.verify(&proof, Timestamp::system_now()).unwrap();
    let att_id = src.ids[2];
    let status = node.attestation_proof(&att_id, &[]).unwrap();
    verifier.verify(&status, Timestamp::system_now()).unwrap();
    // and it follows the next blocks like any node
    src.block(50);
    src.block(50);
    for h in 5..=6 {
        let (b, c) = src.node.block_with_certificate(h).unwrap().unwrap();
        node.apply_certified(b, c).unwrap();
    }
    assert_eq!(node.head().unwrap(), src.node.head().unwrap());
    assert_eq!(listed(&node), listed(&src.node));
    // blocks below the snapshot are not held, and say so by their absence
    assert!(node.block_with_certificate(2).unwrap().is_none());
}

/// Rewrites the first state entry that is an attestation record as another
/// (canonical, correctly keyed) value: only the root can catch it.
fn forge_a_status(part: SnapshotPart, c: &mut SnapshotChunk) {
    if part != SnapshotPart::State {
        return;
    }
    for (_, v) in &mut c.entries {
        let (k, val): (StateKey, StateValue) = credex_codec::decode(v, v.len()).unwrap();
        if let (StateKey::Attestation(_), StateValue::Attestation(mut r)) = (&k, val) {
            r.status = credex_types::state::AttestationStatus::Revoked { height: 1, time: Timestamp(1) };
            *v = credex_codec::encode(&(k, StateValue::Attestation(r)));
            return;
        }
    }
}

#[test]
fn a_snapshot_that_lies_in_any_part_is_refused_and_leaves_the_store_empty() {
    let mut src = Source::new();
    src.block(200);
    src.block(200);
    let tmp = tempfile::tempdir().unwrap();
    let fresh_root = Store::open(&tmp.path().join("fresh"), src.genesis.hash()).unwrap().state_root().unwrap();
    let mut n = 0;
    let mut case = |damage: &dyn Fn(SnapshotPart, &mut SnapshotChunk),
                    offer: &dyn Fn(&mut SnapshotOffer),
                    expect: &dyn Fn(&StateSyncError) -> bool| {
        n += 1;
        let (store, r) = sync(&src, &tmp.path().join(format!("db{n}")), damage, offer);
        let e = r.expect_err("a lying snapshot was taken");
        assert!(expect(&e), "case {n}: {e:?}");
        assert!(e.peer_at_fault(), "case {n}: {e} blames the peer");
        assert_empty(&store, fresh_root);
    };
    // a value changed (canonical, under its key): the root differs
    case(&forge_a_status, &as_offered, &|e| matches!(e, StateSyncError::Root { .. }));
    // a value dropped: the root differs
    case(
        &|p, c| {
            if p == SnapshotPart::State {
                c.entries.remove(0);
            }
        },
        &as_offered,
        &|e| matches!(e, StateSyncError::Root { .. }),
    );
    // an entry not under its key's hash
    case(
        &|p, c| {
            if p == SnapshotPart::State {
                c.entries[0].0[0] ^= 1;
            }
        },
        &as_offered,
        &|e| matches!(e, StateSyncError::Store(credex_storage::StoreError::BadSnapshot(_)) | StateSyncError::Chunk(_)),
    );
    // keys out of order
    case(
        &|p, c| {
            if p == SnapshotPart::State && c.entries.len() > 1 {
                c.entries.swap(0, 1);
            }
        },
        &as_offered,
        &|e| matches!(e, StateSyncError::Chunk(_)),
    );
    // an anchored attestation missing: fewer anchors than records
    case(
        &|p, c| {
            if p == SnapshotPart::Attestations {
                c.entries.pop();
            }
        },
        &as_offered,
        &|e| matches!(e, StateSyncError::Chunk(_)),
    );
    // an anchored attestation with another signature
    case(
        &|p, c| {
            if p == SnapshotPart::Attestations {
                let (h, mut a): (u64, AnchorTx) = credex_codec::decode(&c.entries[0].1, 1 << 20).unwrap();
                a.signature.0[5] ^= 1;
                c.entries[0].1 = credex_codec::encode(&(h, a));
            }
        },
        &as_offered,
        &|e| matches!(e, StateSyncError::Chunk(m) if m.contains("signature")),
    );
    // a checkpoint whose certificate is not the validators'
    case(&honest, &|o| o.checkpoint.anchor.certificate.signatures[0].signature.0[0] ^= 1, &|e| {
        matches!(e, StateSyncError::Checkpoint(_))
    });
    // a checkpoint of another state root (the certificate no longer covers it)
    case(&honest, &|o| o.checkpoint.anchor.header.state_root.0[0] ^= 1, &|e| {
        matches!(e, StateSyncError::Checkpoint(_))
    });
}

#[test]
fn an_import_cut_short_is_removed_when_the_node_opens() {
    let mut src = Source::new();
    src.block(100);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let fresh_root = Store::open(&tmp.path().join("fresh"), src.genesis.hash()).unwrap().state_root().unwrap();
    {
        // the values arrive, then the process stops before the anchors
        let store = Store::open(&dir, src.genesis.hash()).unwrap();
        store.begin_import().unwrap();
        let offer = src.node.snapshot_offer().unwrap().unwrap();
        let c = src.node.snapshot_chunk(offer.checkpoint.height(), SnapshotPart::State, None).unwrap();
        store.import_values(&c.entries).unwrap();
        assert_ne!(store.import_values_done().unwrap(), fresh_root);
    }
    let store = Store::open(&dir, src.genesis.hash()).unwrap();
    assert!(store.import_unfinished().unwrap());
    let node = Node::open(src.genesis.clone(), store, Box::new(SystemClock), Wiring::solo()).unwrap();
    assert_eq!(node.height(), 0);
    assert_eq!(node.members(ListKind::AbnormalOperation, None, None, 10).unwrap().total, 0, "unchecked state served");
}
