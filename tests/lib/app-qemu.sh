# QEMU (TCG, no KVM) running a small Debian guest, dumped and restored with
# the plugin; sourced by tests/integration/10[0-3]-app-qemu-*.sh:
#   lz_qemu_test BACKEND [fd-lazy]
# BACKEND is the guest RAM's memory backend:
#   hugetlbfs   memory-backend-file on a hugetlbfs 2M mount (QEMU creates
#               the file and unlinks it: the plugin owns it, kind hugetlb-file)
#   memfd       memory-backend-memfd (kind memfd)
#   memfd-huge  memory-backend-memfd,hugetlb=on (kind hugetlb-memfd)
# The guest is Debian's kernel (vmlinuz taken from the linux-image package,
# never installed) with a busybox initramfs whose /init runs lzguest
# (tests/apps/lzguest.c): it fills LZ_QEMU_FILL_MB MiB of guest RAM with a
# seeded pattern and, for each line the host writes to the guest's second
# serial port (a QEMU pipe chardev, DIR/trig.in), checks every byte and
# reports on the first serial port (a file, DIR/serial.log):
#   LZCHECK n=<count> seed=<seed> OK|BAD ...
# QEMU holds the guest RAM's descriptor open, so its lazy restore is eager
# by default (restore.log says why); with fd-lazy, the plugin's opt-in
# (LZ_FD_LAZY_VAR, see apps.sh) must defer it to the daemon.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
. "$(dirname "${BASH_SOURCE[0]}")/apps.sh"

LZ_QEMU_RAM_MB=${LZ_QEMU_RAM_MB:-512}
LZ_QEMU_FILL_MB=${LZ_QEMU_FILL_MB:-320}
LZ_APPS_CACHE=$BUILD/apps-cache

# _qemu_kernel DIR: DIR/vmlinuz, from Debian's linux-image-amd64 package
# (downloaded once into build/apps-cache, extracted, never installed)
_qemu_kernel() {
	local dir=$1 pkg deb
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
	[ -n "$pkg" ] || { apt-get update -qq >/dev/null 2>&1 &&
		pkg=$(apt-cache depends linux-image-amd64 | sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1); }
	[ -n "$pkg" ] || lz_skip "apt-cache knows no linux-image-amd64 package"
	mkdir -p "$LZ_APPS_CACHE"
	deb=$(ls "$LZ_APPS_CACHE/${pkg}"_*.deb 2>/dev/null | head -1)
	if [ -z "$deb" ]; then
		lz_log "downloading $pkg (the guest's kernel)"
		(cd "$LZ_APPS_CACHE" && apt-get download "$pkg" >"$LZ_APPS_CACHE/download.log" 2>&1) ||
			lz_skip "cannot download $pkg: $(tail -1 "$LZ_APPS_CACHE/download.log")"
		deb=$(ls "$LZ_APPS_CACHE/${pkg}"_*.deb | head -1)
	fi
	mkdir -p "$dir/kpkg"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir/kpkg" --wildcards './boot/vmlinuz-*' ||
		lz_fail "cannot extract vmlinuz from $deb"
	mv "$dir"/kpkg/boot/vmlinuz-* "$dir/vmlinuz" && rm -rf "$dir/kpkg"
}

# _qemu_initramfs DIR: DIR/initrd.gz with busybox and lzguest
_qemu_initramfs() {
	local dir=$1 r=$1/initramfs
	[ -x "$BUILD/tests/apps/lzguest" ] || lz_fail "$BUILD/tests/apps/lzguest is not built (make build)"
	mkdir -p "$r/bin" "$r/dev" "$r/proc"
	cp /bin/busybox "$r/bin/busybox"
	cp "$BUILD/tests/apps/lzguest" "$r/lzguest"
	cat >"$r/init" <<-'EOF'
		#!/bin/busybox sh
		/bin/busybox mount -t devtmpfs dev /dev
		/bin/busybox mount -t proc proc /proc
		mb=$(/bin/busybox sed -n 's/.*lzguest_mb=\([0-9]*\).*/\1/p' /proc/cmdline)
		exec /lzguest "$mb" </dev/ttyS1 >/dev/ttyS0 2>&1
	EOF
	chmod +x "$r/init"
	(cd "$r" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$dir/initrd.gz" ||
		lz_fail "cannot build the initramfs"
}

# _qemu_backend BACKEND DIR: the -object option of the guest RAM
_qemu_backend() {
	local sz=${LZ_QEMU_RAM_MB}M
	case $1 in
	hugetlbfs) echo "memory-backend-file,id=m,size=$sz,mem-path=$2/hugetlbfs,share=on" ;;
	memfd) echo "memory-backend-memfd,id=m,size=$sz,share=on" ;;
	memfd-huge) echo "memory-backend-memfd,id=m,size=$sz,share=on,hugetlb=on,hugetlbsize=2M" ;;
	*) lz_fail "no such QEMU backend: $1" ;;
	esac
}

# _qemu_kind BACKEND: the plugin's kind name of the guest RAM
_qemu_kind() {
	case $1 in
	hugetlbfs) echo hugetlb-file ;;
	memfd) echo memfd ;;
	memfd-huge) echo hugetlb-memfd ;;
	esac
}

# _qemu_ram_re BACKEND: an ERE for the guest RAM object in restore.log
_qemu_ram_re() {
	case $1 in
	hugetlbfs) echo "file [^ ]*hugetlbfs/qemu_back_mem[^ ]*( \(deleted\))?" ;;
	memfd) echo "memfd 0x[0-9a-f]+" ;;
	memfd-huge) echo "hugetlb-memfd 0x[0-9a-f]+" ;;
	esac
}

# lz_qemu_start DIR BACKEND: boot the guest (pid in DIR/ready) and wait
# for lzguest's LZREADY line; QEMU_SEED = its seed.
lz_qemu_start() {
	local dir=$1 be=$2 t0 t
	lz_kill_listed_at_exit "$dir/ready"
	lz_kill_listed_at_exit "$dir/restored.pid"
	mkfifo "$dir/trig.in" "$dir/trig.out" || lz_fail "mkfifo"
	t0=$(lz_now_ms)
	(
		lz_app_closefds
		exec setsid qemu-system-x86_64 -name "lazyshm-$TEST_NAME" -nodefaults -no-user-config -nographic \
			-no-reboot -accel tcg -smp 1 -m "${LZ_QEMU_RAM_MB}M" \
			-object "$(_qemu_backend "$be" "$dir")" -machine pc,memory-backend=m \
			-kernel "$dir/vmlinuz" -initrd "$dir/initrd.gz" \
			-append "console=ttyS0 quiet loglevel=1 panic=-1 lzguest_mb=$LZ_QEMU_FILL_MB" \
			-chardev "file,id=s0,path=$dir/serial.log" -serial chardev:s0 \
			-chardev "pipe,id=s1,path=$dir/trig" -serial chardev:s1 -monitor none \
			</dev/null >"$dir/qemu.log" 2>&1
	) &
	echo $! >"$dir/ready"
	disown $!
	for ((t = 1200; t > 0; t--)); do
		grep -qa LZREADY "$dir/serial.log" 2>/dev/null && break
		lz_exited "$(cat "$dir/ready")" && break
		sleep 0.1
	done
	grep -qa LZREADY "$dir/serial.log" 2>/dev/null || {
		lz_log "qemu: $(tail -3 "$dir/qemu.log")"
		lz_log "serial: $(tail -c 600 "$dir/serial.log" 2>/dev/null)"
		lz_fail "the guest did not start lzguest within 120 s"
	}
	QEMU_SEED=$(grep -a LZREADY "$dir/serial.log" | sed 's/.*seed=\([0-9a-f]*\).*/\1/')
	lz_log "guest up in $(($(lz_now_ms) - t0)) ms: $(grep -a LZREADY "$dir/serial.log" | tr -d '\r')"
}

# lz_qemu_check DIR N: ask the guest for check number N (a line on its
# trigger port) and wait for its answer; it must be OK with QEMU_SEED.
# QEMU_ANSWER_MS = the time to the answer.
lz_qemu_check() {
	local dir=$1 n=$2 t0 t line
	t0=$(lz_now_ms)
	timeout 10 sh -c "echo check > '$dir/trig.in'" || {
		lz_log "cannot write to the guest's trigger port (is QEMU running?)"
		return 1
	}
	for ((t = 1200; t > 0; t--)); do
		line=$(grep -a "LZCHECK n=$n " "$dir/serial.log" | tr -d '\r')
		[ -n "$line" ] && break
		sleep 0.05
	done
	QEMU_ANSWER_MS=$(($(lz_now_ms) - t0))
	[ -n "$line" ] || {
		lz_log "no answer to check $n within 60 s; serial: $(tail -c 400 "$dir/serial.log" | tr -d '\r')"
		return 1
	}
	lz_log "check $n answered in $QEMU_ANSWER_MS ms: $line"
	case $line in
	*"seed=$QEMU_SEED OK "*) return 0 ;;
	*) return 1 ;;
	esac
}

# _qemu_reset_files DIR: QEMU's serial log and stdout back to their state at
# dump time (CRIU restores a file only at the size it was dumped with)
_qemu_reset_files() {
	cp "$1/serial.log.dumped" "$1/serial.log" && cp "$1/qemu.log.dumped" "$1/qemu.log"
}

# _qemu_restore DIR MODE TAG BACKEND N: one restore, checked by the guest
# (check N), its memory recorded as TAG_*; the tree is left running.
_qemu_restore() {
	local dir=$1 mode=$2 tag=$3 be=$4 n=$5 root
	_qemu_reset_files "$dir" || lz_fail "cannot reset QEMU's output files"
	lz_app_restore "$dir" "$mode" || lz_fail "$tag restore of QEMU failed"
	root=$(cat "$dir/restored.pid")
	lz_qemu_check "$dir" "$n" || {
		[ "$mode" = lazy ] && lz_diag_lazy "$dir"
		lz_fail "$tag restore: the guest's check of its memory failed"
	}
	if [ "$tag" = eager ]; then LZ_ANSWER_EAGER_MS=$QEMU_ANSWER_MS; else LZ_ANSWER_LAZY_MS=$QEMU_ANSWER_MS; fi
	grep -qa "LZCHECK.*BAD" "$dir/serial.log" && lz_fail "$tag restore: the guest saw bad memory"
	lz_app_mem "$root" "$tag"
}

# _qemu_expect_ram DIR BACKEND MODE: restore.log in DIR says what the plugin
# did with the guest RAM: restored eagerly because QEMU holds it open
# (eager), or deferred to the daemon (deferred)
_qemu_expect_ram() {
	local dir=$1 be=$2 re
	re=$(_qemu_ram_re "$be")
	case $3 in
	plain) # not a --lazy-pages restore
		lz_app_expect_log "$dir" "lazyshm: ${re} restored eagerly: " \
			"restore.log does not say that the guest RAM ($(_qemu_kind "$be")) was restored eagerly"
		;;
	eager)
		lz_app_expect_log "$dir" "lazyshm: ${re} restored eagerly: a task holds it open" \
			"restore.log does not say that the guest RAM ($(_qemu_kind "$be")) was restored eagerly because QEMU holds it open"
		lz_log "guest RAM: $(grep -oE "lazyshm: ${re} restored eagerly: a task holds it open" "$dir/restore.log" | head -1)"
		;;
	deferred)
		grep -qE "lazyshm: ${re}.* deferred to the lazy-pages daemon" "$dir/restore.log" || {
			grep -E "lazyshm: ${re}" "$dir/restore.log" | head -3
			if grep -qE "lazyshm: ${re} restored eagerly: a task holds it open" "$dir/restore.log"; then
				lz_fail "with $LZ_FD_LAZY_VAR=${!LZ_FD_LAZY_VAR} the guest RAM was still restored eagerly ('a task holds it open'): the opt-in does not work"
			fi
			lz_fail "restore.log does not say that the guest RAM was deferred to the lazy-pages daemon"
		}
		;;
	esac
}

_qemu_require() {
	local be=$1
	lz_require_root
	lz_require_criu
	lz_app_packages qemu-system-x86 busybox-static
	"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
	case $be in
	hugetlbfs | memfd-huge)
		lz_reserve_hugepages $((LZ_QEMU_RAM_MB / 2)) 2M ||
			lz_skip "cannot reserve $((LZ_QEMU_RAM_MB + 1)) available 2M hugepages"
		;;
	esac
}

# _qemu_dump DIR: dump QEMU (only --shell-job, from lz_criu_dump), keep
# copies of its output files as they were at dump time
_qemu_dump() {
	local dir=$1 t0
	t0=$(lz_now_ms)
	lz_dump_gone "$dir" "$(cat "$dir/ready")" || lz_fail "criu dump of QEMU failed"
	LZ_DUMP_MS=$(($(lz_now_ms) - t0))
	lz_log "dump took $LZ_DUMP_MS ms; images: $(du -sm "$dir" | cut -f1) MiB in the work dir"
	cp "$dir/serial.log" "$dir/serial.log.dumped" && cp "$dir/qemu.log" "$dir/qemu.log.dumped" ||
		lz_fail "cannot keep QEMU's output files"
}

lz_qemu_test() {
	local be=$1 optin=${2:-} kind
	kind=$(_qemu_kind "$be")
	lz_app_timeout 240
	_qemu_require "$be"
	[ "$optin" = fd-lazy ] && lz_app_fd_lazy_require
	W=$(lz_workdir)
	W=$(cd "$W" && pwd -P)
	[ "$be" = hugetlbfs ] && { lz_mount_hugetlbfs "$W/hugetlbfs" 2M || lz_skip "cannot mount hugetlbfs"; }
	_qemu_kernel "$W"
	_qemu_initramfs "$W"
	lz_qemu_start "$W" "$be"
	lz_qemu_check "$W" 1 || lz_fail "the guest's check before the dump failed"
	_qemu_dump "$W"

	if [ "$optin" != fd-lazy ]; then
		_qemu_restore "$W" eager eager "$be" 2
		_qemu_expect_ram "$W" "$be" plain
		lz_app_keep_logs "$W" eager
		lz_app_stop_tree "$W" || lz_fail "the eagerly restored QEMU does not exit"
	else
		export "$LZ_FD_LAZY_VAR=$kind"
		lz_log "opt-in: $LZ_FD_LAZY_VAR=$kind"
	fi

	_qemu_restore "$W" lazy lazy "$be" 2
	lz_lazy_done "$W" || lz_fail "the lazy-pages daemon did not finish cleanly"
	lz_app_stats "$W"
	# at full residency, after one check, as after the eager restore
	lz_app_mem "$(cat "$W/restored.pid")" lazy
	lz_qemu_check "$W" 3 || lz_fail "the guest's check after the daemon detached failed"
	if [ "$optin" = fd-lazy ]; then
		_qemu_expect_ram "$W" "$be" deferred
		[ "$(lz_stats_kind "$W" "$kind")" = 1 ] ||
			lz_fail "the daemon did not serve one $kind object: $(lz_stats "$W" '[.objects[].kind]' | jq -c .)"
		lz_check_filled_once "$W" "$kind" || lz_fail "the guest RAM was not filled exactly once"
		[ "$(lz_stats "$W" "[.objects[] | select(.kind == \"$kind\") | .filled_fault] | add")" -gt 0 ] ||
			lz_fail "no page of the guest RAM was filled on fault"
		[ "$(lz_stats "$W" "[.objects[] | select(.kind == \"$kind\") | .filled_prefetch] | add")" -gt 0 ] ||
			lz_fail "no page of the guest RAM was filled by prefetch"
	else
		_qemu_expect_ram "$W" "$be" eager
	fi
	lz_log "lazy stats: $(lz_stats "$W" '[.objects[] | {kind, pages, filled_fault, filled_prefetch}]' | jq -c .)"
	lz_app_keep_logs "$W" lazy
	lz_app_stop_tree "$W" || lz_fail "the lazily restored QEMU does not exit"
	lz_app_metrics "qemu-$be${optin:+-$optin}"
	lz_log "PASS: QEMU ($be guest RAM) restored${optin:+ with the opt-in} and its guest verified $LZ_QEMU_FILL_MB MiB"
}
