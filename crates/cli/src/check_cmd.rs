//! `credex check`: a platform's bulk check of its sellers (spec §8.7).
//!
//! Reads subject ids (one per line, or the first column of a CSV; a header
//! line is skipped; UTF-8 or GB18030), asks the node `POST /v1/standing`
//! in calls of [`CHUNK`] subjects (signed with `--auth`: the bulk route is
//! for platforms, officials and issuers), and writes one CSV line per
//! input: the canonical id, `listed` or `not-listed` (or `invalid-id`), the
//! lists it is on, and the height and time of the block the answer is at.
//! With `--proofs DIR` it also writes each subject's every-list proof
//! (`credex1:` text, verifiable offline with `credex verify`) — assembled
//! from the answer's shared anchor and the subject's claim, so nothing more
//! is fetched. Exit 0 if every line was a subject id, 1 otherwise.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use credex_api_types::client::Client;
use credex_api_types::types::{BulkQuery, BulkStanding};
use serde_json::{Value, json};

/// Subjects per call: answers stay a few megabytes and the node's state
/// lock is held briefly (the route takes up to 10,000).
pub(crate) const CHUNK: usize = 2_000;

/// The subject ids of a file (see the module docs).
pub(crate) fn read_subjects(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .lines()
        .map(|l| l.split(',').next().unwrap_or("").trim().trim_matches('"').trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    // a header line: not an id, and no digit in it
    if out
        .first()
        .is_some_and(|h| h.parse::<credex_types::SubjectId>().is_err() && !h.chars().any(|c| c.is_ascii_digit()))
    {
        out.remove(0);
    }
    out
}

/// File name of a subject's proof: the id with `:` as `_`.
fn proof_file(dir: &Path, subject: &credex_types::SubjectId) -> std::path::PathBuf {
    dir.join(format!("{}.proof", subject.to_string().replace(':', "_")))
}

/// `credex check`.
pub(crate) fn check(
    node: &str,
    file: &Path,
    out: &mut dyn std::io::Write,
    proofs: Option<&Path>,
) -> anyhow::Result<(Value, bool)> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let (text, _) = crate::import_map::decode(&bytes, None)?;
    let subjects = read_subjects(&text);
    anyhow::ensure!(!subjects.is_empty(), "{} holds no subject ids", file.display());
    if let Some(dir) = proofs {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let client = Client::new(node);
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["input", "subject", "status", "lists", "height", "block_time", "error"])?;
    let start = Instant::now();
    let (mut listed, mut invalid, mut heights) = (0u64, 0u64, (u64::MAX, 0u64));
    for (i, chunk) in subjects.chunks(CHUNK).enumerate() {
        let answer: BulkStanding = client
            .post_as("/v1/standing", &BulkQuery { subjects: chunk.to_vec() })
            .with_context(|| format!("checking subjects {}–{}", i * CHUNK + 1, i * CHUNK + chunk.len()))?;
        anyhow::ensure!(
            answer.results.len() == chunk.len(),
            "the node answered {} of {} subjects",
            answer.results.len(),
            chunk.len()
        );
        heights = (heights.0.min(answer.height), heights.1.max(answer.height));
        for e in &answer.results {
            let (status, lists) = match (&e.subject, &e.error) {
                (Some(_), None) if e.listed_on.is_empty() => ("not-listed", String::new()),
                (Some(_), None) => {
                    listed += 1;
                    ("listed", e.listed_on.iter().map(ToString::to_string).collect::<Vec<_>>().join(";"))
                }
                _ => {
                    invalid += 1;
                    ("invalid-id", String::new())
                }
            };
            w.write_record([
                e.input.as_str(),
                &e.subject.as_ref().map(ToString::to_string).unwrap_or_default(),
                status,
                &lists,
                &answer.height.to_string(),
                &answer.block_time.to_string(),
                &e.error.as_ref().map(|x| x.message.clone()).unwrap_or_default(),
            ])?;
            if let (Some(dir), Some(subject), Some(claim)) = (proofs, &e.subject, &e.claim) {
                let proof = credex_proof::CreditProof::from_parts(claim, &answer.anchor)
                    .map_err(|err| anyhow::anyhow!("the node's answer for {subject} is not a proof: {err}"))?;
                std::fs::write(proof_file(dir, subject), proof.to_text() + "\n")?;
            }
        }
        let done = (i * CHUNK + chunk.len()).min(subjects.len());
        eprint!("\r{done}/{} checked, {listed} listed, {invalid} invalid ids", subjects.len());
    }
    eprintln!();
    w.flush()?;
    let secs = start.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let rate = subjects.len() as f64 / secs.max(1e-9);
    Ok((
        json!({
            "checked": subjects.len(), "listed": listed, "invalid_ids": invalid,
            "heights": [heights.0, heights.1], "seconds": (secs * 1000.0).round() / 1000.0,
            "subjects_per_second": rate.round(),
        }),
        invalid == 0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_one_per_line_or_first_column_with_a_header_skipped() {
        let t = "统一社会信用代码,企业名称\n91350100M000100Y43,某公司\n\n \"ru-inn:7707083893\" \nnot-an-id\n";
        assert_eq!(read_subjects(t), vec!["91350100M000100Y43", "ru-inn:7707083893", "not-an-id"]);
        assert_eq!(read_subjects("7707083893\n"), vec!["7707083893"]);
    }
}
