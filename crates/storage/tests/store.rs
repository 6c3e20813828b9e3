//! The RocksDB store on a real database in a temporary directory.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use credex_chain::{AnchorTx, Block, BlockContext, BlockOutcome, StateRead, Transaction, execute_block};
use credex_crypto::Hash32;
use credex_storage::{BlockCommit, Store, StoreError};
use credex_tests::Fixture;
use credex_types::chain::{BlockHeader, CommitCertificate};
use credex_types::state::StateKey;
use credex_types::{AttestationKind, Timestamp};

fn block(fx: &mut Fixture, height: u64, txs: Vec<Transaction>) -> Block {
    Block {
        header: BlockHeader {
            chain_id: fx.genesis.chain_id.clone(),
            genesis: fx.genesis.hash(),
            height,
            time: Timestamp(height),
            proposer: 0,
            parent: Hash32::ZERO,
            tx_root: credex_chain::tx_root(&txs),
            state_root: Hash32::ZERO,
            validators_hash: fx.set.hash(),
            next_validators_hash: fx.set.hash(),
        },
        txs,
    }
}

/// The map update of `out` on the store's committed state, its root put in `b`'s header.
fn seal(store: &Store, b: &mut Block, out: &BlockOutcome) -> credex_merkle::stored::Update {
    let map = store.state_update(&out.writes).unwrap();
    b.header.state_root = map.root;
    map
}

/// What executing `b` on the store's committed state did, as the chain derives it.
fn outcome(store: &Store, fx: &Fixture, ctx: BlockContext, b: &Block) -> BlockOutcome {
    BlockOutcome::new(execute_block(store, &fx.genesis, ctx, &b.txs).unwrap(), &b.txs, vec![], vec![])
}

#[test]
fn commit_persists_across_reopen_and_refuses_other_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = Fixture::new("store");
    let gh = fx.genesis.hash();
    let att = fx.attest(
        "cn-sfh-amr",
        "91350100M000100Y43",
        AttestationKind::AbnormalOperationListing,
        &[("note", "x")],
        None,
    );
    let tx = Transaction::Anchor(AnchorTx::of(&att));
    let mut b = block(&mut fx, 1, vec![tx]);
    {
        let store = Store::open(dir.path(), gh).unwrap();
        assert_eq!(store.height().unwrap(), 0);
        let out = outcome(&store, &fx, BlockContext { height: 1, time: Timestamp(1) }, &b);
        let map = seal(&store, &mut b, &out);
        let writes = out.writes.clone();
        let cert = CommitCertificate { round: 0, signatures: vec![] };
        store.put_raw(&att).unwrap();
        store
            .commit_block(&BlockCommit {
                block: &b,
                certificate: &cert,
                writes: &writes,
                anchors: &out.anchors,
                erased: &[],
                map: &map,
            })
            .unwrap();
        // out of order
        let again =
            BlockCommit { block: &b, certificate: &cert, writes: &writes, anchors: &[], erased: &[], map: &map };
        assert!(matches!(store.commit_block(&again), Err(StoreError::OutOfOrder { have: 1, got: 1 })));
    }
    let store = Store::open(dir.path(), gh).unwrap();
    assert_eq!(store.height().unwrap(), 1);
    assert_eq!(store.block(1).unwrap().unwrap(), b);
    assert!(store.certificate(1).unwrap().is_some());
    assert_eq!(store.anchor(&att.id()).unwrap().unwrap().0, 1);
    assert_eq!(store.raw(&att.id()).unwrap().unwrap(), att);
    assert!(StateRead::get(&store, &StateKey::Attestation(att.id())).unwrap().is_some());
    assert!(StateRead::get(&store, &StateKey::Standing(att.header.subject.clone())).unwrap().is_some());
    // the anchored header is read from the store, not loaded with the state
    assert_eq!(StateRead::anchored(&store, &att.id()).unwrap(), Some(att.header.clone()));
    assert_eq!(StateRead::anchored(&store, &credex_types::attestation::AttestationId(Hash32([9; 32]))).unwrap(), None);
    assert_eq!(store.by_subject(&att.header.subject).unwrap(), vec![(att.id(), 1)]);
    drop(store);
    assert!(matches!(Store::open(dir.path(), Hash32([1; 32])), Err(StoreError::WrongGenesis { .. })));
}

#[test]
fn a_column_family_an_earlier_version_kept_is_dropped_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let gh = Hash32([3; 32]);
    drop(Store::open(dir.path(), gh).unwrap());
    // What a store from before the consensus log holds: a `signed_votes` family.
    {
        let mut opts = rocksdb::Options::default();
        opts.create_missing_column_families(true);
        let mut names = rocksdb::DB::list_cf(&opts, dir.path()).unwrap();
        names.push("signed_votes".into());
        let db = rocksdb::DB::open_cf(&opts, dir.path(), &names).unwrap();
        db.put_cf(db.cf_handle("signed_votes").unwrap(), b"k", b"v").unwrap();
    }
    let store = Store::open(dir.path(), gh).unwrap();
    drop(store);
    let names = rocksdb::DB::list_cf(&rocksdb::Options::default(), dir.path()).unwrap();
    assert!(!names.iter().any(|n| n == "signed_votes"), "{names:?}");
    assert!(names.iter().any(|n| n == "blocks"), "{names:?}");
}

/// Every file under `dir`, concatenated.
fn all_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            out.extend(std::fs::read(&p).unwrap());
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn raw_records_are_encrypted_and_erasure_destroys_key_and_ciphertext_in_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = Fixture::new("store-crypt");
    let gh = fx.genesis.hash();
    let marker = "SECRET-FIELD-VALUE-4711";
    let att = fx.attest(
        "cn-sfh-amr",
        "91350100M000100Y43",
        AttestationKind::AdministrativeLicence,
        &[("note", marker)],
        None,
    );
    let store = Store::open(dir.path(), gh).unwrap();
    let mut b1 = block(&mut fx, 1, vec![Transaction::Anchor(AnchorTx::of(&att))]);
    let ctx = |h| BlockContext { height: h, time: Timestamp(h) };
    let o1 = outcome(&store, &fx, ctx(1), &b1);
    let m1 = seal(&store, &mut b1, &o1);
    let cert = CommitCertificate { round: 0, signatures: vec![] };
    store.put_raw(&att).unwrap();
    let key = store.record_key(&att.id()).unwrap().expect("the record has a key");
    store
        .commit_block(&BlockCommit {
            block: &b1,
            certificate: &cert,
            writes: &o1.writes,
            anchors: &o1.anchors,
            erased: &[],
            map: &m1,
        })
        .unwrap();
    assert_eq!(store.raw(&att.id()).unwrap().unwrap(), att);
    // nowhere on disk (tables, write-ahead log) in the clear
    assert!(!contains(&all_bytes(dir.path()), marker.as_bytes()));
    // the erasure tombstone's block destroys the record's key and ciphertext
    let mut tomb = fx.attest("cn-sfh-amr", "91350100M000100Y43", AttestationKind::ErasureTombstone, &[], None);
    tomb.header.supersedes = Some(att.id());
    let tomb = credex_types::Attestation::sign(tomb.header, tomb.claims, &fx.issuer_keys["cn-sfh-amr"]).unwrap();
    let mut b2 = block(&mut fx, 2, vec![Transaction::Anchor(AnchorTx::of(&tomb))]);
    let o2 = outcome(&store, &fx, ctx(2), &b2);
    let m2 = seal(&store, &mut b2, &o2);
    assert_eq!(o2.erased, vec![att.id()], "the chain says what the block erases");
    store
        .commit_block(&BlockCommit {
            block: &b2,
            certificate: &cert,
            writes: &o2.writes,
            anchors: &o2.anchors,
            erased: &o2.erased,
            map: &m2,
        })
        .unwrap();
    assert!(store.raw(&att.id()).unwrap().is_none());
    assert!(!store.has_ciphertext(&att.id()).unwrap());
    assert_eq!(store.pending_purges().unwrap(), 0, "the key destruction is done");
    // a copy of the disk taken now, while the node runs, holds no trace of the key
    // (it was in RocksDB's live write-ahead log before keys moved to their own file)
    assert!(!contains(&all_bytes(dir.path()), &key), "the destroyed key's bytes are on disk while the node runs");
    drop(store);
    let store = Store::open(dir.path(), gh).unwrap();
    assert!(store.raw(&att.id()).unwrap().is_none(), "gone after reopening too");
    drop(store);
    // every file of the data directory: tables, write-ahead logs, manifests, info logs, the key file
    assert!(!contains(&all_bytes(dir.path()), &key), "the destroyed key's bytes are on disk after a restart");
}

#[test]
fn warning_events_and_risk_list_persist() {
    let dir = tempfile::tempdir().unwrap();
    let fx = Fixture::new("store-warn");
    let store = Store::open(dir.path(), fx.genesis.hash()).unwrap();
    let s: credex_types::SubjectId = "91350100M000100Y43".parse().unwrap();
    assert_eq!(store.last_warning_seq().unwrap(), 0);
    store.put_warning_event(1, b"{\"seq\":1}", &s, Some(b"[\"serious-listing\"]")).unwrap();
    store.put_warning_event(2, b"{\"seq\":2}", &s, None).unwrap();
    assert_eq!(store.last_warning_seq().unwrap(), 2);
    assert_eq!(store.warning_events_after(0, 10).unwrap().len(), 2);
    assert_eq!(store.warning_events_after(1, 10).unwrap(), vec![(2, b"{\"seq\":2}".to_vec())]);
    assert!(store.risk_list().unwrap().is_empty(), "the subject left the list");
    store.put_subscription("ab", Some(b"{}")).unwrap();
    assert_eq!(store.subscriptions().unwrap().len(), 1);
    store.put_subscription("ab", None).unwrap();
    assert!(store.subscriptions().unwrap().is_empty());
}

#[test]
fn free_space_floor_refuses_with_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let free = credex_storage::free_space_mb(&dir.path().join("not-yet/db")).unwrap();
    assert!(free > 0, "a temp dir has some free space");
    assert_eq!(credex_storage::check_free_space(dir.path(), 0).unwrap(), free);
    match credex_storage::check_free_space(dir.path(), u64::MAX) {
        Err(credex_storage::StoreError::DiskFull { free_mb, floor_mb, .. }) => {
            assert_eq!(floor_mb, u64::MAX);
            assert!(free_mb < floor_mb);
        }
        other => panic!("expected DiskFull, got {other:?}"),
    }
}

#[test]
fn a_subjects_audit_entries_come_newest_first_and_paging_drops_none() {
    use credex_types::access::{AuditEntry, Role};
    let dir = tempfile::tempdir().unwrap();
    let fx = Fixture::new("store-audit");
    let store = Store::open(dir.path(), fx.genesis.hash()).unwrap();
    let trader: credex_types::SubjectId = "91350100M000100Y43".parse().unwrap();
    let other: credex_types::SubjectId = "ru-inn:7707083893".parse().unwrap();
    let mut prev = credex_crypto::Hash32::ZERO;
    let mut about_trader = Vec::new();
    for seq in 1..=2_500u64 {
        let subject = if seq % 3 == 0 { other.clone() } else { trader.clone() };
        let e = AuditEntry {
            seq,
            prev,
            time: Timestamp(seq),
            client: format!("c{seq}"),
            role: Role::Official,
            action: "GET /v1/subjects/x".into(),
            subject: Some(subject.clone()),
            basis: None,
            result: "200".into(),
        };
        store.append_audit(&e, false).unwrap();
        prev = e.hash();
        if subject == trader {
            about_trader.push(seq);
        }
    }
    // the newest entry comes first: a recent read is never out of view
    let first = store.audit_of(&trader, None, 10).unwrap();
    assert_eq!(first[0].seq, *about_trader.last().unwrap());
    // paging with the last seq as `before` walks every entry exactly once, newest first
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store.audit_of(&trader, before, 700).unwrap();
        if page.is_empty() {
            break;
        }
        before = page.last().map(|e| e.seq);
        seen.extend(page.iter().map(|e| e.seq));
    }
    about_trader.reverse();
    assert_eq!(seen, about_trader);
    assert!(store.audit_of(&trader, Some(1), 10).unwrap().is_empty());
    assert!(store.audit_of(&trader, Some(0), 10).unwrap().is_empty());
}

/// Start-up re-admits what was admitted but not anchored (issue #17: from
/// an index, not a scan of every raw record ever kept): a raw record is in
/// the index from its write until the block that anchors it.
#[test]
fn raw_records_await_their_anchor_in_an_index_that_the_anchoring_block_empties() {
    let mut fx = Fixture::new("store-unanchored");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), fx.genesis.hash()).unwrap();
    let atts: Vec<_> = (0..3)
        .map(|i| {
            fx.attest(
                "cn-sfh-amr",
                &format!("zz-unanchored:N{i}"),
                AttestationKind::AdministrativeLicence,
                &[("note", "x")],
                None,
            )
        })
        .collect();
    store.put_raws(&atts.iter().collect::<Vec<_>>()).unwrap();
    assert_eq!(store.unanchored_count().unwrap(), 3);
    let ids = |v: &[credex_types::Attestation]| v.iter().map(|a| a.id()).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(ids(&store.unanchored_raws(10).unwrap()), ids(&atts));
    // a block anchoring the first two takes them out of the index, in the same write
    let mut b = block(&mut fx, 1, atts[..2].iter().map(|a| Transaction::Anchor(AnchorTx::of(a))).collect());
    let o = outcome(&store, &fx, BlockContext { height: 1, time: Timestamp(1) }, &b);
    let map = seal(&store, &mut b, &o);
    let cert = CommitCertificate { round: 0, signatures: vec![] };
    store
        .commit_block(&BlockCommit {
            block: &b,
            certificate: &cert,
            writes: &o.writes,
            anchors: &o.anchors,
            erased: &[],
            map: &map,
        })
        .unwrap();
    assert_eq!(store.unanchored_count().unwrap(), 1);
    assert_eq!(ids(&store.unanchored_raws(10).unwrap()), ids(&atts[2..]));
    drop(store);
    // it lasts across a restart; a resubmission of an anchored one does not go back in
    let store = Store::open(dir.path(), fx.genesis.hash()).unwrap();
    assert_eq!(store.unanchored_count().unwrap(), 1);
    store.put_raws(&[&atts[0]]).unwrap();
    assert_eq!(store.unanchored_count().unwrap(), 1);
    store.forget_unanchored(&[atts[2].id()]).unwrap();
    assert!(store.unanchored_raws(10).unwrap().is_empty());
    assert!(store.raw(&atts[2].id()).unwrap().is_some(), "forgetting is of the index only");
}

/// A store from before the unanchored index (no such column family) gets
/// it built once at open, from its raw records and anchors.
#[test]
fn a_store_of_an_earlier_version_gets_its_unanchored_index_built_once() {
    let mut fx = Fixture::new("store-unanchored-old");
    let dir = tempfile::tempdir().unwrap();
    let gh = fx.genesis.hash();
    let att = fx.attest("cn-sfh-amr", "zz-old:N1", AttestationKind::AdministrativeLicence, &[("note", "x")], None);
    {
        let store = Store::open(dir.path(), gh).unwrap();
        store.put_raw(&att).unwrap();
    }
    // what the earlier version left: the same data, no `unanchored` family
    {
        let opts = rocksdb::Options::default();
        let names = rocksdb::DB::list_cf(&opts, dir.path()).unwrap();
        let mut db = rocksdb::DB::open_cf(&opts, dir.path(), &names).unwrap();
        db.drop_cf("unanchored").unwrap();
    }
    let store = Store::open(dir.path(), gh).unwrap();
    assert_eq!(store.unanchored_count().unwrap(), 1);
    assert_eq!(store.unanchored_raws(10).unwrap(), vec![att]);
}

/// The state on disk (values, map nodes, indexes) gives what the in-memory
/// reference gives — roots, proofs, members, counts, escalation index —
/// block after block, after a reopen, and after a rebuild from the values
/// (a store of an earlier version); a commit whose writes miss the
/// header's root writes nothing.
#[test]
fn the_state_on_disk_matches_the_in_memory_reference_across_reopen_and_rebuild() {
    use credex_chain::MemState;
    use credex_merkle::smt::{SparseMerkleMap, verify};
    use credex_types::ListKind;
    let mut fx = Fixture::new("store-state-on-disk");
    let dir = tempfile::tempdir().unwrap();
    let gh = fx.genesis.hash();
    let cert = CommitCertificate { round: 0, signatures: vec![] };
    let mut mem = MemState::default();
    let mut smt = SparseMerkleMap::new();
    let subjects: Vec<String> = (0..12).map(|i| format!("zz-disk:N{i:02}")).collect();
    let store = Store::open(dir.path(), gh).unwrap();
    let mut listings = Vec::new();
    for i in 1..=4usize {
        let h = i as u64;
        // three listings a block, and from block 3 on the repair of an earlier one
        let mut txs = Vec::new();
        for s in &subjects[(i - 1) * 3..i * 3] {
            let att = fx.attest("cn-sfh-amr", s, AttestationKind::AbnormalOperationListing, &[("note", "x")], None);
            txs.push(Transaction::Anchor(AnchorTx::of(&att)));
            listings.push(att);
        }
        if h >= 3 {
            let target = &listings[(i - 3) * 3];
            let rm = fx.attest(
                "cn-sfh-amr",
                &target.header.subject.to_string(),
                AttestationKind::AbnormalOperationRemoval,
                &[("note", "repaired")],
                None,
            );
            txs.push(Transaction::Anchor(AnchorTx::of(&rm)));
        }
        let mut b = block(&mut fx, h, txs);
        let ctx = BlockContext { height: h, time: Timestamp(h) };
        let out = outcome(&store, &fx, ctx, &b);
        let map = seal(&store, &mut b, &out);
        // the reference executes the same block on memory
        let view = mem.with(&store);
        let (ref_writes, _) = execute_block(&view, &fx.genesis, ctx, &b.txs).unwrap().into_writes();
        assert_eq!(ref_writes, out.writes);
        for (k, v) in &out.writes {
            smt.insert(k.hash(), v.hash());
        }
        mem.apply(out.writes.clone());
        let root = smt.root();
        assert_eq!(map.root, root);
        let wrong = credex_merkle::stored::Update { root: Hash32([7; 32]), writes: map.writes.clone() };
        let commit = |map| BlockCommit {
            block: &b,
            certificate: &cert,
            writes: &out.writes,
            anchors: &out.anchors,
            erased: &[],
            map,
        };
        assert!(matches!(store.commit_block(&commit(&wrong)), Err(StoreError::StateRoot { .. })));
        assert_eq!(store.height().unwrap(), h - 1, "a refused commit writes nothing");
        store.commit_block(&commit(&map)).unwrap();
        assert_eq!(store.state_root().unwrap(), root);
    }
    let check = |store: &Store, mem: &MemState, smt: &mut SparseMerkleMap| {
        let root = smt.root();
        assert_eq!(store.state_root().unwrap(), root);
        let list = ListKind::AbnormalOperation;
        assert_eq!(store.member_count(list).unwrap(), mem.member_count(list));
        assert_eq!(store.member_count(list).unwrap(), 12 - 2, "two repaired");
        assert_eq!(store.members(list, None, None, 100).unwrap(), mem.members(list, None, None, 100));
        let first = store.members(list, None, None, 4).unwrap();
        assert_eq!(store.members(list, first.last(), None, 3).unwrap(), mem.members(list, first.last(), None, 3));
        assert_eq!(store.members(list, None, Some("N1"), 100).unwrap(), mem.members(list, None, Some("N1"), 100));
        assert_eq!(store.member_count_matching(list, Some("n1")).unwrap(), mem.member_count_matching(list, Some("n1")));
        assert_eq!(store.abnormal_since(Timestamp(2), 100).unwrap(), mem.due_escalations(Timestamp(2), 100));
        for s in &subjects {
            let key = StateKey::Listing { list, subject: s.parse().unwrap() };
            let proof = store.state_proof(&key).unwrap();
            assert_eq!(proof, smt.prove(&key.hash()));
            let value = StateRead::get(store, &key).unwrap().map(|v| v.hash());
            assert!(verify(&root, &key.hash(), value.as_ref(), &proof).is_ok());
        }
        let absent = StateKey::Listing { list, subject: "zz-disk:NONE".parse().unwrap() };
        assert!(verify(&root, &absent.hash(), None, &store.state_proof(&absent).unwrap()).is_ok());
    };
    check(&store, &mem, &mut smt);
    drop(store);
    let store = Store::open(dir.path(), gh).unwrap();
    check(&store, &mem, &mut smt);
    drop(store);
    // a store of an earlier version: values only, no map nodes, no indexes
    {
        let opts = rocksdb::Options::default();
        let names = rocksdb::DB::list_cf(&opts, dir.path()).unwrap();
        let mut db = rocksdb::DB::open_cf(&opts, dir.path(), &names).unwrap();
        db.drop_cf("state_map").unwrap();
        db.drop_cf("state_index").unwrap();
        db.delete_cf(db.cf_handle("meta").unwrap(), b"state-map").unwrap();
    }
    let store = Store::open(dir.path(), gh).unwrap();
    check(&store, &mem, &mut smt);
}

#[test]
fn a_snapshot_stays_at_its_height_while_the_store_commits_and_reads_back_in_chunks_of_any_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut fx = Fixture::new("snapshot");
    let store = Store::open(&dir.path().join("db"), fx.genesis.hash()).unwrap();
    let commit = |fx: &mut Fixture, height: u64, n: usize| {
        let txs: Vec<Transaction> = (0..n)
            .map(|i| {
                let subject = format!("zz-snap:H{height}N{i}");
                let att = fx.attest("cn-sfh-amr", &subject, AttestationKind::AdministrativeLicence, &[], None);
                Transaction::Anchor(AnchorTx::of(&att))
            })
            .collect();
        let mut b = block(fx, height, txs);
        let out = outcome(&store, fx, BlockContext { height, time: Timestamp(height) }, &b);
        let map = seal(&store, &mut b, &out);
        let cert = CommitCertificate { round: 0, signatures: vec![] };
        let c = BlockCommit {
            block: &b,
            certificate: &cert,
            writes: &out.writes,
            anchors: &out.anchors,
            erased: &[],
            map: &map,
        };
        store.commit_block(&c).unwrap();
    };
    commit(&mut fx, 1, 40);
    let snap_dir = dir.path().join("snapshot");
    let snap = store.snapshot(&snap_dir).unwrap();
    assert_eq!(snap.height(), 1);
    let root_then = store.state_root().unwrap();
    // the live store moves on; the snapshot does not
    commit(&mut fx, 2, 25);
    assert!(snap.block_with_certificate(2).unwrap().is_none());
    assert!(snap.block_with_certificate(1).unwrap().is_some());
    let read_all = |budget: usize, anchors: bool| {
        let mut out = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        loop {
            let c = if anchors {
                snap.anchor_chunk(after.as_deref(), budget).unwrap()
            } else {
                snap.state_chunk(after.as_deref(), budget).unwrap()
            };
            assert!(!c.entries.is_empty() || !c.more, "an empty chunk with more to follow");
            after = c.entries.last().map(|(k, _)| k.clone());
            out.extend(c.entries);
            if !c.more {
                return out;
            }
        }
    };
    let whole = read_all(usize::MAX, false);
    for budget in [1, 200, 5_000] {
        assert_eq!(read_all(budget, false), whole, "chunks of {budget} bytes");
    }
    assert!(whole.windows(2).all(|w| w[0].0 < w[1].0), "strictly increasing keys");
    assert_eq!(read_all(300, true).len(), 40, "the anchors at height 1 only");
    // the snapshot's values are the state at height 1: importing them gives its root
    let other = Store::open(&dir.path().join("other"), fx.genesis.hash()).unwrap();
    assert!(matches!(other.import_values(&whole), Err(StoreError::NotImporting)));
    other.begin_import().unwrap();
    other.import_values(&whole).unwrap();
    assert_eq!(other.import_values_done().unwrap(), root_then);
    assert!(matches!(store.begin_import(), Err(StoreError::NotEmpty { height: 2 })));
    drop(snap);
    assert!(!snap_dir.exists(), "the snapshot's directory is removed with it");
}
