#!/usr/bin/env bash
# Compares credex-merkle's map with jmt: scripts/jmt-compare/run.sh [N]
set -euo pipefail
cd "$(dirname "$0")"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/credex-jmt-compare}" cargo run --release -q -- "${1:-100000}"
