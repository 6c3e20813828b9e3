#!/usr/bin/env bash
# The README's test command, and what .ci/run calls: set-up for building and
# for the tests (scripts/setup.sh --test), then every check (scripts/check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
. scripts/env.sh
credex_first_build_notice debug
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
start=$(date +%s)
scripts/check.sh
echo "test: all checks passed in $(( $(date +%s) - start )) s"
