# shellcheck shell=bash
# test/demo/demo_test.sh: the helpers its checks share: kubectl, and reading a
# step's explain result (its groups, its ranking) and a step's section of the
# demo's output. Sourced, never run.

k() { kubectl "$@"; }

# groups STEP : the explain result of a step, one line per group:
#   <cluster>:<locality>[+behind <cluster>[:<locality>],...] ...
# from steps/STEP/explain.json (what the demo printed, as JSON). A gateway's
# pods are named by cluster only unless BEHIND_LOCALITY=1 (a single pod's
# zone is the scheduler's choice).
groups() {
  python3 - "$STEPS/$1/explain.json" "${BEHIND_LOCALITY:-0}" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for g in d["groups"]:
    items = []
    for e in g["endpoints"]:
        item = "%s:%s" % (e["cluster"], e["locality"])
        if e.get("behind"):
            item += "+behind " + ",".join(sorted(
                b["cluster"] + (":" + b["locality"] if sys.argv[2] == "1" else "")
                for b in e["behind"]))
        items.append(item)
    print(" ".join(sorted(items)))
EOF
}

# expect_groups STEP LINE... : the step's explain groups are exactly these.
expect_groups() {
  local step=$1 want got; shift
  want=$(printf '%s\n' "$@")
  got=$(groups "$step")
  [[ $got == "$want" ]] || { printf 'step %s\nwant:\n%s\ngot:\n%s\n' "$step" "$want" "$got"; return 1; }
}

ranking_has() { # STEP TEXT
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if sys.argv[2] in d["ranking"] else 1)' \
    "$STEPS/$1/explain.json" "$2" || { echo "ranking of $1 lacks '$2'"; return 1; }
}

# The text between a "======== Step N" header and the next header.
section() { awk -v s="======== $1" 'index($0, s) == 1 {on = 1; next} /^======== / {on = 0} on' "$OUT"; }
