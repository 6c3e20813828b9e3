# Sourced by scripts/dev.sh and scripts/test.sh (and so by .ci/run): the
# build tree is this clone's own `target/` (override with CARGO_TARGET_DIR;
# never share one between two clones: cargo names a workspace's crates by
# their path inside the workspace, so two clones would overwrite each
# other's builds without rebuilding), and sccache when it is installed
# (its cache, ~/.cache/sccache, is shared safely).
if [ -z "${RUSTC_WRAPPER:-}" ] && command -v sccache >/dev/null 2>&1; then
  export RUSTC_WRAPPER=sccache
  export SCCACHE_DIR="${SCCACHE_DIR:-$HOME/.cache/sccache}"
fi
credex_target_dir() { echo "${CARGO_TARGET_DIR:-target}"; }
# what a first build costs, said before it starts (measured: README, "Build")
credex_first_build_notice() { # profile-dir
  if [ ! -e "$(credex_target_dir)/$1/credex" ]; then
    echo "note: the first build compiles RocksDB's C++ and every crate: about 15-25 minutes on 2 cores" \
      "(later builds take seconds to a minute); build tree: $(credex_target_dir)" >&2
  fi
}
