//! Inserts the same keys into credex-merkle's map and into `jmt` (in-memory
//! mock store), in blocks of 1,000 with a root per block, then compares
//! throughput, non-membership proof size and verification time.

use std::time::Instant;

use credex_crypto::Hash32;
use credex_merkle::smt::{self, SparseMerkleMap};
use jmt::{KeyHash, Sha256Jmt, mock::MockTreeStore};

fn key(i: u64) -> [u8; 32] {
    Hash32::sha256(&[b"key", &i.to_le_bytes()]).0
}

fn main() -> anyhow::Result<()> {
    let n: u64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let block = 1000u64;
    let probes = 1000u64;
    println!("{n} keys, blocks of {block}, root after every block");

    // credex
    let mut map = SparseMerkleMap::new();
    let t = Instant::now();
    for b in 0..n / block {
        for i in b * block..(b + 1) * block {
            map.insert(Hash32(key(i)), Hash32::sha256(&[&i.to_le_bytes()]));
        }
        map.root();
    }
    let ours = t.elapsed();
    let root = map.root();
    let mut size = 0;
    let mut proofs = vec![];
    for p in 0..probes {
        let k = Hash32(key(n + p));
        let pr = map.prove(&k);
        size += credex_codec::encode(&pr).len();
        proofs.push((k, pr));
    }
    let t = Instant::now();
    for (k, pr) in &proofs {
        smt::verify(&root, k, None, pr).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let ours_verify = t.elapsed() / probes as u32;
    println!(
        "credex-merkle: {:.0} inserts/s, non-membership proof {} bytes mean, verify {:.1} µs",
        n as f64 / ours.as_secs_f64(),
        size as u64 / probes,
        ours_verify.as_secs_f64() * 1e6
    );

    // jmt
    let store = MockTreeStore::default();
    let tree = Sha256Jmt::new(&store);
    let t = Instant::now();
    let mut jroot = None;
    for b in 0..n / block {
        let set: Vec<_> = (b * block..(b + 1) * block)
            .map(|i| (KeyHash(key(i)), Some(Hash32::sha256(&[&i.to_le_bytes()]).0.to_vec())))
            .collect();
        let (r, batch) = tree.put_value_set(set, b)?;
        store.write_tree_update_batch(batch)?;
        jroot = Some(r);
    }
    let theirs = t.elapsed();
    let jroot = jroot.ok_or_else(|| anyhow::anyhow!("no blocks"))?;
    let version = n / block - 1;
    let mut jsize = 0;
    let mut jproofs = vec![];
    for p in 0..probes {
        let k = KeyHash(key(n + p));
        let (v, pr) = tree.get_with_proof(k, version)?;
        anyhow::ensure!(v.is_none());
        jsize += borsh::to_vec(&pr)?.len();
        jproofs.push((k, pr));
    }
    let t = Instant::now();
    for (k, pr) in &jproofs {
        pr.verify_nonexistence(jroot, *k)?;
    }
    let jverify = t.elapsed() / probes as u32;
    println!(
        "jmt 0.12 (mock store): {:.0} inserts/s, non-membership proof {} bytes mean (borsh), verify {:.1} µs",
        n as f64 / theirs.as_secs_f64(),
        jsize as u64 / probes,
        jverify.as_secs_f64() * 1e6
    );
    Ok(())
}
