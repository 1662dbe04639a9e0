#!/usr/bin/env bash
# make install / make uninstall:
#
#   scripts/install.sh install|uninstall DESTDIR PREFIX PLUGINDIR
#
# install copies what `make build` made:
#   build/criu-4.1.1/criu/criu         -> DESTDIR/PREFIX/bin/criu
#   build/bin/lazyshm-img, -kcheck, -trackd -> DESTDIR/PREFIX/bin/
#   build/lib/lazyshm_plugin.so        -> DESTDIR/PLUGINDIR/ (CRIU's plugin
#                                         directory, /usr/lib/criu)
# and lists every file it wrote (with its sha256) and every directory it
# created in DESTDIR/PREFIX/share/lazyshm/manifest. uninstall removes
# exactly those: a file only if it is still the one installed, a directory
# only if it is empty. Without a manifest it removes the files above.
#
# PREFIX must not put the patched criu where it shadows a distribution's
# (/usr/bin, /usr/local/bin, ...): /opt/lazyshm by default.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
ACTION=${1:-}
DESTDIR=${2:-}
PREFIX=${3:-/opt/lazyshm}
PLUGINDIR=${4:-/usr/lib/criu}
DESTDIR=${DESTDIR%/}
PREFIX=/${PREFIX#/}
PREFIX=${PREFIX%/}
PLUGINDIR=/${PLUGINDIR#/}
PLUGINDIR=${PLUGINDIR%/}
MANIFEST=$PREFIX/share/lazyshm/manifest
CRIU_DEFAULT_PLUGINDIR=/usr/lib/criu # CR_PLUGIN_DEFAULT in criu/include/plugin.h

die() { echo "install: $*" >&2; exit 1; }

# What goes where: "SOURCE MODE TARGET" (TARGET without DESTDIR)
files() {
	echo "$BUILD/criu-4.1.1/criu/criu 0755 $PREFIX/bin/criu"
	echo "$BUILD/bin/lazyshm-img 0755 $PREFIX/bin/lazyshm-img"
	echo "$BUILD/bin/lazyshm-kcheck 0755 $PREFIX/bin/lazyshm-kcheck"
	echo "$BUILD/bin/lazyshm-trackd 0755 $PREFIX/bin/lazyshm-trackd"
	echo "$BUILD/lib/lazyshm_plugin.so 0644 $PLUGINDIR/lazyshm_plugin.so"
}

# A bin directory on everyone's PATH, where our criu would shadow the
# distribution's /usr/sbin/criu or /usr/bin/criu
check_prefix() {
	local bin
	bin=$(realpath -m "$PREFIX/bin")
	case "$bin" in
	/bin | /sbin | /usr/bin | /usr/sbin | /usr/local/bin | /usr/local/sbin)
		die "PREFIX=$PREFIX would install the patched criu as $bin/criu, where it shadows a distribution's criu; use another PREFIX (default /opt/lazyshm)"
		;;
	esac
}

# mkdirs DIR: create DESTDIR/DIR and its missing parents, outermost
# first, and add each one created (without DESTDIR) to CREATED
CREATED=()
mkdirs() {
	local d=$1 missing=()
	while [ "$d" != / ] && [ ! -d "$DESTDIR$d" ]; do
		missing=("$d" ${missing[@]+"${missing[@]}"})
		d=$(dirname "$d")
	done
	for d in ${missing[@]+"${missing[@]}"}; do
		mkdir -m 0755 "$DESTDIR$d" || die "cannot create $DESTDIR$d"
		CREATED+=("$d")
	done
}

do_install() {
	local src mode dst d sum tmp
	check_prefix
	while read -r src mode dst; do
		[ -f "$src" ] || die "${src#$TOP/} is not built: run make build first"
	done < <(files)
	# directories an earlier install created stay ours
	[ ! -f "$DESTDIR$MANIFEST" ] || mapfile -t CREATED < <(sed -n 's/^d //p' "$DESTDIR$MANIFEST")
	for d in "$PREFIX/bin" "$(dirname "$MANIFEST")" "$PLUGINDIR"; do
		mkdirs "$d"
	done
	tmp=$DESTDIR$MANIFEST.new
	: >"$tmp"
	for d in ${CREATED[@]+"${CREATED[@]}"}; do
		echo "d $d" >>"$tmp"
	done
	while read -r src mode dst; do
		install -m "$mode" "$src" "$DESTDIR$dst.lazyshm-new" && mv -f "$DESTDIR$dst.lazyshm-new" "$DESTDIR$dst" ||
			die "cannot install $DESTDIR$dst"
		sum=$(sha256sum "$DESTDIR$dst" | cut -d' ' -f1)
		echo "f $sum $dst" >>"$tmp"
		echo "install: $DESTDIR$dst"
	done < <(files)
	mv -f "$tmp" "$DESTDIR$MANIFEST"
	echo "install: $DESTDIR$MANIFEST lists what make uninstall removes"
	[ "$PLUGINDIR" = "$CRIU_DEFAULT_PLUGINDIR" ] ||
		echo "install: $PLUGINDIR is not CRIU's default plugin directory: pass --libdir $PLUGINDIR to criu"
	echo "install: run $PREFIX/bin/criu (it is not on PATH, so the distribution's criu stays what 'criu' runs)"
}

# remove_file PATH [SHA256]: remove DESTDIR/PATH if it is (still) ours
remove_file() {
	local f=$DESTDIR$1 want=${2:-}
	[ -e "$f" ] || [ -L "$f" ] || return 0
	if [ -n "$want" ] && [ "$(sha256sum "$f" | cut -d' ' -f1)" != "$want" ]; then
		echo "uninstall: kept $f: it changed since make install"
		return 0
	fi
	rm -f "$f" && echo "uninstall: removed $f"
}

remove_dir() {
	local d=$DESTDIR$1
	[ -d "$d" ] || return 0
	if rmdir "$d" 2>/dev/null; then
		echo "uninstall: removed $d/"
	else
		echo "uninstall: kept $d/: not empty"
	fi
}

do_uninstall() {
	local kind a b dirs=() i src mode dst d
	if [ ! -f "$DESTDIR$MANIFEST" ]; then
		echo "uninstall: no $DESTDIR$MANIFEST; removing the files make install writes"
		while read -r src mode dst; do
			remove_file "$dst"
		done < <(files)
		for d in "$PREFIX/bin" "$PREFIX/share/lazyshm" "$PREFIX/share" "$PREFIX"; do
			[ ! -d "$DESTDIR$d" ] || rmdir "$DESTDIR$d" 2>/dev/null || true
		done
		return 0
	fi
	while read -r kind a b; do
		case $kind in
		f) remove_file "$b" "$a" ;;
		d) dirs+=("$a${b:+ $b}") ;;
		esac
	done <"$DESTDIR$MANIFEST"
	rm -f "$DESTDIR$MANIFEST"
	for ((i = ${#dirs[@]} - 1; i >= 0; i--)); do
		remove_dir "${dirs[$i]}"
	done
}

case "$ACTION" in
install) do_install ;;
uninstall) do_uninstall ;;
*) die "usage: $0 install|uninstall DESTDIR PREFIX PLUGINDIR" ;;
esac
