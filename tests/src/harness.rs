//! The harness of the multi-process scenarios (`tests/scenarios/`): start
//! `credex dev` as a real process on a real port and data directory, talk
//! to it over HTTP (raw, to test the wire, or through the typed client of
//! `credex-api-types`), run the `credex` command line, sign requests with
//! the one signing code of `credex-api-types`.
//!
//! The binary is the workspace's `credex`, found beside the running test
//! (as cargo lays out `target/<profile>/`), or at `CARGO_BIN_EXE_credex`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use credex_api_types::client::Client;
use credex_api_types::types::{Standing, Submitted};
use serde_json::Value;

/// The `credex` binary these scenarios run.
pub fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("CARGO_BIN_EXE_credex") {
        return PathBuf::from(p);
    }
    // target/<profile>/deps/<test binary> → target/<profile>/credex
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps");
    let bin = dir.join(format!("credex{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} not built: run the scenarios with cargo test -p credex", bin.display());
    bin
}

/// The partner's verifier, `credex-verify`, built beside `credex` by a
/// workspace test run (its package has a test).
pub fn verify_binary() -> PathBuf {
    let bin = binary().with_file_name(format!("credex-verify{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} not built: run cargo build -p credex-verify (or the workspace's tests)", bin.display());
    bin
}

pub struct DevNode {
    pub child: Child,
    pub url: String,
    pub dir: PathBuf,
}

/// Starts `credex ARGS` with stderr to `log` and waits until its API on
/// `http_port` answers; returns the process and the API's base URL.
pub fn spawn_credex(args: &[String], http_port: u16, log: Stdio) -> (Child, String) {
    match try_spawn_credex(args, http_port, log) {
        Ok(up) => up,
        Err(status) => panic!("credex {args:?} exited with {status} before serving (its log says why)"),
    }
}

/// [`spawn_credex`], or the exit status of a process that stopped before
/// serving (as when its port was taken).
fn try_spawn_credex(args: &[String], http_port: u16, log: Stdio) -> Result<(Child, String), std::process::ExitStatus> {
    let mut child = Command::new(binary()).args(args).stdout(Stdio::null()).stderr(log).spawn().unwrap();
    let url = format!("http://127.0.0.1:{http_port}");
    let start = Instant::now();
    while !matches!(try_get(&url, "/healthz"), Ok((200, _))) {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(status);
        }
        assert!(start.elapsed() < Duration::from_secs(30), "credex {args:?} did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((child, url))
}

impl DevNode {
    pub fn start(dir: &Path, port: u16) -> DevNode {
        Self::start_with(dir, port, &[])
    }

    /// As [`DevNode::start`], with more arguments for `credex dev`.
    ///
    /// The scenarios run as separate processes, so another test's node may
    /// take `port` between `free_port` and the bind; then the node that
    /// answers is not this one (its genesis differs) or this one exits, and
    /// it is started again on another port.
    pub fn start_with(dir: &Path, port: u16, extra: &[&str]) -> DevNode {
        let mut port = port;
        for _ in 0..5 {
            let mut args: Vec<String> =
                ["dev", "--data", dir.to_str().unwrap(), "--http", &format!("127.0.0.1:{port}")]
                    .map(String::from)
                    .to_vec();
            args.extend(extra.iter().map(|a| a.to_string()));
            if let Ok((mut child, url)) = try_spawn_credex(&args, port, Stdio::null()) {
                let ours = std::fs::read_to_string(dir.join("genesis.toml"))
                    .ok()
                    .and_then(|t| credex_types::Genesis::from_toml(&t).ok())
                    .map(|g| g.hash().to_string());
                let theirs =
                    try_get(&url, "/v1/status").ok().and_then(|(_, v)| v["genesis"].as_str().map(String::from));
                if ours.is_some() && ours == theirs && child.try_wait().is_ok_and(|s| s.is_none()) {
                    return DevNode { child, url, dir: dir.to_path_buf() };
                }
                let _ = child.kill();
                let _ = child.wait();
            }
            port = free_port();
        }
        panic!("credex dev could not get a port of its own in five tries");
    }

    pub fn key(&self, agency: &str) -> String {
        self.dir.join("keys").join(format!("{agency}.json")).to_str().unwrap().to_string()
    }

    pub fn genesis(&self) -> String {
        self.dir.join("genesis.toml").to_str().unwrap().to_string()
    }

    /// A typed client of this node's API, signing with the key file `key` if given.
    pub fn client(&self, key: Option<&str>) -> Client {
        match key {
            Some(k) => Client::with_key(&self.url, Path::new(k)).unwrap(),
            None => Client::new(&self.url),
        }
    }
}

impl Drop for DevNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Room on the temporary directory's disk for a test of a node's free-space
/// floor. [`DiskSqueeze::take`] measures the free space and puts the floor
/// [`DiskSqueeze::MARGIN_MB`] below it; [`DiskSqueeze::fill`] takes twice
/// that (one `fallocate`, no data written), so the node is that margin
/// below its floor while filled and that margin above it once
/// [`DiskSqueeze::release`]d. The margin is wide because everything else on
/// the disk moves too: each RocksDB preallocates its write-ahead log
/// (≈ 70 MB per open store), and the other scenarios running at the same
/// time start and remove nodes of their own — a 512 MiB margin was crossed
/// in CI and left a validator read-only after its filler was gone.
///
/// It also holds a lock: two such tests at once (in one `cargo test`
/// process, or in parallel processes under nextest) would see each other's
/// filler. The lock is a directory under the temporary directory, created
/// atomically and removed on drop; one left by a killed test is taken over
/// after 15 minutes.
pub struct DiskSqueeze {
    lock: PathBuf,
    filler: PathBuf,
    /// The floor to give the node (`--min-free-disk-mb`).
    pub floor_mb: u64,
}

impl DiskSqueeze {
    /// The distance from the floor, either way, in MiB.
    pub const MARGIN_MB: u64 = 1536;

    /// Waits (up to 20 minutes) for the disk-floor tests before this one,
    /// then measures the free space of `dir`'s disk. Panics, saying so, when
    /// the disk has too little room for the filler.
    pub fn take(dir: &Path) -> DiskSqueeze {
        let lock = std::env::temp_dir().join("credex-scenarios-disk-floor.lock");
        let start = Instant::now();
        loop {
            match std::fs::create_dir(&lock) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let stale = std::fs::metadata(&lock)
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > Duration::from_secs(900)));
                    if stale {
                        let _ = std::fs::remove_dir(&lock);
                        continue;
                    }
                    assert!(start.elapsed() < Duration::from_secs(1200), "{} held for 20 minutes", lock.display());
                    std::thread::sleep(Duration::from_millis(200));
                }
                Err(e) => panic!("{}: {e}", lock.display()),
            }
        }
        let mut squeeze = DiskSqueeze { lock, filler: dir.join("filler"), floor_mb: 0 };
        let free = free_mb(dir);
        assert!(
            free >= 3 * Self::MARGIN_MB,
            "the disk of {} has {free} MiB free; this test needs {} MiB for its filler and the nodes",
            dir.display(),
            3 * Self::MARGIN_MB
        );
        squeeze.floor_mb = free - Self::MARGIN_MB;
        squeeze
    }

    /// Takes twice the margin of the disk: the node is then below its floor.
    pub fn fill(&self) {
        use std::io::Write as _;
        let len = (2 * Self::MARGIN_MB) << 20;
        let mut f = std::fs::File::create(&self.filler).unwrap();
        if rustix::fs::fallocate(&f, rustix::fs::FallocateFlags::empty(), 0, len).is_err() {
            // a file system without fallocate: write it
            let chunk = vec![0x5au8; 8 << 20];
            for _ in 0..len / chunk.len() as u64 {
                f.write_all(&chunk).unwrap();
            }
        }
        f.sync_all().unwrap();
        let free = free_mb(&self.filler);
        assert!(free < self.floor_mb, "filled, the disk still has {free} MiB free, above the floor {}", self.floor_mb);
    }

    /// Gives the filler's space back: the node is then above its floor.
    pub fn release(&self) {
        std::fs::remove_file(&self.filler).unwrap();
    }
}

impl Drop for DiskSqueeze {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.filler);
        let _ = std::fs::remove_dir(&self.lock);
    }
}

/// Free MiB on the disk of `path` (what the node measures).
fn free_mb(path: &Path) -> u64 {
    let st = rustix::fs::statvfs(path).unwrap();
    st.f_bavail.saturating_mul(st.f_frsize) / (1024 * 1024)
}

/// A port nobody listens on now, and never handed out before in this test
/// process (the scenarios run in parallel in one process, and the kernel may
/// hand the same free port to two quick `bind(0)` calls).
pub fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    loop {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

/// GET `path`: the status and the body (JSON; a body that is not JSON as a
/// JSON string, an empty one as `null`). A node that does not answer fails
/// the test: use [`try_get`] where no answer is a possible outcome.
pub fn get(url: &str, path: &str) -> (u16, Value) {
    try_get(url, path).unwrap_or_else(|e| panic!("GET {url}{path}: no answer: {e}"))
}

/// As [`get`], with the transport error when nothing answers.
pub fn try_get(url: &str, path: &str) -> Result<(u16, Value), ureq::Error> {
    let mut r = agent().get(format!("{url}{path}")).call()?;
    Ok((r.status().as_u16(), body(&mut r)))
}

/// An answer's body as JSON (see [`get`]).
fn body(r: &mut ureq::http::Response<ureq::Body>) -> Value {
    let text = r.body_mut().read_to_string().unwrap_or_else(|e| panic!("reading an answer: {e}"));
    if text.is_empty() {
        return Value::Null;
    }
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// The four signature headers (spec §12.1) for a request signed with the key file `key`.
pub fn sign(url: &str, method: &str, path: &str, body: &[u8], key: &str) -> Vec<(&'static str, String)> {
    sign_at(url, method, path, body, key, credex_types::Timestamp::system_now().0)
}

/// As [`sign`], claiming time `time` (ms).
pub fn sign_at(url: &str, method: &str, path: &str, body: &[u8], key: &str, time: u64) -> Vec<(&'static str, String)> {
    sign_for(&get(url, "/v1/status").1, method, path, body, key, time)
}

/// The four headers for the node whose `GET /v1/status` is `status`.
pub fn sign_for(
    status: &Value,
    method: &str,
    path: &str,
    body: &[u8],
    key: &str,
    time: u64,
) -> Vec<(&'static str, String)> {
    let (client, secret) = credex_api_types::client::credentials(std::path::Path::new(key)).unwrap();
    let status: credex_api_types::types::NodeStatus = serde_json::from_value(status.clone()).unwrap();
    let audience = credex_types::access::Audience {
        chain_id: status.chain_id,
        genesis: status.genesis,
        node: status.agency.map(|a| a.to_string()).unwrap_or_default(),
    };
    credex_api_types::sign::sign_headers(&audience, &client, &secret, method, path, body, credex_types::Timestamp(time))
        .unwrap()
        .to_vec()
}

/// GET with these headers (e.g. a signature made for another node).
pub fn get_with(url: &str, path: &str, headers: &[(&'static str, String)]) -> (u16, Value) {
    let mut req = agent().get(format!("{url}{path}"));
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let mut r = req.call().unwrap();
    (r.status().as_u16(), body(&mut r))
}

/// GET signed with the key file `key`.
pub fn get_as(url: &str, path: &str, key: &str) -> (u16, Value) {
    let mut req = agent().get(format!("{url}{path}"));
    for (k, v) in sign(url, "GET", path, b"", key) {
        req = req.header(k, v);
    }
    let mut r = req.call().unwrap_or_else(|e| panic!("GET {url}{path}: no answer: {e}"));
    (r.status().as_u16(), body(&mut r))
}

/// POST signed with the key file `key`.
pub fn post_as(url: &str, path: &str, body: &[u8], key: &str) -> (u16, Value) {
    let mut req = agent().post(format!("{url}{path}")).content_type("application/json");
    for (k, v) in sign(url, "POST", path, body, key) {
        req = req.header(k, v);
    }
    let mut r = req.send(body).unwrap();
    (r.status().as_u16(), self::body(&mut r))
}

pub fn post(url: &str, path: &str, body: &[u8]) -> (u16, Value) {
    let mut r = agent().post(format!("{url}{path}")).content_type("application/json").send(body).unwrap();
    (r.status().as_u16(), self::body(&mut r))
}

pub fn credex(args: &[&str]) -> Output {
    Command::new(binary()).args(args).output().unwrap()
}

/// A refused command: a failure exit and the error code on stderr.
pub fn refused(o: &Output, code: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "expected a refusal with {code}, got success: {}", String::from_utf8_lossy(&o.stdout));
    assert!(err.contains(code), "expected {code} in: {err}");
}

pub fn json_out(o: &Output) -> Value {
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `credex --auth KEY proof attestation ID --disclose reason-code --out FILE`
/// (the issuer discloses its own field): the proof's text.
pub fn attestation_proof_text(url: &str, key: &str, id: &credex_types::AttestationId, out: &Path) -> String {
    json_out(&credex(&[
        "--auth",
        key,
        "proof",
        "attestation",
        &id.to_string(),
        "--node",
        url,
        "--disclose",
        "reason-code",
        "--out",
        out.to_str().unwrap(),
    ]));
    std::fs::read_to_string(out).unwrap().trim().to_string()
}

pub fn verify(file: &Path, genesis: &str) -> (i32, String) {
    let o = credex(&["verify", file.to_str().unwrap(), "--genesis", genesis]);
    (o.status.code().unwrap(), String::from_utf8(o.stdout).unwrap())
}

/// Signs an attestation with the issuer key file `key` (fields `CODE=VALUE`,
/// each salted) and submits it to the node at `url` through the typed
/// client, waiting until it is anchored: the library path, for scenarios
/// that test something other than the command line. Returns the id and the
/// height that anchored it.
pub fn attest(url: &str, key: &str, subject: &str, kind: &str, fields: &[&str]) -> (credex_types::AttestationId, u64) {
    use credex_types::attestation::{Attestation, AttestationHeader, ClaimField};
    let (file, secret) = credex_api_types::KeyFile::read(Path::new(key)).unwrap();
    let client = Client::with_key(url, Path::new(key)).unwrap();
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).unwrap();
    let header = AttestationHeader::new(
        client.chain_id().unwrap(),
        file.agency,
        subject.parse().unwrap(),
        kind.parse().unwrap(),
        credex_types::Timestamp::system_now(),
        nonce,
    )
    .unwrap();
    let claims = fields
        .iter()
        .map(|f| {
            let (code, value) = f.split_once('=').expect("CODE=VALUE");
            ClaimField::salted(code.parse().unwrap(), value.to_string()).unwrap()
        })
        .collect();
    let att = Attestation::sign(header, claims, &secret).unwrap();
    let submitted: Submitted = client.post_as("/v1/attestations", &att).unwrap();
    assert_eq!(submitted.id, att.id());
    match client.wait(&submitted.id, Duration::from_secs(30)).unwrap() {
        Standing::Anchored { height } => (submitted.id, height),
        other => panic!("attestation {} not anchored: {other:?}", submitted.id),
    }
}
