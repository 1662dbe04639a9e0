#!/usr/bin/env bash
# Install, idempotently, every Debian package lazyshm needs to build CRIU,
# the plugin and the tools, and to run the tests and benchmarks.
# No TeX/asciidoc: `make criu` needs no documentation.
set -euo pipefail

PKGS=(
	# toolchain and fetch
	build-essential pkg-config curl ca-certificates xz-utils patch git
	# CRIU 4.1.1 build dependencies
	libprotobuf-c-dev protobuf-c-compiler libprotobuf-dev protobuf-compiler
	libnl-3-dev libcap-dev libnet1-dev libbsd-dev libgnutls28-dev
	libnftables-dev uuid-dev python3-protobuf libaio-dev
	# CRIU run-time helpers (criu check / restore use ip, iptables-less paths)
	iproute2 kmod util-linux procps
	# lazyshm itself: digests, unit tests, fuzzing
	libxxhash-dev libcmocka-dev clang libclang-rt-14-dev
	# tests and benchmarks; make sanitize runs lazyshm-img under valgrind
	jq gnuplot-nox psmisc python3 valgrind
	# real-application tests (tests/integration/10x-app-*): QEMU with a busybox
	# initramfs (the guest kernel is extracted from linux-image-amd64 by the
	# test, never installed), PostgreSQL
	qemu-system-x86 busybox-static postgresql postgresql-contrib
	# container tests (80-89): runc and podman checkpoint through our CRIU;
	# CRIU calls iptables-save for a container's network namespace; the
	# containers' rootfs is busybox (busybox-static, above)
	runc podman iptables
	# migration tests (110-119) and the remote unit tests: throwaway TLS certificates
	openssl
)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: not root; cannot apt-get install. Missing packages must be installed by hand:" >&2
fi

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
