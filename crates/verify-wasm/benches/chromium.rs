//! The in-browser verifier measured in Chromium (Debian's `chromium`,
//! headless; set CHROMIUM to use another): the module's size, and the time
//! per verification of three vector proofs (an attestation, a list
//! non-membership, an every-list standing) inside the browser, next to the
//! same verification natively in this process.
//!
//! `cargo bench -p credex-verify-wasm --bench chromium`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::print_stdout)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use base64::Engine as _;
use credex_tests::vectors::ProofCase;
use credex_verify_wasm::{Request, VERIFIER_JS, WASM};

const REPEAT: usize = 200;

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("credit_proofs.json")).unwrap()).unwrap();
    let cases: Vec<ProofCase> = serde_json::from_value(v["cases"].clone()).unwrap();
    assert!(WASM.starts_with(b"\0asm"), "built without the wasm32 target");
    println!(
        "module: {} bytes ({} KiB); base64 in the offline page: {} bytes",
        WASM.len(),
        WASM.len() / 1024,
        WASM.len().div_ceil(3) * 4
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    for name in ["attestation-active", "list-never-listed", "standing-never-listed"] {
        let Some(c) = cases.iter().find(|c| c.name == name) else {
            panic!("no vector {name}: {:?}", cases.iter().map(|c| &c.name).collect::<Vec<_>>());
        };
        let request = Request {
            genesis: std::fs::read_to_string(dir.join(&c.genesis)).unwrap(),
            now: c.now.to_string(),
            max_age: Some("none".into()),
            lang: Some("en".into()),
            ..Request::default()
        };
        // natively
        let start = Instant::now();
        for _ in 0..REPEAT {
            assert_eq!(credex_verify_wasm::verify(&request, c.proof_text.as_bytes()).exit_code, 0);
        }
        let native_us = start.elapsed().as_secs_f64() * 1e6 / REPEAT as f64;
        // in Chromium: the same request, REPEAT times, timed by the page
        let page = format!(
            r#"<!doctype html><meta charset="utf-8"><body><pre id="out">…</pre><script>{VERIFIER_JS}</script><script>
const b = Uint8Array.from(atob("{wasm}"), (c) => c.charCodeAt(0));
const request = {request};
const proof = {proof};
// synchronously, while the page loads (so --dump-dom waits for it, and
// the clock is real: virtual time would stop performance.now())
try {{
  const v = CredexVerifier.wrap(new WebAssembly.Instance(new WebAssembly.Module(b), {{}}).exports);
  let a = v.verify(request, proof); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < {REPEAT}; i++) a = v.verify(request, proof);
  const us = (performance.now() - t0) * 1000 / {REPEAT};
  document.getElementById("out").textContent = "exit=" + a.exit_code + " us=" + us.toFixed(1);
}} catch (e) {{ document.getElementById("out").textContent = "error " + e; }}
</script>"#,
            wasm = base64::engine::general_purpose::STANDARD.encode(WASM),
            request = serde_json::to_string(&request).unwrap(),
            proof = serde_json::to_string(&c.proof_text).unwrap(),
        );
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("bench.html");
        std::fs::write(&file, page).unwrap();
        let out = Command::new(&chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
            .arg("--dump-dom")
            .arg(format!("--user-data-dir={}", tmp.path().join("profile").display()))
            .arg(format!("file://{}", file.display()))
            .output()
            .unwrap_or_else(|e| panic!("cannot run {chromium}: {e}"));
        let dom = String::from_utf8_lossy(&out.stdout);
        let line = dom.split("<pre id=\"out\">").nth(1).and_then(|s| s.split('<').next()).unwrap_or("").to_string();
        let us: f64 = line
            .strip_prefix("exit=0 us=")
            .and_then(|s| s.parse().ok())
            .filter(|us| *us > 0.0)
            .unwrap_or_else(|| panic!("chromium gave {line:?}"));
        println!(
            "{name:<22} ({} B): Chromium {us:.1} µs per verification, native {native_us:.1} µs (×{:.2})",
            c.size,
            us / native_us
        );
    }
}
