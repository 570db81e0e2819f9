# shellcheck shell=bash
# test/chart/chart_test.sh: the helpers its checks share: kubectl and helm on the
# test bed, rendering the chart offline, and assertions over a rendering, over
# the API server's view of objects, and over a command's failure. Sourced, never run.

k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"; }
helm_() { "$HELM" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# render FILE HELM-TEMPLATE-ARGS... : renders the chart offline into FILE.
# --kube-version: a helm built from source without release ldflags assumes an
# old Kubernetes for offline rendering, which the chart's kubeVersion refuses.
render() {
  local file=$1; shift
  "$HELM" template "$RELEASE" "$CHART" -n "$NS" --kube-version "$KUBERNETES_VERSION" \
    "$@" >"$file"
}

# kinds FILE : "Kind/name" of every object in a rendered file, one a line.
kinds() {
  python3 - "$1" <<'EOF'
import re, sys
docs = re.split(r'(?m)^---\s*$', open(sys.argv[1]).read())
for d in docs:
    kind = re.search(r'(?m)^kind:\s*(\S+)', d)
    name = re.search(r'(?m)^metadata:\n(?:\s+.*\n)*?\s{2}name:\s*(\S+)', d)
    if kind and name:
        print(f"{kind.group(1)}/{name.group(1)}")
EOF
}

# json_check JSON-FILE PYTHON-EXPR... : every expression over `objs` (the
# items of a kubectl -o json List, by "Kind/name" in `by`) must be true.
json_check() {
  local file=$1; shift
  python3 - "$file" "$@" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
objs = data["items"] if data.get("kind") == "List" else [data]
by = {f'{o["kind"]}/{o["metadata"]["name"]}': o for o in objs}
bad = [e for e in sys.argv[2:] if not eval(e, {"by": by, "objs": objs})]
for e in bad:
    print("false:", e)
sys.exit(1 if bad else 0)
EOF
}

# placed_check RENDERED-FILE PYTHON-EXPR... : every expression over `where`
# ("Kind/name" of each rendered object -> (its namespace or None, its text))
# must be true.
placed_check() {
  local file=$1; shift
  python3 - "$file" "$@" <<'EOF'
import re, sys
where = {}
for d in re.split(r'(?m)^---\s*$', open(sys.argv[1]).read()):
    kind = re.search(r'(?m)^kind:\s*(\S+)', d)
    name = re.search(r'(?m)^  name:\s*(\S+)', d)
    ns = re.search(r'(?m)^  namespace:\s*(\S+)', d)
    if kind and name:
        where[f"{kind.group(1)}/{name.group(1)}"] = (ns.group(1) if ns else None, d)
bad = [e for e in sys.argv[2:] if not eval(e, {"where": where})]
for e in bad:
    print("false:", e)
sys.exit(1 if bad else 0)
EOF
}

# expect_fail_with TEXT COMMAND... : COMMAND must fail and print TEXT.
expect_fail_with() {
  local text=$1 out; shift
  if out=$("$@" 2>&1); then
    echo "succeeded, expected a failure mentioning: $text"
    return 1
  fi
  grep -qF -- "$text" <<<"$out" || { echo "error does not mention '$text':"; echo "$out"; return 1; }
}
