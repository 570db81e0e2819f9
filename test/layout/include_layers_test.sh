#!/usr/bin/env bash
# The include graph points down only (ARCHITECTURE.md, "Rooms"):
#   cli -> {controller, lib/failover} -> {lib/kube, lib/mesh, lib/observability} -> lib/base
# Each folder lists the folders its sources may include; anything else fails.
set -euo pipefail
root=${1:?usage: include_layers_test.sh SOURCE_DIR}
cd "$root"

declare -A allowed=(
  [lib/base]="lib/base"
  [lib/kube]="lib/kube lib/base"
  [lib/mesh]="lib/mesh lib/base"
  [lib/observability]="lib/observability lib/base"
  [lib/failover]="lib/failover lib/mesh lib/base"
  [controller]="controller lib/kube lib/mesh lib/observability lib/base"
  [cli]="cli controller lib/failover lib/kube lib/mesh lib/observability lib/base"
)

failures=0
for folder in "${!allowed[@]}"; do
  while IFS= read -r line; do
    file=${line%%:*}
    target=${line#*\"}
    target=${target%\"*}
    ok=0
    for prefix in ${allowed[$folder]}; do
      [[ "$target" == "$prefix/"* ]] && ok=1
    done
    if ((!ok)); then
      echo "FAIL $file includes $target (a $folder file may include: ${allowed[$folder]})"
      failures=$((failures + 1))
    fi
  done < <(grep -HE '^#include "' "$folder"/*.h "$folder"/*.cc 2>/dev/null || true)
done

# The first line of a file is not enough to prove the scan ran: count files.
scanned=$(ls lib/*/*.h lib/*/*.cc controller/*.h controller/*.cc cli/*.h cli/*.cc | wc -l)
echo "scanned $scanned files, $failures include(s) against the layers"
((scanned > 50)) || { echo "FAIL too few files scanned: wrong source dir?"; exit 1; }
((failures == 0))
