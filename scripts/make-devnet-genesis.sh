#!/usr/bin/env bash
# Regenerates genesis/devnet.toml and its INSECURE development keys under
# genesis/devnet-keys/ (4 validators, 1 observer, 3 issuers). Fixed ports:
# validator i listens on p2p 27650+i, observer on 27654. Usage:
#   scripts/make-devnet-genesis.sh [path/to/credex]
set -euo pipefail
cd "$(dirname "$0")/.."
C=${1:-target/release/credex}
G=genesis/devnet.toml
K=genesis/devnet-keys
rm -rf "$K" "$G"
mkdir -p "$K"
$C genesis new --chain-id credex-devnet-1 --time 2026-11-30T00:00:00Z --out "$G" >/dev/null
validators=(
  "cn-sfh-ftz|CN|绥芬河自贸片区管委会|Администрация ЗСТ Суйфэньхэ|Suifenhe FTZ Administration"
  "cn-sfh-cbec|CN|绥芬河跨境电商综试区|Пилотная зона трансграничной электронной торговли Суйфэньхэ|Suifenhe CBEC Pilot Zone"
  "cn-sfh-customs|CN|绥芬河海关|Таможня Суйфэньхэ|Suifenhe Customs"
  "ru-primorye-cci|RU|滨海边疆区工商会|Торгово-промышленная палата Приморского края|Primorye Chamber of Commerce and Industry"
)
for i in 0 1 2 3; do
  IFS='|' read -r agency j zh ru en <<< "${validators[$i]}"
  $C keygen --dev-warning --agency "$agency" --role validator --out "$K/validator-$i.json" >/dev/null
  $C keygen --dev-warning --agency "$agency" --role p2p --out "$K/p2p-$i.json" >/dev/null
  $C genesis add-validator "$G" --key "$K/validator-$i.json" --p2p-key "$K/p2p-$i.json" --jurisdiction "$j" --names "$zh|$ru|$en"
done
$C keygen --dev-warning --agency ru-vladivostok-customs --role p2p --out "$K/p2p-observer.json" >/dev/null
$C genesis add-observer "$G" --p2p-key "$K/p2p-observer.json" --jurisdiction RU --names "海参崴海关|Владивостокская таможня|Vladivostok Customs"
$C keygen --dev-warning --agency cn-sfh-amr --role issuer --out "$K/cn-sfh-amr.json" >/dev/null
$C genesis add-issuer "$G" --key "$K/cn-sfh-amr.json" --jurisdiction CN --names "绥芬河市市场监督管理局|Управление по надзору за рынком г. Суйфэньхэ|Suifenhe Administration for Market Regulation" \
  --kinds administrative-licence,administrative-penalty,serious-administrative-penalty,abnormal-operation-listing,abnormal-operation-removal,serious-violation-listing,serious-violation-removal,credit-commitment,credit-commitment-fulfilled,credit-commitment-breached,credit-commitment-rejection,credit-repair-rejection,objection-rejection,revocation,erasure-tombstone,subject-key-binding
$C keygen --dev-warning --agency cn-sfh-customs --role issuer --out "$K/cn-sfh-customs.json" >/dev/null
$C genesis add-issuer "$G" --key "$K/cn-sfh-customs.json" --jurisdiction CN --names "绥芬河海关|Таможня Суйфэньхэ|Suifenhe Customs" \
  --kinds administrative-penalty,serious-administrative-penalty,credit-grade,red-list-entry,red-list-removal,black-list-entry,black-list-removal,credit-repair-rejection,objection-rejection,revocation,erasure-tombstone
$C keygen --dev-warning --agency cn-sfh-ftz --role issuer --out "$K/cn-sfh-ftz.json" >/dev/null
$C genesis add-issuer "$G" --key "$K/cn-sfh-ftz.json" --jurisdiction CN --names "绥芬河自贸片区管委会|Администрация ЗСТ Суйфэньхэ|Suifenhe FTZ Administration" \
  --kinds administrative-licence,credit-grade,credit-commitment,credit-commitment-fulfilled,credit-commitment-breached,credit-commitment-rejection,red-list-entry,red-list-removal,objection-rejection,revocation,erasure-tombstone,subject-key-binding
# API clients (spec §12.1): an official of Suifenhe customs on validator-2, of Vladivostok customs on the observer
$C keygen --dev-warning --role official --agency cn-sfh-customs --client sfh-customs-officer --out "$K/official-validator-2.json" >/dev/null
$C clients-add "$K/clients-validator-2.toml" --key "$K/official-validator-2.json" >/dev/null
$C keygen --dev-warning --role official --agency ru-vladivostok-customs --client vladivostok-officer --out "$K/official-observer.json" >/dev/null
$C clients-add "$K/clients-observer.toml" --key "$K/official-observer.json" >/dev/null
{ echo "# credex devnet: 4 validators + 1 observer on 127.0.0.1 (scripts/devnet.sh)."
  echo "# Its keys in genesis/devnet-keys/ are INSECURE DEVELOPMENT KEYS, published in the repository."
  echo; cat "$G"; } > "$G.tmp" && mv "$G.tmp" "$G"
$C genesis hash "$G"
