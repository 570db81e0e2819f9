# Container image of the globalsvc controller.
#
#   docker build --build-arg GLOBALSVC_COMMIT=$(git rev-parse --short HEAD) -t globalsvc:0.2.0 .
#
# Two stages: a Debian 12 build with the build packages of scripts/setup,
# then a slim Debian 12 runtime with only the shared libraries the binary
# links, running as the non-root user 65532 that the Helm chart expects.
# test/image/image_test.sh builds this file without a daemon and runs it.

FROM debian:12 AS build
WORKDIR /src
# Take the build package list from scripts/setup, so the image and the
# developer machines build with the same libraries.
COPY scripts/setup scripts/setup
RUN set -eu; \
    packages=$(sed -n '/^build_packages=(/,/^)/{/^build_packages=(/d;/^)/d;s/#.*//;p}' scripts/setup); \
    test -n "$packages"; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages; \
    rm -rf /var/lib/apt/lists/*
COPY . .
# The sources come without .git: the commit `globalsvc version` reports.
ARG GLOBALSVC_COMMIT=unknown
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
      -DGLOBALSVC_COMMIT="$GLOBALSVC_COMMIT" \
    && cmake --build /build --target globalsvc --parallel \
    && strip /build/cli/globalsvc \
    && /build/cli/globalsvc version

FROM debian:12-slim
# The runtime halves of the -dev packages the binary links (cpp-httplib with
# OpenSSL, spdlog and fmt, yaml-cpp), and CA certificates for remote API
# servers whose kubeconfig relies on the system trust store.
RUN set -eu; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcpp-httplib0.11 libspdlog1.10 libfmt9 libyaml-cpp0.7 libssl3; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/*
COPY --from=build /build/cli/globalsvc /usr/local/bin/globalsvc
# Fails the build when a shared library is missing from this stage.
RUN ! ldd /usr/local/bin/globalsvc | grep -q 'not found'
USER 65532:65532
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/globalsvc"]
CMD ["--help"]
