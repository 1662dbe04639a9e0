# The beginnings and ends shared by the file tests (tests/integration/6*-file-*.sh):
# a file on a hugetlbfs or tmpfs mount, mapped by memkinds, dumped and restored
# lazily by the plugin. Source it after common.sh:
#   . "$(dirname "$0")/../lib/common.sh"
#   . "$(dirname "$0")/../lib/file.sh"
# Helpers that end in lz_fail or lz_skip say so; the others return 1.

# lz_file_require [lazy] [hugetlbfs]: skip unless root, with the patched CRIU
# and the plugin built; with lazy, unless shmem and hugetlbfs can be
# restored lazily (minor faults); with hugetlbfs, unless the kernel has it.
lz_file_require() {
	local w
	lz_require_root
	lz_require_criu
	for w in "$@"; do
		case $w in
		lazy) "$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here" ;;
		hugetlbfs) grep -q hugetlbfs /proc/filesystems || lz_skip "no hugetlbfs in this kernel" ;;
		*) lz_fail "lz_file_require: no such requirement: $w" ;;
		esac
	done
}

# lz_file_reserve MB: reserve the 2M hugepages for dumping a MB MiB file
# (lz_reserve_hugepages), or skip.
lz_file_reserve() {
	local pages=$(($1 / 2))
	lz_reserve_hugepages $pages 2M || lz_skip "cannot reserve $((2 * pages + 1)) available 2M hugepages"
}

# lz_file_workdir: W = a fresh work directory (lz_workdir) by the path the
# kernel shows: the tests compare paths with /proc/PID/maps and restore.log.
lz_file_workdir() {
	W=$(lz_workdir)
	W=$(cd "$W" && pwd -P)
}

# lz_huge_file_start DIR MNT MB [ARGS...]: mount a 2M hugetlbfs at MNT (or
# skip), start memkinds in DIR (lz_start_memkinds) with a MB MiB huge-file on
# MNT and ARGS; F = that file's path. Returns 1 if the workload did not start.
lz_huge_file_start() {
	local dir=$1 mnt=$2 mb=$3
	shift 3
	mkdir -p "$dir"
	lz_mount_hugetlbfs "$mnt" 2M || lz_skip "cannot mount hugetlbfs"
	lz_start_memkinds "$dir" --kinds huge-file --hugetlbfs "$mnt" --huge-mb "$mb" "$@" || return 1
	F=$mnt/memkinds-$(head -1 "$dir/ready")-huge-file
}

# lz_huge_file_setup MB [ARGS...]: the start of a test of one hugetlbfs file
# (after lz_file_require): MB/2 hugepages of 2M reserved, W (lz_file_workdir),
# H = the hugetlbfs mounted at W/hugetlbfs, memkinds started in W with a MB
# MiB huge-file on H and ARGS (pid LZ_WP), F = the file's path. Or skip or
# fail.
lz_huge_file_setup() {
	lz_file_reserve "$1"
	lz_file_workdir
	H=$W/hugetlbfs
	lz_huge_file_start "$W" "$H" "$@" || lz_fail "workload did not start"
}

# lz_file_dump_unlinked DIR MNT FS: the workload (LZ_WP, started in DIR) maps
# F on the mount MNT, unlinked; dump it with default CRIU options: the
# lazyshm image owns F, CRIU's ghost images do not hold its content, and
# the dump leaves nothing on MNT (FS: its kind, for the messages). Or fail.
lz_file_dump_unlinked() {
	local dir=$1 mnt=$2 fs=$3 ghost
	[ -e "$F" ] && lz_fail "the workload did not unlink $F"
	lz_maps "$LZ_WP" "$F" | grep -q "(deleted)" || lz_fail "the workload does not map $F (deleted)"
	# no --ghost-limit: the plugin owns the content, CRIU's ghost limit does not apply
	lz_dump_gone "$dir" "$LZ_WP" || lz_fail "dump of an unlinked $fs file failed with default CRIU options"
	lz_img_lists "$dir" "$F" || lz_fail "the lazyshm image has no object for $F"
	ghost=$(cat "$dir"/ghost-file-*.img 2>/dev/null | wc -c)
	[ "$ghost" -lt $((1 << 20)) ] || lz_fail "CRIU's ghost images hold $ghost bytes: the content was copied by CRIU"
	[ -z "$(ls -A "$mnt")" ] || lz_fail "the $fs is not empty before the restore: $(ls -A "$mnt")"
}

# lz_file_check_deferred DIR BYTES: restore.log in DIR says that F (BYTES
# bytes) was deferred to the daemon (lz_file_deferred), or fail.
lz_file_check_deferred() {
	lz_file_deferred "$1" "$F" "$2" ||
		lz_fail "restore.log does not say that $F was deferred to the daemon: $(grep -E 'lazyshm: .*file' "$1/restore.log" | head -3)"
}

# lz_file_verify DIR NTASKS MESSAGE: every restored task in DIR verifies
# its memory (lz_verify_all) while the daemon serves it; if not, show what
# the daemon and the tasks are doing and fail with MESSAGE.
lz_file_verify() {
	lz_verify_all "$1" "$2" || {
		lz_diag_lazy "$1"
		lz_fail "$3"
	}
}

# lz_file_stop DIR NTASKS [TAG]: the end of every restore in DIR: the NTASKS
# restored tasks verify their memory after the daemon detached, then the
# restored tree is stopped and its root is gone. Or fail (messages prefixed
# with "TAG: ").
lz_file_stop() {
	local dir=$1 n=$2 tag=${3:+$3: } root
	root=$(cat "$dir/restored.pid")
	lz_verify_all "$dir" "$n" || lz_fail "${tag}memory differs after the daemon detached"
	lz_stop_tasks "$root" $(lz_descendants "$root")
	lz_wait_gone "$root" 10 || lz_fail "${tag}the restored root did not exit"
}

# lz_file_end DIR KIND NTASKS [FIELDS]: the end of a restore in DIR whose
# one file the daemon served: the daemon finished cleanly, served exactly
# one object of KIND and filled it once; the stats of every object (jq
# FIELDS, "kind, pages, filled_fault, filled_prefetch" by default) are
# logged; then lz_file_stop DIR NTASKS. Or fail.
lz_file_end() {
	local dir=$1 kind=$2 n=$3 fields=${4:-kind, pages, filled_fault, filled_prefetch}
	lz_lazy_done "$dir" || lz_fail "the daemon did not finish cleanly"
	[ "$(lz_stats_kind "$dir" "$kind")" = 1 ] ||
		lz_fail "expected one $kind object, the daemon had: $(lz_stats "$dir" '[.objects[].kind]' | jq -c .)"
	lz_check_filled_once "$dir" "$kind" || lz_fail "the file was not filled exactly once"
	lz_log "stats: $(lz_stats "$dir" "[.objects[] | {$fields}]" | jq -c .)"
	lz_file_stop "$dir" "$n"
}

# lz_file_runs_on DIR NTASKS: after a failed dump of the workload started
# in DIR (pid LZ_WP), it runs on untouched: every task alive, every byte
# verifies; then it is stopped and no task is left. Or fail.
lz_file_runs_on() {
	local dir=$1 n=$2 p left
	for p in $(cat "$dir/ready"); do
		lz_exited "$p" && lz_fail "dumped task $p is gone after the failed dump"
	done
	lz_verify_all "$dir" "$n" "$LZ_WP" || lz_fail "the workload's memory differs after the failed dump"
	lz_stop_tasks "$LZ_WP"
	lz_wait_gone "$LZ_WP" 10 || lz_fail "the workload did not exit"
	left=$(for p in $(cat "$dir/ready"); do lz_exited "$p" || echo "$p"; done)
	[ -z "$left" ] || lz_fail "tasks left running: $left"
}
