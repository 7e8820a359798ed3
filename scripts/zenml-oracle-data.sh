#!/usr/bin/env bash
# Refreshes the ZenML oracle's data the tests carry (test/zenml-oracle/) and the catalog the ZenML
# preset ships (plugins/zenml/src/catalog.json) from an oracle checkout:
#
#   scripts/zenml-oracle-data.sh ORACLE_DIR      (e.g. ../shared/oracle/zenml)
#
# The oracle's own cases (c01...) and their expected outputs are replaced; Dockwright's cases
# (d01...) stay: scripts/zenml-oracle-run.sh computes theirs. The tests never read ORACLE_DIR.
set -euo pipefail
oracle=${1:?usage: zenml-oracle-data.sh ORACLE_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/test/zenml-oracle"
mkdir -p "$dest/cases" "$dest/expected"
for dir in "$oracle"/cases/*/; do
  name=$(basename "$dir")
  rm -rf "${dest:?}/cases/$name" "${dest:?}/expected/$name"
  cp -r --no-preserve=mode "$oracle/cases/$name" "$dest/cases/"
  cp -r --no-preserve=mode "$oracle/expected/$name" "$dest/expected/"
done
rm -rf "$dest/data"
cp -r --no-preserve=mode "$oracle/data" "$dest/"
node "$here/plugins/zenml/scripts/catalog.mjs" --from "$dest/data"
echo "copied $(find "$oracle/expected" -name '*.json' | wc -l) expected outputs of $(ls "$oracle/cases" | wc -l) cases"
