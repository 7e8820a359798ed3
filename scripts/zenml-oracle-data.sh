#!/usr/bin/env bash
# Refreshes the ZenML oracle's data the tests carry (test/zenml-oracle/) and the catalog the ZenML
# preset ships (plugins/zenml/src/catalog.json) from an oracle checkout:
#
#   scripts/zenml-oracle-data.sh ORACLE_DIR      (e.g. ../shared/oracle/zenml)
#
# The tests never read ORACLE_DIR: they read the copies.
set -euo pipefail
oracle=${1:?usage: zenml-oracle-data.sh ORACLE_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
dest="$here/test/zenml-oracle"
rm -rf "$dest/cases" "$dest/expected" "$dest/data"
mkdir -p "$dest"
cp -r --no-preserve=mode "$oracle/cases" "$oracle/expected" "$oracle/data" "$dest/"
node "$here/plugins/zenml/scripts/catalog.mjs" --from "$dest/data"
echo "copied $(find "$dest/expected" -name '*.json' | wc -l) expected outputs of $(ls "$dest/cases" | wc -l) cases"
