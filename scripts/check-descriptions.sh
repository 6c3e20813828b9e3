#!/usr/bin/env bash
# Each crate states one purpose, once: its `//!` first line, its Cargo
# description and its line in ARCHITECTURE.md and README.md are the same sentence.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for manifest in crates/*/Cargo.toml node/Cargo.toml tests/Cargo.toml; do
  dir=$(dirname "$manifest")
  desc=$(sed -n 's/^description = "\(.*\)"$/\1/p' "$manifest")
  lib="$dir/src/lib.rs"; [ -f "$lib" ] || lib="$dir/src/main.rs"
  first=$(sed -n '1s/^\/\/! //p' "$lib")
  if [ "$desc" != "$first" ]; then
    echo "error: $manifest description differs from the first //! line of $lib" >&2; status=1
  fi
  for doc in ARCHITECTURE.md README.md; do
    if ! grep -qF -- "$desc" "$doc"; then
      echo "error: $doc lacks the purpose line of $dir: $desc" >&2; status=1
    fi
  done
done
[ $status -eq 0 ] && echo "ok: every crate's purpose line matches its Cargo description, ARCHITECTURE.md and README.md"
exit $status
