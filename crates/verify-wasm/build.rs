//! Builds this crate for `wasm32-unknown-unknown` (a nested `cargo rustc
//! --crate-type cdylib`, profile `wasm`, its own target directory next to
//! the outer one) and leaves the module at `$OUT_DIR/credex_verify.wasm`
//! for `WASM`. Inside that nested build (target wasm32) it does nothing.
//!
//! Without the wasm32 target installed (`rustup target add
//! wasm32-unknown-unknown`; `scripts/setup.sh` does it) the module is left
//! empty and cargo prints a warning: the node then verifies in the browser
//! through its API instead, and the test that checks the module fails.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a build script speaks on stdout

use std::path::{Path, PathBuf};
use std::process::{Command, exit};

const TARGET: &str = "wasm32-unknown-unknown";

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.starts_with("wasm32") {
        return; // the nested build itself
    }
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let dest = out_dir.join("credex_verify.wasm");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let workspace = manifest.join("../..");
    for dir in ["codec", "crypto", "types", "merkle", "proof", "verify", "api-types", "verify-wasm/src"] {
        println!("cargo:rerun-if-changed={}", workspace.join("crates").join(dir).display());
    }
    for file in ["Cargo.toml", "Cargo.lock", "crates/verify-wasm/Cargo.toml"] {
        println!("cargo:rerun-if-changed={}", workspace.join(file).display());
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if !target_installed(&rustc) {
        println!(
            "cargo:warning=the {TARGET} target is not installed (rustup target add {TARGET}): \
             the web UI will verify through the node, not in the browser"
        );
        write_or_exit(&dest, b"");
        return;
    }
    // the outer build's target directory: the nearest ancestor cargo tagged
    let outer = out_dir.ancestors().find(|d| d.join("CACHEDIR.TAG").is_file()).map(Path::to_path_buf);
    let target_dir = outer.unwrap_or_else(|| workspace.join("target")).join("wasm-verify");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or_default();
    let mut flags = vec![
        // the module has no randomness: verification draws none
        "--cfg".to_string(),
        "getrandom_backend=\"unsupported\"".to_string(),
        // no build machine's paths in a file the node serves
        format!("--remap-path-prefix={}=/credex", workspace.canonicalize().unwrap_or(workspace.clone()).display()),
    ];
    if !cargo_home.is_empty() {
        flags.push(format!("--remap-path-prefix={cargo_home}=/cargo"));
    }
    let output = Command::new(cargo)
        .current_dir(&workspace)
        .args(["rustc", "--quiet", "-p", "credex-verify-wasm", "--lib", "--crate-type", "cdylib"])
        .args(["--target", TARGET, "--profile", "wasm", "--target-dir"])
        .arg(&target_dir)
        // the outer build's settings are not the module's
        .env_remove("RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\u{1f}"))
        .output();
    match output {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            eprintln!("{}", String::from_utf8_lossy(&o.stderr));
            eprintln!("building the verifier for {TARGET} failed (above)");
            exit(1);
        }
        Err(e) => {
            eprintln!("cannot run cargo to build the verifier for {TARGET}: {e}");
            exit(1);
        }
    }
    let built = target_dir.join(TARGET).join("wasm").join("credex_verify_wasm.wasm");
    match std::fs::read(&built) {
        Ok(bytes) => write_or_exit(&dest, &bytes),
        Err(e) => {
            eprintln!("the nested build left no module at {}: {e}", built.display());
            exit(1);
        }
    }
}

/// Whether the standard library for wasm32 is there (rustup installs it).
fn target_installed(rustc: &str) -> bool {
    let Ok(o) = Command::new(rustc).args(["--print", "target-libdir", "--target", TARGET]).output() else {
        return false;
    };
    let dir = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
    o.status.success()
        && std::fs::read_dir(&dir)
            .map(|entries| entries.flatten().any(|e| e.file_name().to_string_lossy().starts_with("libcore-")))
            .unwrap_or(false)
}

fn write_or_exit(path: &Path, bytes: &[u8]) {
    // write only when changed, so a no-op build does not relink the node
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return;
    }
    if let Err(e) = std::fs::write(path, bytes) {
        eprintln!("cannot write {}: {e}", path.display());
        exit(1);
    }
}
