# shellcheck shell=bash
# Building the test bed: the upstream binaries from the pinned Go modules
# (test/testbed/*/go.mod), their cache key, and the CRDs, kwok stages and
# istiod chart copied beside them. Sourced by scripts/testbed, never run.

go_bin() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  else
    die "Go is needed to build the test bed binaries (none on PATH or in /usr/local/go/bin)"
  fi
}

# The cache key covers everything that decides what gets built: the pinned
# versions, the wrapper modules (go.mod and go.sum) and the build recipe.
cache_key() {
  local f
  {
    echo "recipe=$BUILD_RECIPE"
    for f in versions.env kube/go.mod kube/go.sum etcd/go.mod etcd/go.sum \
             kwok/go.mod kwok/go.sum helm/go.mod helm/go.sum \
             istio/go.mod istio/go.sum; do
      echo "== $f"
      cat "$TESTBED_SRC/$f"
    done
  } | sha256sum | cut -c1-12
}


# The go.mod files are what really pins the modules; refuse to build when they
# drift from versions.env so the file stays the one source of truth.
check_versions() {
  local mod=$TESTBED_SRC
  grep -q "k8s.io/kubernetes $KUBERNETES_VERSION\b" "$mod/kube/go.mod" ||
    die "kube/go.mod does not require k8s.io/kubernetes $KUBERNETES_VERSION"
  if grep -E '^\s+k8s\.io/\S+ => k8s\.io/\S+ ' "$mod/kube/go.mod" |
      grep -v " $KUBERNETES_STAGING_VERSION\$" >&2; then
    die "kube/go.mod: the staging replaces above are not at $KUBERNETES_STAGING_VERSION"
  fi
  grep -q "go.etcd.io/etcd/server/v3 $ETCD_VERSION\b" "$mod/etcd/go.mod" ||
    die "etcd/go.mod does not require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  grep -q "sigs.k8s.io/kwok $KWOK_VERSION\b" "$mod/kwok/go.mod" ||
    die "kwok/go.mod does not require sigs.k8s.io/kwok $KWOK_VERSION"
  grep -q "helm.sh/helm/v3 $HELM_VERSION\b" "$mod/helm/go.mod" ||
    die "helm/go.mod does not require helm.sh/helm/v3 $HELM_VERSION"
  grep -q "istio.io/istio $ISTIO_VERSION\b" "$mod/istio/go.mod" ||
    die "istio/go.mod does not require istio.io/istio $ISTIO_VERSION"
}

# go_build MODULE_DIR PACKAGE... : builds the packages of one wrapper module
# into BIN_DIR with GO_LDFLAGS and the build tags in GO_TAGS (may be empty);
# -mod=readonly so a build never rewrites the pinned go.sum.
go_build() {
  local module=$1; shift
  local ldflags=$GO_LDFLAGS tags=${GO_TAGS:-} tmp
  tmp=$(mktemp -d "$CACHE_DIR/.build.XXXXXX")
  log "building $* (module $module; log: $CACHE_DIR/build.log)"
  if ! (cd "$TESTBED_SRC/$module" &&
    CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" "$GO" build -trimpath \
      -tags "$tags" -ldflags "$ldflags" -o "$tmp/" "$@") >>"$CACHE_DIR/build.log" 2>&1; then
    tail -n 40 "$CACHE_DIR/build.log" >&2
    die "building $* failed; full log: $CACHE_DIR/build.log"
  fi
  # Move in one step per binary, so an interrupted build never leaves a
  # half-written binary that a later run would take as cached.
  mv "$tmp"/* "$BIN_DIR/"
  rmdir "$tmp"
}

# The stamps Istio's own build sets (common/scripts/report_build_info.sh);
# without them `pilot-discovery version` and istiod's build-info metric say
# "unknown". Like upstream's `make build` from a source tree: the VERSION
# file plus -dev, the commit from the pseudo-version.
istio_version_ldflags() {
  local dir commit p=istio.io/istio/pkg/version
  dir=$(module_dir "istio.io/istio@$ISTIO_VERSION")
  [[ -f $dir/VERSION ]] || die "istio.io/istio@$ISTIO_VERSION has no VERSION file"
  commit=${ISTIO_VERSION##*-}
  printf '%s ' "-X $p.buildVersion=$(<"$dir/VERSION")-dev" "-X $p.buildGitRevision=$commit" \
    "-X $p.buildStatus=Clean" "-X $p.buildTag=$ISTIO_VERSION" "-X $p.buildHub=docker.io/istio" \
    "-X $p.buildOS=$("$GO" env GOOS)" "-X $p.buildArch=$("$GO" env GOARCH)"
}

module_dir() { # MODULE_PATH@VERSION -> folder of that module's source
  # Run outside every module, so the download never touches a go.sum.
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && GOFLAGS='' GOWORK=off "$GO" mod download -json "$1") |
    sed -n 's/^\s*"Dir": "\(.*\)",\?$/\1/p'
  rmdir "$tmp"
}

cmd_build() {
  check_versions
  if [[ -f $CACHE_DIR/complete ]]; then
    return 0
  fi
  GO=$(go_bin)
  mkdir -p "$BIN_DIR" "$ASSET_DIR"
  local start=$SECONDS minor
  minor=${KUBERNETES_VERSION#v1.}
  minor=${minor%%.*}
  # Without these stamps /version reports v0.0.0 and version checks (Helm's
  # kubeVersion, client/server skew) fail. kubectl reads client-go's copy.
  GO_LDFLAGS="-s -w"
  local p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    GO_LDFLAGS+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1"
    GO_LDFLAGS+=" -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    GO_LDFLAGS+=" -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  local kube_pkgs=()
  for p in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [[ -x $BIN_DIR/$p ]] || kube_pkgs+=("k8s.io/kubernetes/cmd/$p")
  done
  if ((${#kube_pkgs[@]})); then go_build kube "${kube_pkgs[@]}"; fi
  GO_LDFLAGS="-s -w"
  if [[ ! -x $BIN_DIR/etcd ]]; then
    go_build etcd go.etcd.io/etcd/server/v3
    # go names the binary after the module's last path element before /v3.
    mv "$BIN_DIR/server" "$BIN_DIR/etcd"
  fi
  [[ -x $BIN_DIR/kwok ]] ||
    GO_LDFLAGS="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
      go_build kwok sigs.k8s.io/kwok/cmd/kwok
  [[ -x $BIN_DIR/helm ]] ||
    GO_LDFLAGS="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
      go_build helm helm.sh/helm/v3/cmd/helm
  if [[ ! -x $BIN_DIR/pilot-discovery || ! -x $BIN_DIR/istioctl ]]; then
    # Upstream's build tags for these binaries (STANDARD_TAGS in Istio's
    # Makefile.core.mk): vtprotobuf marshalling, no protoc-gen-validate code.
    GO_TAGS=vtprotobuf,disable_pgv GO_LDFLAGS="-s -w $(istio_version_ldflags)" \
      go_build istio istio.io/istio/pilot/cmd/pilot-discovery istio.io/istio/istioctl/cmd/istioctl
  fi

  build_assets
  touch "$CACHE_DIR/complete"
  log "binaries ready in $BIN_DIR ($((SECONDS - start)) s)"
}

# CRDs and kwok's stage definitions come straight from the pinned modules'
# sources, copied into the cache so `up` needs no Go toolchain.
build_assets() {
  local dir
  dir=$(module_dir "istio.io/api@$ISTIO_API_VERSION")
  [[ -f $dir/kubernetes/customresourcedefinitions.gen.yaml ]] ||
    die "istio.io/api@$ISTIO_API_VERSION has no kubernetes/customresourcedefinitions.gen.yaml"
  cp "$dir/kubernetes/customresourcedefinitions.gen.yaml" "$ASSET_DIR/istio-crds.yaml"

  dir=$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")
  rm -rf "$ASSET_DIR/gateway-api-crds"
  mkdir -p "$ASSET_DIR/gateway-api-crds"
  local f
  for f in "$dir/config/crd/$GATEWAY_API_CHANNEL"/*.yaml; do
    [[ $(basename "$f") == kustomization.yaml ]] && continue
    cp "$f" "$ASSET_DIR/gateway-api-crds/"
  done
  chmod -R u+w "$ASSET_DIR"

  # kwok does nothing without stages: use its own "fast" set (nodes Ready at
  # once with lease heartbeats; pods Running with an IP as soon as bound).
  dir=$(module_dir "sigs.k8s.io/kwok@$KWOK_VERSION")
  # The file holds only Stage documents: kwok applies its option defaults
  # only when no KwokConfiguration document is given, and every option the
  # test bed sets is a flag.
  for f in node/fast/node-initialize.yaml \
           node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---"
    cat "$dir/kustomize/stage/$f"
  done >"$ASSET_DIR/kwok.yaml"

  # istiod's chart, as released with the binary: `up --istio` renders its
  # mesh config (ConfigMap istio) and its injection config (ConfigMap
  # istio-sidecar-injector: the sidecar, gateway and waypoint templates of
  # files/*.yaml plus the values they read) with helm, and hands them to
  # pilot-discovery as files, where a pod would have them mounted.
  dir=$(module_dir "istio.io/istio@$ISTIO_VERSION")
  [[ -f $dir/manifests/charts/istio-control/istio-discovery/files/waypoint.yaml ]] ||
    die "istio.io/istio@$ISTIO_VERSION has no istio-discovery chart with files/waypoint.yaml"
  rm -rf "$ASSET_DIR/istio-discovery"
  cp -r "$dir/manifests/charts/istio-control/istio-discovery" "$ASSET_DIR/istio-discovery"
  chmod -R u+w "$ASSET_DIR/istio-discovery"
}

require_built() {
  [[ -f $CACHE_DIR/complete ]] || cmd_build
}
