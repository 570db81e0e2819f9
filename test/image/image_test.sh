#!/usr/bin/env bash
# Builds the real Dockerfile without a container engine and runs the image:
#
# - mmdebstrap makes the Debian 12 bases (debian:12 and debian:12-slim) from
#   Debian's mirror, tagged as the Dockerfile names them;
# - buildah (vfs storage, chroot isolation) builds the Dockerfile;
# - crun runs the image as the image itself says (entrypoint, user, env), on
#   a read-only root: `globalsvc version`, and a probe of the user and root.
#
# Prints the image's size beside its base's. The bases are kept in
# IMAGE_TEST_DIR (default <BUILD_DIR>/image-test) and reused; the image and
# its containers are removed at the end. Needs root (or user namespaces).
# Prints `N passed, M failed` last and exits non-zero on a failure.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../support/harness.sh
source "$REPO_ROOT/test/support/harness.sh"
CHECK_OUTPUT_LINES=60

WORK=${IMAGE_TEST_DIR:-$REPO_ROOT/${BUILD_DIR:-build}/image-test}
IMAGE=localhost/globalsvc:image-test
SUITE=bookworm
MIRRORS=(
  "deb http://deb.debian.org/debian $SUITE main"
  "deb http://deb.debian.org/debian $SUITE-updates main"
  "deb http://deb.debian.org/debian-security $SUITE-security main"
)
# What debian:12-slim leaves out, kept out of later installs too.
SLIM_EXCLUDES=(
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias'
)
COMMIT=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
CONTAINERS=()

bh() {
  buildah --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs "$@"
}

cleanup() {
  local c
  for c in "${CONTAINERS[@]}"; do bh rm "$c" >/dev/null 2>&1 || true; done
  bh rmi -f "$IMAGE" >/dev/null 2>&1 || true
  rm -rf "$WORK/bundle"
}
trap cleanup EXIT

# base TAG [MMDEBSTRAP-OPTION...] : a Debian base image under TAG, made again
# only when its recipe changes. Merged /usr as Debian's own images have it,
# without the usrmerge package (and the Perl it pulls in).
base() {
  local tag=$1 name tar c recipe; shift
  name=${tag##*/}
  name=${name/:/-}
  tar=$WORK/$name.tar
  recipe="$SUITE $* ${MIRRORS[*]}"
  if bh inspect --type image "$tag" >/dev/null 2>&1 &&
    [[ $(cat "$WORK/$name.recipe" 2>/dev/null) == "$recipe" ]]; then
    return 0
  fi
  mmdebstrap --variant=minbase --format=tar --quiet \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr "$@" "$SUITE" "$tar" "${MIRRORS[@]}"
  c=$(bh from scratch)
  bh add --quiet "$c" "$tar" /
  bh config --cmd /bin/bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$c"
  bh commit --quiet --rm "$c" "$tag" >/dev/null
  rm -f "$tar"
  echo "$recipe" >"$WORK/$name.recipe"
}

test_bases() {
  base docker.io/library/debian:12
  base docker.io/library/debian:12-slim "${SLIM_EXCLUDES[@]}"
  bh inspect --type image docker.io/library/debian:12-slim >/dev/null
}

# buildah's chroot isolation copies itself into a sealed memfd for each RUN
# step. On some hosts sealing fails now and then with EBUSY ("sealing memfd
# copy: Device or resource busy"): a fault of the host, not of the
# Dockerfile, so such a build is tried once more.
test_build() {
  local log="$WORK/build.log" attempt
  for attempt in 1 2; do
    if bh bud --isolation chroot --pull-never --layers=false --quiet \
      --build-arg GLOBALSVC_COMMIT="$COMMIT" -t "$IMAGE" -f "$REPO_ROOT/Dockerfile" "$REPO_ROOT" \
      >"$log" 2>&1; then
      return 0
    fi
    grep -q 'sealing memfd copy' "$log" || break
    echo "build $attempt: buildah could not seal its memfd copy (host fault); building again" >&2
  done
  cat "$log" >&2
  return 1
}

# config : the image's OCI config (user, entrypoint, cmd, env, ports) as JSON.
config() {
  bh inspect --type image "$IMAGE" |
    python3 -c 'import json, sys; json.dump(json.load(sys.stdin)["OCIv1"]["config"], sys.stdout)'
}

test_config() {
  config | python3 -c '
import json, sys
c = json.load(sys.stdin)
assert c.get("User") == "65532:65532", c.get("User")
assert c.get("Entrypoint") == ["/usr/local/bin/globalsvc"], c.get("Entrypoint")
assert "9090/tcp" in (c.get("ExposedPorts") or {}), c.get("ExposedPorts")'
}

# bundle [ARG...] : an OCI bundle of the image, with the image's own user,
# environment and working folder, a read-only root, no new privileges and
# no capabilities; ARGs replace the Cmd (or, after --entrypoint X, all).
bundle() {
  local c rootfs
  c=$(bh from --pull-never --quiet "$IMAGE")
  CONTAINERS+=("$c")
  rootfs=$(bh mount "$c")
  rm -rf "$WORK/bundle"
  mkdir -p "$WORK/bundle"
  (cd "$WORK/bundle" && crun spec)
  config >"$WORK/image-config.json"
  python3 - "$WORK/bundle/config.json" "$rootfs" "$WORK/image-config.json" "$@" <<'PY'
import json, sys
path, rootfs, image_config, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
image = json.load(open(image_config))
spec = json.load(open(path))
if args[:1] == ["--entrypoint"]:
    argv = args[1:]
else:
    argv = (image.get("Entrypoint") or []) + (args or image.get("Cmd") or [])
uid, _, gid = image.get("User", "0").partition(":")
p = spec["process"]
p.update(args=argv, terminal=False, cwd=image.get("WorkingDir") or "/",
         env=image.get("Env") or [], noNewPrivileges=True,
         user={"uid": int(uid), "gid": int(gid or uid)})
p["capabilities"] = {k: [] for k in ("bounding", "effective", "inheritable", "permitted", "ambient")}
spec["root"] = {"path": rootfs, "readonly": True}
# No cgroup of its own: a test run sets no limits.
spec["mounts"] = [m for m in spec["mounts"] if m["type"] != "cgroup"]
spec["linux"].pop("resources", None)
json.dump(spec, open(path, "w"))
PY
}

# run_bundle : runs the bundle; prints its output.
run_bundle() {
  local id=globalsvc-image-test-$$-$RANDOM
  local unified=/sys/fs/cgroup/unified
  if [[ -n $(cat "$unified/cgroup.controllers" 2>/dev/null) && $(stat -f -c %T /sys/fs/cgroup) == tmpfs ]]; then
    # crun refuses a host whose cgroup v2 hierarchy holds controllers beside
    # v1 ("hybrid"); without a cgroup of its own it needs neither, so v2 is
    # hidden from it in a mount namespace of its own.
    unshare --mount --propagation private sh -c \
      'mount -t tmpfs none "$1" && exec crun --cgroup-manager=disabled run --bundle "$2" "$3"' \
      sh "$unified" "$WORK/bundle" "$id"
  else
    crun --cgroup-manager=disabled run --bundle "$WORK/bundle" "$id"
  fi
}

test_version_runs() {
  local out
  bundle version
  out=$(run_bundle)
  echo "$out"
  grep -q "$COMMIT" <<<"$out"
}

test_non_root_read_only() {
  local out
  bundle --entrypoint /bin/sh -c 'id -u; id -g; touch /probe 2>&1 || true; touch /tmp/probe 2>&1 || true'
  out=$(run_bundle)
  echo "$out"
  [[ $(sed -n 1p <<<"$out") == 65532 && $(sed -n 2p <<<"$out") == 65532 ]]
  grep -q "cannot touch '/probe': Read-only file system" <<<"$out"
  grep -q "cannot touch '/tmp/probe': Read-only file system" <<<"$out"
}

test_no_build_tools() {
  local c rootfs
  c=$(bh from --pull-never --quiet "$IMAGE")
  CONTAINERS+=("$c")
  rootfs=$(bh mount "$c")
  [[ -x $rootfs/usr/local/bin/globalsvc ]]
  for tool in usr/bin/c++ usr/bin/cmake usr/bin/ninja usr/include/nlohmann; do
    if [[ -e $rootfs/$tool ]]; then echo "/$tool is in the runtime image"; return 1; fi
  done
}

size_mb() { # IMAGE : its files, unpacked
  local c
  c=$(bh from --pull-never --quiet "$1")
  CONTAINERS+=("$c")
  du -sm "$(bh mount "$c")" | awk '{print $1}'
}

report_size() {
  local image base
  image=$(size_mb "$IMAGE")
  base=$(size_mb docker.io/library/debian:12-slim)
  echo "figure: image size (unpacked) = ${image} MB, base debian:12-slim = ${base} MB," \
    "ratio = $(awk -v a="$image" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
}

main() {
  mkdir -p "$WORK"
  check "mmdebstrap makes debian:12 and debian:12-slim from Debian's mirror" test_bases
  check "buildah builds the Dockerfile (vfs storage, chroot isolation)" test_build
  if ! bh inspect --type image "$IMAGE" >/dev/null 2>&1; then
    summary || exit 1
  fi
  check "the image runs globalsvc as 65532:65532 and exposes 9090" test_config
  check "crun runs 'globalsvc version' from the image ($COMMIT)" test_version_runs
  check "in the image the process is 65532 and the root is read-only" test_non_root_read_only
  check "the runtime image holds the binary and no build tools" test_no_build_tools
  report_size
  summary
}

main "$@"
