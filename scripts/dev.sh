#!/usr/bin/env bash
# The README's run command: set-up (scripts/setup.sh), a release build, then
# `credex dev` with this script's arguments passed through, e.g.
#   scripts/dev.sh                       data in ./.credex/dev, API on 127.0.0.1:8080
#   scripts/dev.sh --http 127.0.0.1:9000 --data /tmp/dev
# Once the node answers it prints the web UI's URL, where the development
# keys and genesis are, and a command to try. Ctrl-C stops the node.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh
credex_first_build_notice release
cargo build --release --locked -p credex
bin="$(credex_target_dir)/release/credex"

# where the node will listen and keep its data (the defaults of `credex dev`)
http=127.0.0.1:8080
data=./.credex/dev
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --http) http=${args[i + 1]:-$http} ;;
    --http=*) http=${args[i]#--http=} ;;
    --data) data=${args[i + 1]:-$data} ;;
    --data=*) data=${args[i]#--data=} ;;
    -h|--help) exec "$bin" dev --help ;;
  esac
done

"$bin" dev "$@" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' INT TERM
up=0
for _ in $(seq 600); do
  if curl -sf "http://$http/healthz" >/dev/null 2>&1; then up=1; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
if ((up)); then
  cat >&2 <<MSG

  credex dev is running (pid $pid; Ctrl-C stops it, the chain resumes at the next start)
    web UI:    http://$http/
    API:       http://$http/v1/status
    genesis:   $data/genesis.toml
    dev keys:  $data/keys/   (INSECURE development keys: never use them on a real network)
  try:
    $bin attest --node http://$http --key $data/keys/cn-sfh-amr.json \\
      --subject 91350100M000100Y43 --kind abnormal-operation-listing --field reason-code=annual-report --wait
    $bin proof status --node http://$http --subject 91350100M000100Y43 --list abnormal-operation --out p.txt
    $bin verify --genesis $data/genesis.toml p.txt

MSG
fi
set +e
wait $pid
rc=$?
# a second wait after a trapped signal returns the node's own exit status
if ((rc > 128)) && kill -0 $pid 2>/dev/null; then wait $pid; rc=$?; fi
exit $rc
