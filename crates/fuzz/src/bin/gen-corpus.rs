//! `gen-corpus`: writes the seed corpus of every fuzz target to
//! `tests/fuzz/corpus/<target>/` (`cargo run -p credex-fuzz --bin gen-corpus`):
//! well-formed inputs from the fixture chain, so that fuzzing and the replay
//! test start from messages that get past decoding.

#![allow(clippy::print_stdout)] // a command-line tool

use std::path::Path;

use anyhow::Context as _;
use credex_chain::{AnchorTx, Block, Transaction};
use credex_consensus::{ConsensusMsg, ProposalBytes};
use credex_crypto::{Hash32, Purpose};
use credex_types::chain::{CommitSig, Evidence, SignedVote, VoteKind};
use credex_types::{AttestationKind as K, Vote};
use credex_wire::{CompactProposal, ConsensusGossip, SyncRequest, SyncResponse};

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz/corpus");
    let mut fx = credex_tests::Fixture::new("vectors");
    let att = fx.attest(
        "cn-sfh-amr",
        "91350100M000100Y43",
        K::AbnormalOperationListing,
        &[("reason-code", "annual-report")],
        None,
    );
    fx.anchor(&att);
    let proof = fx.prove_attestation(&att, &["reason-code"], &[0, 1, 2]);
    let status = fx.prove_status(&att, &[0, 1, 2, 3]);
    let chain = fx.genesis.chain_id.clone();
    let (header, cert) = fx.commit(&[0, 1, 2]);
    let tx = Transaction::Anchor(AnchorTx::of(&att));
    let block = Block { header: header.clone(), txs: vec![tx.clone()] };
    let vote = |who: u16, round: u32, kind: VoteKind, block: Option<Hash32>| {
        let v = Vote { chain_id: chain.clone(), height: 1, round, kind, block };
        let signature = fx.validator_keys[usize::from(who)].sign(Purpose::Vote, &v.signing_bytes());
        (v, signature)
    };
    let (v1, s1) = vote(1, 0, VoteKind::Prevote, Some(Hash32([1; 32])));
    let (v2, s2) = vote(1, 0, VoteKind::Prevote, None);
    let evidence = Evidence::new(
        SignedVote { vote: v1.clone(), validator: 1, signature: s1 },
        SignedVote { vote: v2, validator: 1, signature: s2 },
    );
    let mut b1 = block.clone();
    b1.header.height = 1;
    b1.header.proposer = 1;
    let bytes = ProposalBytes {
        chain_id: chain.clone(),
        height: 1,
        round: 0,
        pol_round: None,
        block: b1.header.id(),
        proposer: 1,
    };
    let proposal = ConsensusMsg::Proposal {
        height: 1,
        round: 0,
        pol_round: None,
        proposer: 1,
        block: b1.clone(),
        signature: fx.validator_keys[1].sign(Purpose::Proposal, &credex_codec::encode(&bytes)),
    };
    let cv = ConsensusMsg::Vote {
        height: 1,
        round: 0,
        kind: VoteKind::Prevote,
        block: v1.block,
        validator: 1,
        signature: s1,
    };
    let polka = ConsensusMsg::Polka {
        height: 1,
        round: 0,
        block: b1.header.id(),
        votes: (0..3u16)
            .map(|i| {
                let v = Vote {
                    chain_id: chain.clone(),
                    height: 1,
                    round: 0,
                    kind: VoteKind::Prevote,
                    block: Some(b1.header.id()),
                };
                CommitSig {
                    validator: i,
                    signature: fx.validator_keys[usize::from(i)].sign(Purpose::Vote, &v.signing_bytes()),
                }
            })
            .collect(),
    };
    let mut inbox = Vec::new();
    for m in [&proposal, &cv, &polka] {
        let e = credex_codec::encode(m);
        inbox.extend_from_slice(&u32::try_from(e.len())?.to_le_bytes());
        inbox.extend_from_slice(&e);
    }
    for choice in [[0xff, 0, 0, 0, 0, 1], [0xff, 1, 0, 0, 0, 1], [0xff, 2, 0, 0, 0, 1], [0xff, 3, 0, 0, 1, 1]] {
        inbox.extend_from_slice(&6u32.to_le_bytes());
        inbox.extend_from_slice(&choice);
    }
    let genesis = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/genesis.toml"))?;
    let mut nonce = String::new();
    for b in [7u8; 16] {
        nonce.push_str(&format!("{b:02x}"));
    }
    let headers = format!("cn-sfh-amr\n1800000000000\n{nonce}\n{}\n", s1);
    let corpus: Vec<(&str, Vec<Vec<u8>>)> = vec![
        (
            "codec",
            vec![
                credex_codec::encode(&header),
                credex_codec::encode(&cert),
                credex_codec::encode(&v1),
                credex_codec::encode(&evidence),
                credex_codec::encode(&fx.set),
            ],
        ),
        ("attestation", vec![credex_codec::encode(&att), credex_codec::encode(&att.disclose(&[])?)]),
        ("block", vec![credex_codec::encode(&block)]),
        (
            "consensus_msg",
            vec![credex_codec::encode(&proposal), credex_codec::encode(&cv), credex_codec::encode(&polka)],
        ),
        (
            "consensus_gossip",
            vec![
                credex_codec::encode(&ConsensusGossip::Proposal(
                    CompactProposal::of(&proposal).context("the proposal has a compact form")?,
                )),
                credex_codec::encode(&ConsensusGossip::Message(cv.clone())),
                credex_codec::encode(&ConsensusGossip::Message(polka.clone())),
            ],
        ),
        ("consensus_inbox", vec![inbox]),
        ("certificate", vec![credex_codec::encode(&(header.clone(), cert.clone()))]),
        ("credit_proof", vec![proof.to_bytes(), status.to_bytes(), proof.to_text().into_bytes()]),
        ("proof_text", vec![proof.to_text().into_bytes(), status.to_text().into_bytes()]),
        (
            "p2p_frames",
            vec![
                credex_codec::encode(&SyncRequest::Status),
                credex_codec::encode(&SyncRequest::Blocks { from: 1, max: 16 }),
                credex_codec::encode(&SyncResponse::Status { height: 7 }),
                credex_codec::encode(&SyncResponse::Blocks(vec![(block.clone(), cert.clone())])),
                credex_codec::encode(&SyncRequest::Transactions(vec![tx.hash()])),
                credex_codec::encode(&SyncResponse::Transactions(vec![tx.clone()])),
            ],
        ),
        ("genesis_toml", vec![genesis]),
        ("request_headers", vec![headers.into_bytes()]),
        ("transaction", vec![credex_codec::encode(&tx), credex_codec::encode(&Transaction::Evidence(evidence))]),
    ];
    for (target, inputs) in corpus {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for input in inputs {
            let name = Hash32::sha256(&[&input]).to_string();
            std::fs::write(dir.join(&name[..16]), &input)?;
        }
        println!("{target}: {}", dir.display());
    }
    Ok(())
}
