//! A platform checks 100,000 sellers (`credex check`, `POST /v1/standing`)
//! against a running `credex dev`: wall time and subjects per second, with
//! every answer carrying each seller's every-list claim (its proof); then
//! the same with each proof written to a file (`--proofs`).
//!
//! `cargo bench -p credex --bench bulk_check` (`CREDEX_BENCH_SELLERS` to
//! change the 100,000).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout, missing_docs)]

use std::process::Command;
use std::time::Instant;

use credex_tests::harness::{DevNode, attest, binary, free_port};

/// A valid 10-digit ИНН for `n` (nine digits, then the check digit).
fn inn(n: u64) -> String {
    let digits: Vec<u32> = format!("{:09}", n % 1_000_000_000).chars().map(|c| c.to_digit(10).unwrap()).collect();
    let w = [2, 4, 10, 3, 5, 9, 4, 6, 8];
    let check = digits.iter().zip(w).map(|(d, w)| d * w).sum::<u32>() % 11 % 10;
    format!("ru-inn:{}{check}", digits.iter().map(ToString::to_string).collect::<String>())
}

fn main() {
    let sellers: u64 = std::env::var("CREDEX_BENCH_SELLERS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("dev"), free_port());
    let amr = node.key("cn-sfh-amr");
    for i in 0..20 {
        attest(&node.url, &amr, &inn(1_000 + i * 7919), "abnormal-operation-listing", &["reason-code=annual-report"]);
    }
    let file = tmp.path().join("sellers.txt");
    let ids: Vec<String> = (0..sellers).map(|i| inn(1_000 + i * 7919)).collect();
    std::fs::write(&file, ids.join("\n") + "\n").unwrap();
    let platform = tmp.path().join("dev/keys/platform.json");
    println!("bulk check: {sellers} sellers (20 of them listed) against credex dev, chunks of 2,000 per call");
    for (label, proofs) in [("answers with proofs", false), ("and each proof written to a file", true)] {
        let out = tmp.path().join("results.csv");
        let dir = tmp.path().join("proofs");
        let mut args = vec![
            "--auth".to_string(),
            platform.display().to_string(),
            "check".into(),
            file.display().to_string(),
            "--node".into(),
            node.url.clone(),
            "--out".into(),
            out.display().to_string(),
        ];
        if proofs {
            args.extend(["--proofs".to_string(), dir.display().to_string()]);
        }
        let start = Instant::now();
        let o = Command::new(binary()).args(&args).output().unwrap();
        let secs = start.elapsed().as_secs_f64();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let listed = std::fs::read_to_string(&out).unwrap().lines().filter(|l| l.contains(",listed,")).count();
        assert_eq!(listed, 20);
        #[allow(clippy::cast_precision_loss)]
        let rate = sellers as f64 / secs;
        println!("  {label}: {secs:.2} s, {rate:.0} subjects/s");
        // the bulk budget refills (20,000 subjects/s) before the next run
        std::thread::sleep(std::time::Duration::from_secs(6));
    }
}
