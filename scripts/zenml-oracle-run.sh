#!/usr/bin/env bash
# Computes the expected outputs of Dockwright's own oracle cases (test/zenml-oracle/cases/d*) by
# running ZenML's generation code of every release the oracle holds:
#
#   scripts/zenml-oracle-run.sh ORACLE_DIR [CASE...]     (default: every d* case)
#
# Writes test/zenml-oracle/expected/CASE/RELEASE.json. ZenML rejecting a case is an expected
# output too (its JSON holds the error). Takes about 1.5 s per case and release.
set -euo pipefail
oracle=$(cd "${1:?usage: zenml-oracle-run.sh ORACLE_DIR [CASE...]}" && pwd)
shift
here=$(cd "$(dirname "$0")/.." && pwd)
cases="$here/test/zenml-oracle/cases"
if [ $# -eq 0 ]; then
  for dir in "$cases"/d*/; do set -- "$@" "$(basename "$dir")"; done
fi
for name in "$@"; do
  case_dir="$cases/$name"
  out="$here/test/zenml-oracle/expected/$name"
  mkdir -p "$out" "$case_dir/root/.zen"
  options=()
  [ -f "$case_dir/options.json" ] && options=(--options "$case_dir/options.json")
  for tree in $(cd "$oracle/trees" && ls); do
    # Exit code 2 is ZenML rejecting the configuration, which the JSON records.
    status=0
    python3 "$oracle/zenml-oracle.py" --zenml "$tree" "${options[@]}" "$case_dir/run.yaml" "$case_dir/root" >"$out/$tree.json" 2>/dev/null || status=$?
    if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then echo "zenml-oracle-run: $name $tree failed ($status)" >&2; exit 1; fi
  done
  echo "$name: $(find "$out" -name '*.json' | wc -l) releases"
done
