//! Regenerates `tests/vectors/` from fixed seeds: `cargo run -p credex-tests --bin gen-vectors`.

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors");
    std::fs::create_dir_all(&dir)?;
    for (name, content) in credex_tests::vectors::all() {
        std::fs::write(dir.join(name), content)?;
        eprintln!("wrote {}", dir.join(name).display());
    }
    Ok(())
}
