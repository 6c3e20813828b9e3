#!/usr/bin/env bash
# ARCHITECTURE.md's dependency block is what `cargo metadata` says: one line
# per workspace crate, `crate → the workspace crates it uses` (normal
# dependencies). Usage: scripts/check-architecture.sh [--print]
set -euo pipefail
cd "$(dirname "$0")/.."
expected=$(cargo metadata --locked --format-version 1 --no-deps | python3 -c '
import json, sys
d = json.load(sys.stdin)
names = {p["name"] for p in d["packages"]}
for p in sorted(d["packages"], key=lambda p: p["name"]):
    deps = sorted({x["name"] for x in p["dependencies"] if x["name"] in names and x.get("kind") is None})
    print(p["name"], "→", ", ".join(deps) if deps else "(none)")
')
if [ "${1:-}" = "--print" ]; then echo "$expected"; exit 0; fi
actual=$(sed -n '/<!-- deps:begin/,/<!-- deps:end -->/p' ARCHITECTURE.md | sed '1,2d;$d' | sed '$d')
if [ "$expected" != "$actual" ]; then
  echo "error: ARCHITECTURE.md's dependency block differs from cargo metadata:" >&2
  diff <(echo "$actual") <(echo "$expected") >&2 || true
  echo "(regenerate it with scripts/check-architecture.sh --print)" >&2
  exit 1
fi
echo "ok: ARCHITECTURE.md's dependency block matches cargo metadata"
