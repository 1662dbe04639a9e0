#!/usr/bin/env bash
# Fetch CRIU 4.1.1 from Debian's pool, verify it, apply criu-patches/series
# in order and build the `criu` binary under build/. CRIU's source is never
# part of this repository: only our patches are.
#
# The tree is re-extracted whenever the series or a patch changes, so a
# patch that no longer applies always fails the build, naming the patch.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
VER=4.1.1
TARBALL=criu_${VER}.orig.tar.xz
SHA256=f80a66cb3726bb2116266d4759ce3bcbfab7abdb6b6d430bf20dd41911717afe
POOL_PATH=pool/main/c/criu/$TARBALL
BUILD=$TOP/build
DL=$BUILD/dl
SRC=$BUILD/criu-$VER
PATCHES=$TOP/criu-patches

die() { echo "build-criu: $*" >&2; exit 1; }

. "$TOP/scripts/apt-mirror.sh"

# download MIRROR WHY: fetch the tarball from MIRROR into $DL/$TARBALL.part
download() {
	echo "build-criu: downloading $1/$POOL_PATH (mirror $1: $2)"
	rm -f "$DL/$TARBALL.part"
	curl -fsSL --retry 3 -o "$DL/$TARBALL.part" "$1/$POOL_PATH" || {
		echo "build-criu: download from $1 failed" >&2
		return 1
	}
}

fetch() {
	mkdir -p "$DL"
	if [ -f "$DL/$TARBALL" ] && echo "$SHA256  $DL/$TARBALL" | sha256sum -c --status; then
		return 0
	fi
	local list uri why ok=
	list=$(debian_mirrors)
	while IFS=$'\t' read -r uri why; do
		download "$uri" "$why" && ok=1 && break
	done <<<"$list"
	[ -n "$ok" ] || die "no mirror served $POOL_PATH (tried: $(cut -f1 <<<"$list" | tr '\n' ' ')); check network access to Debian's pool or set DEBIAN_MIRROR"
	if ! echo "$SHA256  $DL/$TARBALL.part" | sha256sum -c --status; then
		got=$(sha256sum "$DL/$TARBALL.part" | cut -d' ' -f1)
		rm -f "$DL/$TARBALL.part"
		die "refusing $TARBALL: sha256 is $got, expected $SHA256"
	fi
	mv "$DL/$TARBALL.part" "$DL/$TARBALL"
	echo "build-criu: $TARBALL sha256 verified"
}

series_hash() {
	(cat "$PATCHES/series"; grep -v '^\s*\(#\|$\)' "$PATCHES/series" |
		while read -r p; do cat "$PATCHES/$p"; done) | sha256sum | cut -d' ' -f1
}

extract_and_patch() {
	local want have
	want=$(series_hash)
	have=$(cat "$SRC/.lazyshm-series" 2>/dev/null || true)
	[ "$want" = "$have" ] && return 0

	echo "build-criu: extracting $TARBALL into ${SRC#$TOP/}"
	rm -rf "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -xJf "$DL/$TARBALL" -C "$SRC.tmp" --strip-components=1
	while read -r p; do
		case "$p" in '' | \#*) continue ;; esac
		[ -f "$PATCHES/$p" ] || die "criu-patches/series names $p, which does not exist"
		if ! out=$(patch -d "$SRC.tmp" -p1 --batch --forward <"$PATCHES/$p" 2>&1); then
			echo "$out" >&2
			die "patch $p does not apply to CRIU $VER"
		fi
		echo "build-criu: applied $p"
	done <"$PATCHES/series"
	# Build the new tree aside and swap it in only once it built, so that
	# a criu binary stays usable while the patched one is being made.
	build_tree "$SRC.tmp"
	echo "$want" >"$SRC.tmp/.lazyshm-series"
	rm -rf "$SRC.old"
	[ -d "$SRC" ] && mv "$SRC" "$SRC.old"
	mv "$SRC.tmp" "$SRC"
	rm -rf "$SRC.old"
}

build_tree() {
	echo "build-criu: building criu (make criu) in ${1#$TOP/}"
	make -C "$1" -j"$(nproc)" criu >"$BUILD/criu-build.log" 2>&1 ||
		{ tail -30 "$BUILD/criu-build.log" >&2; die "CRIU build failed; full log in build/criu-build.log"; }
}

# Concurrent makes (parallel test runs, colleagues) must not race on the tree
mkdir -p "$BUILD"
exec 9>"$BUILD/.criu.lock"
flock 9
fetch
extract_and_patch
build_tree "$SRC"
"$SRC/criu/criu" --version | head -1
echo "build-criu: patched CRIU built at ${SRC#$TOP/}/criu/criu"
