//! Every fuzz target on its committed corpus (`tests/fuzz/corpus/<target>/`,
//! seeds from `gen-corpus` and anything a fuzzing run kept) and on seeded
//! mutations of each file: bit flips, byte changes, insertions, deletions,
//! truncations and splices. Runs on the stable toolchain in `cargo test`;
//! a panic names the target, the file and the mutation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

/// Mutations per corpus file.
const MUTATIONS: u64 = 400;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { usize::try_from(self.next() % n as u64).unwrap() }
    }
}

fn mutate(input: &[u8], other: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len().max(1));
        match rng.below(6) {
            0 if !out.is_empty() => out[at] ^= 1 << rng.below(8),
            1 if !out.is_empty() => out[at] = u8::try_from(rng.below(256)).unwrap(),
            2 => out.insert(at.min(out.len()), u8::try_from(rng.below(256)).unwrap()),
            3 if !out.is_empty() => {
                out.remove(at);
            }
            4 => out.truncate(at),
            _ => {
                let from = rng.below(other.len().max(1));
                let len = rng.below(other.len().saturating_sub(from) + 1);
                out.splice(
                    at.min(out.len())..at.min(out.len()),
                    other[from.min(other.len())..from.min(other.len()) + len].iter().copied(),
                );
            }
        }
    }
    out
}

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz/corpus").join(target);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e} (run cargo run -p credex-fuzz --bin gen-corpus)", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus for {target}");
    files
}

#[test]
fn every_target_survives_its_corpus_and_its_mutations() {
    let mut runs = 0u64;
    for (name, target) in credex_fuzz::TARGETS {
        let files = corpus(name);
        for (i, (path, input)) in files.iter().enumerate() {
            target(input);
            let other = &files[(i + 1) % files.len()].1;
            let mut rng = Rng(u64::from_le_bytes(credex_crypto::Hash32::sha256(&[input]).0[..8].try_into().unwrap()));
            for m in 0..MUTATIONS {
                let mutated = mutate(input, other, &mut rng);
                let outcome = std::panic::catch_unwind(|| target(&mutated));
                assert!(
                    outcome.is_ok(),
                    "target {name} panicked on mutation {m} of {}: {}",
                    path.display(),
                    hex::encode(&mutated)
                );
                runs += 1;
            }
        }
    }
    assert!(runs >= 12 * MUTATIONS);
}

#[test]
fn every_target_has_a_cargo_fuzz_harness() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz/fuzz_targets");
    for (name, _) in credex_fuzz::TARGETS {
        let file = dir.join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            text.contains(&format!("credex_fuzz::{name}(")),
            "{} does not call credex_fuzz::{name}",
            file.display()
        );
    }
}
