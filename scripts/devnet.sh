#!/usr/bin/env bash
# The 4-validator + 1-observer devnet on 127.0.0.1, from genesis/devnet.toml.
#   scripts/devnet.sh up       start (data and logs under .credex/devnet/)
#   scripts/devnet.sh status   height, peers and role of every node
#   scripts/devnet.sh down     stop cleanly (SIGTERM)
#   scripts/devnet.sh reset    stop and delete the devnet's data
#   scripts/devnet.sh rotate-out N   remove validator N by governance (approved by
#                              the other three), then stop its node; the rest go on
# HTTP: validators 127.0.0.1:18650-18653, observer 127.0.0.1:18654.
# API clients: genesis/devnet-keys/clients-<node>.toml (an official of
# Suifenhe customs on validator-2, of Vladivostok customs on the observer).
# CREDEX=path/to/credex overrides the binary (default target/release/credex).
set -euo pipefail
cd "$(dirname "$0")/.."
C=${CREDEX:-target/release/credex}
G=genesis/devnet.toml
K=genesis/devnet-keys
D=.credex/devnet

addr() { # p2p multiaddr of validator i, from the genesis
  local id
  id=$(awk -v n="$1" '/^\[\[validators\]\]/{c++} c==n+1 && /^peer_id/{gsub(/"/,"",$3); print $3; exit}' "$G")
  echo "/ip4/127.0.0.1/tcp/$((27650 + $1))/p2p/$id"
}

start() { # name p2p-port http-port p2p-key [validator-key]
  local name=$1 port=$2 http=$3 key=$4 vkey=${5:-}
  local peers=()
  for j in 0 1 2 3; do [ "$port" = "$((27650 + j))" ] || peers+=(--peer "$(addr "$j")"); done
  local args=(node --genesis "$G" --data "$D/$name" --http "127.0.0.1:$http" --p2p-key "$key"
              --listen "/ip4/127.0.0.1/tcp/$port" "${peers[@]}")
  [ -n "$vkey" ] && args+=(--validator-key "$vkey")
  [ -e "$K/clients-$name.toml" ] && args+=(--clients "$K/clients-$name.toml")
  "$C" "${args[@]}" >> "$D/$name.log" 2>&1 &
  echo $! > "$D/$name.pid"
  echo "started $name (pid $!, http 127.0.0.1:$http)"
}

case "${1:-}" in
  up)
    [ -x "$C" ] || cargo build --release -p credex
    mkdir -p "$D"
    for i in 0 1 2 3; do start "validator-$i" $((27650 + i)) $((18650 + i)) "$K/p2p-$i.json" "$K/validator-$i.json"; done
    start observer 27654 18654 "$K/p2p-observer.json"
    ;;
  status)
    for p in 18650 18651 18652 18653 18654; do
      printf '127.0.0.1:%s ' "$p"; curl -s "127.0.0.1:$p/v1/status" || printf 'down'; echo
    done
    ;;
  down)
    for f in "$D"/*.pid; do
      [ -e "$f" ] || continue
      kill -TERM "$(cat "$f")" 2>/dev/null || true
    done
    for f in "$D"/*.pid; do
      [ -e "$f" ] || continue
      while kill -0 "$(cat "$f")" 2>/dev/null; do sleep 0.1; done
      rm -f "$f"
    done
    echo "devnet stopped"
    ;;
  reset)
    "$0" down
    rm -rf "$D"
    ;;
  rotate-out)
    n=${2:?usage: scripts/devnet.sh rotate-out N (0-3)}
    url="http://127.0.0.1:$((18650 + (n + 1) % 4))"
    agency=$(sed -n 's/.*"agency": *"\([^"]*\)".*/\1/p' "$K/validator-$n.json" | head -1)
    prop="$D/remove-validator-$n.json"
    "$C" gov propose --node "$url" --out "$prop" remove-validator --agency "$agency"
    for j in 0 1 2 3; do
      [ "$j" = "$n" ] && continue
      "$C" gov approve "$prop" --key "$K/validator-$j.json" --genesis "$G" --node "$url"
    done
    "$C" --auth "$K/cn-sfh-amr.json" gov submit "$prop" --node "$url" --wait
    curl -s "$url/v1/validators"; echo
    if [ -e "$D/validator-$n.pid" ]; then
      kill -TERM "$(cat "$D/validator-$n.pid")" 2>/dev/null || true
      rm -f "$D/validator-$n.pid"
    fi
    echo "validator-$n ($agency) removed from the set and stopped; proofs made from now on carry the set change"
    ;;
  *)
    sed -n '2,11p' "$0"; exit 2 ;;
esac
