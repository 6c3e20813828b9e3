# Sourced by scripts/dev.sh and scripts/test.sh (and so by .ci/run): one
# build tree per machine, shared by every clone, outside the work tree
# (override with CARGO_TARGET_DIR), and sccache when it is installed.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/credex-target}"
if [ -z "${RUSTC_WRAPPER:-}" ] && command -v sccache >/dev/null 2>&1; then
  export RUSTC_WRAPPER=sccache
  export SCCACHE_DIR="${SCCACHE_DIR:-$HOME/.cache/sccache}"
fi
# what a first build costs, said before it starts (measured: README, "Build")
credex_first_build_notice() { # profile-dir
  if [ ! -e "$CARGO_TARGET_DIR/$1/credex" ]; then
    echo "note: the first build compiles RocksDB's C++ and every crate: about 15-25 minutes on 2 cores" \
      "(later builds take seconds to a minute); build tree: $CARGO_TARGET_DIR" >&2
  fi
}
