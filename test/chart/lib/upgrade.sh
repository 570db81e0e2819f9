# shellcheck shell=bash
# test/chart/chart_test.sh: test-bed checks of an installed release changing:
# upgrades (object shape, missing CRDs, replicas) and the uninstall that removes
# everything. Sourced, never run.

test_upgrade_to_workload_entries() {
  helm_ upgrade "$RELEASE" "$CHART" -n "$NS" --reuse-values --set objectShape=workload-entries \
    --wait=false >/dev/null
  local verb r
  can "$SA" list pods --all-namespaces
  can "$SA" watch pods --all-namespaces
  can "$READER_SA" list pods --all-namespaces
  for r in serviceentries.networking.istio.io workloadentries.networking.istio.io; do
    for verb in list watch create patch delete; do
      can "$SA" "$verb" "$r" -n default
    done
    cannot "$SA" update "$r" -n default
  done
  for verb in list watch create patch delete; do
    can "$SA" "$verb" gateways.gateway.networking.k8s.io -n "$NS"
    cannot "$SA" "$verb" gateways.gateway.networking.k8s.io -n default
  done
  cannot "$SA" get pods -n default
  cannot "$READER_SA" list workloadentries.networking.istio.io -n default
  # Back to inline: the rules go with it.
  helm_ upgrade "$RELEASE" "$CHART" -n "$NS" --reuse-values --set objectShape=inline \
    --wait=false >/dev/null
  cannot "$SA" list pods --all-namespaces
  cannot "$SA" patch workloadentries.networking.istio.io -n default
}

# An upgrade from 0.1 meets a cluster without the new group's CRDs (Helm
# leaves crds/ alone on upgrade): the NOTES say to apply them; with them, no
# such note.
test_upgrade_notes_new_api_group() {
  local out
  k delete crd remoteclusters.globalsvc.io >/dev/null
  out=$(helm_ upgrade "$RELEASE" "$CHART" -n "$NS" --reuse-values --wait=false 2>&1)
  k apply -f "$CHART/crds/" >/dev/null
  grep -q "UPGRADE: the status resources" <<<"$out" || { echo "$out"; return 1; }
  grep -q "kubectl apply -f <this chart>/crds/" <<<"$out" || { echo "$out"; return 1; }
  k wait --for=condition=Established crd/remoteclusters.globalsvc.io --timeout=60s >/dev/null
  out=$(helm_ upgrade "$RELEASE" "$CHART" -n "$NS" --reuse-values --wait=false 2>&1)
  if grep -q "UPGRADE:" <<<"$out"; then
    echo "the note shows although the CRDs are there:"
    echo "$out"
    return 1
  fi
}

test_upgrade_to_ha() {
  helm_ upgrade "$RELEASE" "$CHART" -n "$NS" --reuse-values --set replicas=2 \
    --wait=false >/dev/null
  k get -n "$NS" "poddisruptionbudget/$RELEASE" >/dev/null
  [[ $(k get -n "$NS" "deployment/$RELEASE" -o jsonpath='{.spec.replicas}') == 2 ]]
  grep -q kubernetes.io/hostname <<<"$(k get -n "$NS" "deployment/$RELEASE" \
    -o jsonpath='{.spec.template.spec.affinity.podAntiAffinity}')"
}

gone() { # ARGS of kubectl get: must find nothing
  local out
  out=$(k get "$@" --ignore-not-found -o name 2>&1)
  [[ -z $out ]] || { echo "still there: $out"; return 1; }
}

test_uninstall() {
  helm_ uninstall "$RELEASE" -n "$NS" --wait --timeout 60s >/dev/null
  gone -n "$NS" "serviceaccount/$SA" "deployment/$RELEASE" "service/$RELEASE-metrics" \
    "role/$RELEASE" "rolebinding/$RELEASE" "role/$RELEASE-reader" \
    "rolebinding/$RELEASE-reader" "serviceaccount/$READER_SA" "secret/$READER_SA-token" \
    "poddisruptionbudget/$RELEASE"
  gone "clusterrole/$RELEASE" "clusterrolebinding/$RELEASE" "clusterrole/$RELEASE-reader" \
    "clusterrolebinding/$RELEASE-reader"
  # The pods go with the Deployment.
  wait_for 30 gone -n "$NS" pods -l "app.kubernetes.io/instance=$RELEASE"
  ! helm_ status "$RELEASE" -n "$NS" >/dev/null 2>&1
}
