#!/usr/bin/env bash
# The project's checks, in the order CI runs them: crate purpose lines, format, lints, the
# verifier-side dependency rule, then every test (unit, property, vectors,
# CLI, doc tests). Usage: scripts/check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== crate purpose lines"
scripts/check-descriptions.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== verifier crates must not depend on tokio, libp2p or rocksdb"
for crate in credex-codec credex-crypto credex-merkle credex-types credex-proof credex-rules; do
  if cargo tree --locked -p "$crate" -e normal,build --prefix none | grep -Ei '^(tokio|libp2p|rocksdb|librocksdb)[ -]'; then
    echo "error: $crate depends on a forbidden crate (above)" >&2
    exit 1
  fi
done
echo "ok: no tokio, libp2p or rocksdb under the verifier crates"

echo "== cargo test"
cargo test --workspace --locked

echo "== OpenAPI conformance (schemathesis against a dev node)"
scripts/openapi-check.sh
