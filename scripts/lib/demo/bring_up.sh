# scripts/demo: the setup before the guide: build, test bed, the chart in both
# clusters, one controller per cluster, the remote secrets both ways (until
# each controller has synced the other cluster). Sourced by scripts/demo.
# shellcheck shell=bash

build() {
  if [[ ${GLOBALSVC_DEMO_SKIP_SETUP:-0} != 1 ]]; then
    "$REPO_ROOT/scripts/setup"
    cmake -S "$REPO_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD_DIR" --target globalsvc xds_client --parallel "$(nproc)"
  fi
  [[ -x $GLOBALSVC ]] || die "$GLOBALSVC is missing (build it, or unset GLOBALSVC_DEMO_SKIP_SETUP)"
}

# The metric globalsvc_cluster_synced{cluster=REMOTE} of LOCAL's controller is 1.
remote_synced() { # LOCAL REMOTE
  local port metrics
  port=$(metrics_port "$1")
  metrics=$(curl -sf --max-time 2 "http://127.0.0.1:$port/metrics")
  grep -Eq "^globalsvc_cluster_synced\{[^}]*cluster=\"$2\"[^}]*\} 1(\.0)?$" <<<"$metrics"
}

bring_up() {
  build
  "$TESTBED" build
  local bin c
  bin=$("$TESTBED" bin)
  export PATH=$bin:$PATH
  command -v python3 >/dev/null || die "python3 is needed (scripts/setup installs it)"
  cmd_down >/dev/null 2>&1 || true
  "$TESTBED" up --istio >/dev/null
  # Both clusters in one KUBECONFIG, contexts named after the clusters, as the
  # guide's ${context1} and ${context2}.
  export KUBECONFIG=$DEMO_DIR/cluster1/kubeconfig:$DEMO_DIR/cluster2/kubeconfig

  step "Install: the Helm chart in each cluster"
  note "No container runtime here: replicas=0, and the controller runs as a local process"
  note "with the chart's ServiceAccount token (so its permissions are the chart's RBAC)."
  for c in "${CLUSTERS[@]}"; do
    say "\$ helm --kube-context=$c install $RELEASE ${CHART#"$REPO_ROOT"/} -n $NS --set clusterName=$c --set remoteReader.enabled=true --set replicas=0"
    helm --kube-context="$c" install "$RELEASE" "$CHART" -n "$NS" --set clusterName="$c" \
      --set remoteReader.enabled=true --set replicas=0 | grep -E '^(NAME|STATUS):' | sed 's/^/  /'
  done
  for c in "${CLUSTERS[@]}"; do
    start_controller "$c"
  done
  for c in "${CLUSTERS[@]}"; do
    wait_for "the controller of $c to be ready" ready "$c"
    say "controller for $c: pid $(<"$DEMO_DIR/$c/globalsvc.pid"), metrics http://127.0.0.1:$(metrics_port "$c")/metrics, log ${DEMO_DIR#"$REPO_ROOT"/}/$c/globalsvc.log"
  done

  step "Connect the clusters: globalsvc remote-secret, both ways"
  run_pipe "globalsvc remote-secret --context=cluster2 --name=cluster2 | kubectl --context=cluster1 apply -f -" \
    cluster2 cluster1
  run_pipe "globalsvc remote-secret --context=cluster1 --name=cluster1 | kubectl --context=cluster2 apply -f -" \
    cluster1 cluster2
  wait_for "cluster1's controller to sync cluster2" remote_synced cluster1 cluster2
  wait_for "cluster2's controller to sync cluster1" remote_synced cluster2 cluster1
  run kubectl --context=cluster1 get secrets -n "$SECRET_NS" -l globalsvc.solo.io/remote-cluster=true
  run kubectl --context=cluster2 get secrets -n "$SECRET_NS" -l globalsvc.solo.io/remote-cluster=true
  for c in "${CLUSTERS[@]}"; do
    say "$c: $(grep -o 'remote cluster connected.*' "$DEMO_DIR/$c/globalsvc.log" | tail -n 1)"
  done
}
