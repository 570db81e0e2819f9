# shellcheck shell=bash
# test/testbed/testbed_test.sh: the API server's checks: Istio's CRD schema
# refuses an invalid ServiceEntry and takes a valid one, and RBAC answers 403 to
# an identity without permissions. Sourced, never run.

# apply_rejected CLUSTER YAML PATTERN... : the API server refuses YAML and its
# message matches every PATTERN.
apply_rejected() {
  local cluster=$1 yaml=$2 out p; shift 2
  if out=$(k "$cluster" apply -f - <<<"$yaml" 2>&1); then
    echo "accepted, want rejected: $out"
    k "$cluster" delete -f - --ignore-not-found <<<"$yaml"
    return 1
  fi
  echo "$out"
  for p in "$@"; do
    grep -q -- "$p" <<<"$out" || { echo "message lacks '$p'"; return 1; }
  done
}

serviceentry() { # RESOLUTION PORT
  cat <<EOF
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: testbed-invalid
  namespace: istio-system
spec:
  hosts: [invalid.testbed.mesh.internal]
  location: MESH_INTERNAL
  resolution: $1
  ports:
  - name: http
    number: $2
    protocol: HTTP
EOF
}

test_invalid_serviceentry_rejected() {
  # Two separate objects: the API server skips CEL rules (the port range is
  # one) once the plain OpenAPI checks (the resolution enum) have failed.
  apply_rejected cluster1 "$(serviceentry BOGUS 8000)" 'spec.resolution: Unsupported value: "BOGUS"' &&
    apply_rejected cluster1 "$(serviceentry STATIC 0)" 'spec.ports\[0\].number' 'port must be between 1-65535'
}

test_valid_serviceentry_accepted() {
  k cluster1 apply -f - <<'EOF'
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: testbed-valid
  namespace: istio-system
spec:
  hosts: [valid.testbed.mesh.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - name: http
    number: 8000
    protocol: HTTP
  endpoints:
  - address: 10.244.0.10
    locality: us-east-1/us-east-1a
    network: cluster1-network
EOF
  k cluster1 -n istio-system get serviceentry testbed-valid
  k cluster1 -n istio-system delete serviceentry testbed-valid
}

http_code() { # CLUSTER CURL-ARGS... -> HTTP status of GET pods in default
  local port
  port=$(cluster_var "$1" APISERVER_PORT); local c=$1; shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
    --cacert "$GLOBALSVC_TESTBED_DIR/$c/pki/serving-ca.crt" "$@" \
    "https://127.0.0.1:$port/api/v1/namespaces/default/pods"
}

test_service_account_without_rbac_gets_403() {
  k cluster1 -n default create serviceaccount testbed-nobody --dry-run=client -o yaml | k cluster1 apply -f -
  local token code
  token=$(k cluster1 -n default create token testbed-nobody --duration 10m)
  code=$(http_code cluster1 -H "Authorization: Bearer $token")
  k cluster1 -n default delete serviceaccount testbed-nobody
  [[ $code == 403 ]] || { echo "HTTP $code, want 403"; return 1; }
}

test_client_cert_without_rbac_gets_403() {
  local pki=$GLOBALSVC_TESTBED_DIR/cluster1/pki code
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/alice.key" 2>/dev/null
  openssl req -new -key "$WORK/alice.key" -subj "/CN=alice/O=testers" -out "$WORK/alice.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$WORK/alice.ext"
  openssl x509 -req -in "$WORK/alice.csr" -CA "$pki/client-ca.crt" -CAkey "$pki/client-ca.key" \
    -set_serial 7 -days 1 -extfile "$WORK/alice.ext" -out "$WORK/alice.crt" 2>/dev/null
  code=$(http_code cluster1 --cert "$WORK/alice.crt" --key "$WORK/alice.key")
  [[ $code == 403 ]] || { echo "HTTP $code, want 403"; return 1; }
  # And the admin identity is allowed, so the 403 is RBAC's and not a broken setup.
  code=$(http_code cluster1 --cert "$pki/admin.crt" --key "$pki/admin.key")
  [[ $code == 200 ]] || { echo "admin got HTTP $code"; return 1; }
}
