#!/usr/bin/env bash
# The project's checks, in the order CI runs them: crate purpose lines, format, lints, the
# verifier-side dependency rule, then every test (unit, property, vectors,
# CLI, doc tests), the consensus simulation's seed sweep, OpenAPI conformance.
# Usage: scripts/check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== crate purpose lines"
scripts/check-descriptions.sh

echo "== ARCHITECTURE.md's dependency graph"
scripts/check-architecture.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== verifier crates must not depend on tokio, libp2p or rocksdb"
for crate in credex-codec credex-crypto credex-merkle credex-types credex-proof credex-rules credex-verify credex-verify-wasm; do
  if cargo tree --locked -p "$crate" -e normal,build --prefix none | grep -Ei '^(tokio|libp2p|rocksdb|librocksdb)[ -]'; then
    echo "error: $crate depends on a forbidden crate (above)" >&2
    exit 1
  fi
done
echo "ok: no tokio, libp2p or rocksdb under the verifier crates"

echo "== the layout's dependency rules"
# Only the node library and storage use RocksDB directly; the API never
# touches storage; the CLI and the shared API types run without RocksDB or libp2p.
members=$(cargo metadata --locked --format-version 1 --no-deps | python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["packages"]))')
for crate in $members; do
  case $crate in credex-node|credex-storage) continue ;; esac
  if cargo tree --locked -p "$crate" -e normal --depth 1 --prefix none | grep -E '^rocksdb '; then
    echo "error: $crate depends on rocksdb directly (only credex-node and credex-storage may)" >&2; exit 1
  fi
done
if cargo tree --locked -p credex-api -e normal --depth 1 --prefix none | grep -E '^credex-storage '; then
  echo "error: credex-api depends on credex-storage (it reads the node through credex-node's queries)" >&2; exit 1
fi
for crate in credex-cli credex-api-types; do
  if cargo tree --locked -p "$crate" -e normal,build --prefix none | grep -Ei '^(rocksdb|librocksdb-sys|libp2p)[ -]'; then
    echo "error: $crate depends on rocksdb or libp2p (above)" >&2; exit 1
  fi
done
echo "ok: rocksdb only under credex-node and credex-storage; the API without storage; the CLI without rocksdb or libp2p"

echo "== cargo doc (warnings denied)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

echo "== cargo test"
cargo test --workspace --locked

echo "== consensus simulation (deterministic; a failing seed is printed with its replay command)"
cargo run --release --locked --quiet -p credex-sim -- --seeds "${CREDEX_SIM_SEEDS:-200}"

echo "== fuzz targets under libFuzzer (${CREDEX_FUZZ_SECONDS:-5} s each; the stable replay of the corpus ran in cargo test)"
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain take them.
fuzz_targets=$(sed -n 's/^name = "\([a-z0-9_]*\)"$/\1/p' tests/fuzz/Cargo.toml | grep -v credex-fuzz-harness)
if [ "$(echo "$fuzz_targets" | wc -w)" != "$(ls tests/fuzz/fuzz_targets/*.rs | wc -l)" ]; then
  echo "error: tests/fuzz/Cargo.toml and tests/fuzz/fuzz_targets/ list different targets" >&2; exit 1
fi
fuzz_tmp=$(mktemp -d)
for target in $fuzz_targets; do
  mkdir -p "$fuzz_tmp/$target"
  # new inputs go to the temporary corpus (first), the committed one is read
  if ! RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir tests/fuzz -O "$target" "$fuzz_tmp/$target" "tests/fuzz/corpus/$target" -- \
      -max_total_time="${CREDEX_FUZZ_SECONDS:-5}" -rss_limit_mb=2048 > "$fuzz_tmp/$target.log" 2>&1; then
    tail -40 "$fuzz_tmp/$target.log" >&2
    echo "error: fuzz target $target failed (its input is in tests/fuzz/artifacts/$target/)" >&2
    exit 1
  fi
  echo "$target: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$fuzz_tmp/$target.log" | tail -1)"
done
rm -rf "$fuzz_tmp"

echo "== OpenAPI conformance (schemathesis against a dev node)"
scripts/openapi-check.sh
