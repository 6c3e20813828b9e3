#!/usr/bin/env bash
# One set-up step for a fresh Debian machine, shared by the README's run
# command (scripts/dev.sh), its test command (scripts/test.sh) and CI
# (.ci/run). Idempotent: when everything is present it installs nothing
# and returns in well under a second.
#
#   scripts/setup.sh           what building and running the node needs
#   scripts/setup.sh --test    also what the test suite needs
#
# What it installs, and why:
#   libclang-dev        bindgen generates librocksdb-sys's bindings (RocksDB's
#                       C++ is compiled from source; Debian's librocksdb-dev is
#                       older than the rocksdb crate needs)
#   g++                 compiles RocksDB's C++
#   pkg-config, curl    build probes; readiness checks in the scripts
#   sccache             (optional) caches compiled crates, so later builds
#                       and CI are fast; the build works without it
#   wasm32 target       (rustup) the in-browser verifier (crates/verify-wasm)
#                       the node serves; without it the web UI verifies
#                       through the node and the offline page is missing
#   nodejs              (--test) runs the WebAssembly verifier on every vector
#   chromium            (--test) headless browser tests of the web UI
#   fonts-wqy-zenhei    (--test) a CJK font, so the Chinese pages render in
#                       the browser tests' screenshots
#   jq                  (--test) the README's examples pick ids out of the
#                       CLI's JSON with it; a test runs them as written
#   schemathesis (PyPI) (--test) checks the API against its OpenAPI document
#   cargo-fuzz (crates.io) (--test) runs the fuzz targets under libFuzzer
#
# Runs apt-get as root, or through sudo; where neither is possible it stops
# and says what to install by hand. Nothing required is ever skipped
# silently: a package that fails to install fails this script.
set -euo pipefail

test_deps=0
for arg in "$@"; do
  case "$arg" in
    --test) test_deps=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "setup: unknown argument '$arg' (expected --test)" >&2; exit 2 ;;
  esac
done

say() { echo "setup: $*" >&2; }

# Debian packages: name, then the reason printed when it is installed
need=()
reasons=()
want_pkg() { # package reason
  if ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; then
    need+=("$1"); reasons+=("$1: $2")
  fi
}
if command -v dpkg-query >/dev/null 2>&1; then
  want_pkg libclang-dev "bindgen for RocksDB's bindings"
  want_pkg g++ "compiles RocksDB's C++"
  want_pkg pkg-config "build-time library probes"
  want_pkg curl "readiness checks in the scripts"
  if ((test_deps)); then
    want_pkg chromium "headless browser tests of the web UI"
    want_pkg fonts-wqy-zenhei "CJK font for the Chinese pages in the browser tests"
    want_pkg jq "picks ids out of the CLI's JSON in the README's examples (run by a test)"
    command -v node >/dev/null 2>&1 || want_pkg nodejs "runs the WebAssembly verifier on every vector"
  fi
  optional=()
  command -v sccache >/dev/null 2>&1 || optional+=(sccache)
else
  # not Debian: check for the tools themselves and say what to install
  missing=()
  command -v clang >/dev/null 2>&1 || ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 \
    || missing+=("libclang (the libclang development package of your distribution)")
  command -v g++ >/dev/null 2>&1 || missing+=("a C++ compiler (g++)")
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if ((test_deps)); then
    command -v chromium >/dev/null 2>&1 || missing+=("chromium (for the browser tests)")
  fi
  if ((${#missing[@]})); then
    say "this is not a Debian machine (no dpkg); install by hand:"
    for m in "${missing[@]}"; do say "  - $m"; done
    exit 1
  fi
  need=(); optional=()
fi

if ((${#need[@]} + ${#optional[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo)
  else
    as_root=(none)
  fi
  if [ "${as_root[*]}" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    if ((${#need[@]})); then
      say "cannot install packages here (need root or password-less sudo, and apt-get)."
      say "install these by hand, then run this again:"
      for r in "${reasons[@]}"; do say "  - $r"; done
      say "  e.g. sudo apt-get install ${need[*]}"
      exit 1
    fi
    say "sccache is not installed (optional: it makes rebuilds fast)"
  else
    for r in "${reasons[@]}"; do say "installing $r"; done
    ((${#optional[@]})) && say "installing sccache (optional): caches compiled crates"
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    if ((${#need[@]})); then
      if ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
        say "error: apt-get could not install: ${need[*]}"
        exit 1
      fi
    fi
    if ((${#optional[@]})); then
      "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${optional[@]}" >/dev/null \
        || say "sccache could not be installed (optional; builds are slower without it)"
    fi
  fi
fi

# the in-browser verifier's target (rustup's standard library for wasm32)
wasm_target=wasm32-unknown-unknown
if ! rustc --print target-libdir --target "$wasm_target" 2>/dev/null | xargs -r ls 2>/dev/null | grep -q '^libcore-'; then
  if command -v rustup >/dev/null 2>&1; then
    say "installing the $wasm_target target (rustup): the in-browser verifier"
    if ! rustup target add "$wasm_target" >/dev/null; then
      say "error: rustup could not add $wasm_target; add it by hand: rustup target add $wasm_target"
      exit 1
    fi
  else
    say "error: no rustup to add the $wasm_target target (the in-browser verifier); install that target's standard library"
    exit 1
  fi
fi

if ((test_deps)); then
  if ! python3 -c 'import schemathesis' 2>/dev/null; then
    say "installing schemathesis (PyPI): checks the API against its OpenAPI document"
    if ! python3 -m pip install -q --disable-pip-version-check schemathesis; then
      say "error: pip could not install schemathesis; install it by hand: python3 -m pip install schemathesis"
      exit 1
    fi
    command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
  fi
  if ! command -v cargo-fuzz >/dev/null 2>&1; then
    say "installing cargo-fuzz (crates.io): runs the fuzz targets under libFuzzer"
    if ! cargo install --locked -q cargo-fuzz; then
      say "error: cargo could not install cargo-fuzz; install it by hand: cargo install cargo-fuzz"
      exit 1
    fi
  fi
fi
exit 0
