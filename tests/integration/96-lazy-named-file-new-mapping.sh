#!/usr/bin/env bash
# Issue 16, problem 1: a database's new backend crashed on a recreated named
# /dev/shm file that it mapped anew during the lazy phase: a mapping made
# after the restore is not registered with userfaultfd, so it read pages the
# daemon had not filled yet. Here a named tmpfs file the plugin owns
# (LAZYSHM_FILES=all, 16 MiB; a 16 MiB memfd beside it keeps the daemon
# busy) is copied after the dump and removed, as on another host, so that
# the restore recreates it. During the lazy restore (the prefetch thread
# slowed down to 1 MiB a second, 16 s in all), a process started after the
# restore maps the file anew by its path and reads it all through that
# mapping: it must read exactly the content the file had at dump time, and
# so must the restored tasks (once the daemon is done). By default the
# plugin fills a recreated named file before the tasks run
# (LAZYSHM_FILES_NAMED=eager), and restore.log must say why; with the
# opt-in LAZYSHM_FILES_NAMED=lazy (set by hand) this test fails.
# timeout: 120
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/hardening.sh"
. "$(dirname "$0")/../lib/file.sh"

lz_h_require lazy
lz_file_workdir
T=$W/tmpfs D=$W/run
lz_mount_tmpfs "$T" 64m || lz_skip "cannot mount a tmpfs"

LAZYSHM_FILES=all lz_h_prepare "$D" --kinds shm-file,memfd --shm-dir "$T" --size-mb 16 --children 1
f=$T/memkinds-$(head -1 "$D/ready")-shm-file
lz_img_lists "$D" "$f" || lz_fail "with LAZYSHM_FILES=all the lazyshm image does not own $f"
cp "$f" "$W/dumped" && rm -f "$f" || lz_fail "cannot keep a copy of $f and remove it"

lz_h_restore "$D" lazy 1000
[ -e "$f" ] || lz_fail "$f was not recreated"
# the reader: a process of its own, so its mapping is one no restored task had
python3 -c 'import mmap, sys
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
sys.stdout.buffer.write(m[:])' "$f" >"$W/mapped" || lz_fail "cannot map $f anew and read it"
lz_exited "$(cat "$D/lazy.pid")" && lz_fail "the daemon finished before the new mapping read the file: slow it more"
how=$(grep -E "lazyshm: file $(lz_re "$f") .*(deferred to the lazy-pages daemon|restored eagerly)" "$D/restore.log" |
	head -1)
lz_log "restore: ${how#*lazyshm: }"
cmp "$W/dumped" "$W/mapped" >"$W/cmp.txt" 2>&1 || {
	b=$(awk '{print $5}' "$W/cmp.txt" | tr -d ,)
	lz_fail "a mapping of $(basename "$f") made after the restore read other bytes than the file had at dump" \
		"time, from byte $((b - 1)) (page $(((b - 1) / 4096))) on: it saw pages the daemon had not filled"
}
lz_log "a new mapping of the recreated file read its $(stat -c %s "$W/mapped") bytes as they were at dump time"
echo "$how" | grep -q "restored eagerly: any process may open a named file by its path" ||
	lz_fail "restore.log does not say that $f was restored eagerly because it is named: ${how:-nothing about it}"
# the tasks verify once the daemon is done: a task reading along behind the
# slowed prefetch thread would wait on it chunk after chunk
lz_lazy_done "$D" || lz_fail "the daemon did not finish cleanly"
lz_verify_all "$D" 2 || lz_fail "the restored tasks do not see the file's content"
lz_h_finish "$D" 2
lz_log "PASS: a new mapping of a recreated named file never reads unfilled pages"
