# shellcheck shell=bash
# Certificates and kubeconfigs of the test bed: openssl keys, CAs and
# certificates, and the kubeconfig files that carry them to each client.
# Sourced by scripts/testbed, never run.

# openssl helpers. P-256 keys: as secure as RSA-2048 here and ~100x faster to
# generate, which matters for a test bed started many times a day.
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

new_ca() { # DIR NAME CN
  new_key "$1/$2.key"
  openssl req -x509 -new -key "$1/$2.key" -subj "/CN=$3" -days 3650 -out "$1/$2.crt" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
}

new_cert() { # DIR NAME CA SUBJECT EXTENSIONS
  local dir=$1 name=$2 ca=$3 subject=$4 ext=$5
  new_key "$dir/$name.key"
  openssl req -new -key "$dir/$name.key" -subj "$subject" -out "$dir/$name.csr" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "$ext" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days 3650 -extfile "$dir/$name.ext" \
    -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
}

b64() { base64 -w0 <"$1"; }

write_kubeconfig() { # FILE CLUSTER SERVER CA_FILE CERT KEY USER [embed]
  local file=$1 cluster=$2 server=$3 ca=$4 cert=$5 key=$6 user=$7
  # The admin kubeconfig embeds its certificates so it stays usable when
  # copied; component kubeconfigs refer to files.
  if [[ ${8:-} == embed ]]; then
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $cluster
  cluster:
    server: $server
    certificate-authority-data: $(b64 "$ca")
users:
- name: $user
  user:
    client-certificate-data: $(b64 "$cert")
    client-key-data: $(b64 "$key")
contexts:
- name: $cluster
  context:
    cluster: $cluster
    user: $user
current-context: $cluster
EOF
  else
    cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $cluster
  cluster:
    server: $server
    certificate-authority: $ca
users:
- name: $user
  user:
    client-certificate: $cert
    client-key: $key
contexts:
- name: $cluster
  context:
    cluster: $cluster
    user: $user
current-context: $cluster
EOF
  fi
  chmod 600 "$file"
}
