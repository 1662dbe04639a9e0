# PostgreSQL 15 (Debian's postgresql package) in the work dir: initdb as
# user postgres, no systemd, a Unix socket only (in the work dir), its own
# IPC namespace (its small SysV segment), shared_buffers of LZ_PG_SB_MB MiB
# with huge_pages=on when the hugepages can be reserved (the main segment is
# then MAP_SHARED|MAP_HUGETLB anon), dynamic shared memory in /dev/shm
# (dynamic_shared_memory_type=posix). A table written and prewarmed into
# shared_buffers before the dump must read back identically (md5 of its
# rows) after each restore, and new writes must work.
# Sourced by tests/integration/10[6-8]-app-postgres-*.sh.
#
# Between two restores from the same images, everything the restored
# server changed on disk is put back as it was at dump time: the data
# directory, the server's log (CRIU reopens a file only at its dumped size)
# and the /dev/shm segments CRIU left in place.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
. "$(dirname "${BASH_SOURCE[0]}")/apps.sh"

PGBIN=/usr/lib/postgresql/15/bin
LZ_PG_SB_MB=${LZ_PG_SB_MB:-256}
LZ_PG_ROWS=${LZ_PG_ROWS:-1000000}
_PG_AS=(setpriv --reuid=postgres --regid=postgres --init-groups)

# lz_pg_psql SQL: run SQL in the test's server, tuples only
lz_pg_psql() {
	"${_PG_AS[@]}" "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG/sock" -p 5433 -U postgres -d postgres -At -c "$1"
}

# _pg_dsm_names: the /dev/shm segments the tree of the postmaster maps,
# added to PG/dsm-files (removed at exit)
_pg_dsm_names() {
	local root=$1 p
	for p in "$root" $(lz_descendants "$root"); do
		grep -oE '/dev/shm/PostgreSQL\.[0-9]+' "/proc/$p/maps" 2>/dev/null
	done | sort -u >>"$PG/dsm-files"
	sort -u -o "$PG/dsm-files" "$PG/dsm-files"
}
_pg_rm_dsm() { [ -f "$1" ] && xargs -r rm -f <"$1"; }

# lz_pg_require: root, CRIU, the packages, lazy shmem; PG_HUGE=on|off
# (on when the hugepages can be reserved, unless LZ_PG_HUGE=off)
lz_pg_require() {
	lz_require_root
	lz_require_criu
	lz_app_packages postgresql postgresql-contrib
	[ -x "$PGBIN/postgres" ] || lz_skip "no PostgreSQL 15 at $PGBIN"
	id postgres >/dev/null 2>&1 || lz_skip "no user postgres"
	"$CRIU" check --feature lazy_shmem >/dev/null 2>&1 || lz_skip "no minor faults on shmem/hugetlbfs here"
	PG_HUGE=off
	if [ "${LZ_PG_HUGE:-}" = off ]; then
		lz_log "huge_pages=off (LZ_PG_HUGE): shmem main segment"
	elif lz_reserve_hugepages $((LZ_PG_SB_MB / 2 + 16)) 2M; then
		PG_HUGE=on
	else
		lz_log "cannot reserve hugepages for shared_buffers: huge_pages=off (shmem main segment)"
	fi
}

# lz_pg_start: a fresh cluster in W/pg, started; PG_ROOT = the postmaster
lz_pg_start() {
	PG=$W/pg
	mkdir -p "$PG/sock" && chown -R postgres: "$PG" || lz_fail "cannot create $PG"
	lz_on_exit "_pg_rm_dsm '$PG/dsm-files'"
	lz_kill_listed_at_exit "$W/ready"
	lz_kill_listed_at_exit "$W/restored.pid"
	"${_PG_AS[@]}" "$PGBIN/initdb" -D "$PG/data" -A trust -U postgres --no-sync -E UTF8 --locale=C \
		>"$W/initdb.log" 2>&1 || lz_fail "initdb failed: $(tail -3 "$W/initdb.log")"
	cat >>"$PG/data/postgresql.conf" <<-EOF
		listen_addresses = ''
		port = 5433
		unix_socket_directories = '$PG/sock'
		shared_buffers = ${LZ_PG_SB_MB}MB
		huge_pages = $PG_HUGE
		dynamic_shared_memory_type = posix
		autovacuum = off
		fsync = off
		logging_collector = off
		log_min_messages = log
	EOF
	(
		lz_app_closefds
		exec setsid unshare --ipc "${_PG_AS[@]}" "$PGBIN/postgres" -D "$PG/data" </dev/null >"$W/pg.log" 2>&1
	) &
	disown $!
	local t
	for ((t = 300; t > 0; t--)); do
		"$PGBIN/pg_isready" -q -h "$PG/sock" -p 5433 && break
		sleep 0.1
	done
	"$PGBIN/pg_isready" -q -h "$PG/sock" -p 5433 || lz_fail "postgres did not start: $(tail -5 "$W/pg.log")"
	PG_ROOT=$(head -1 "$PG/data/postmaster.pid")
	echo "$PG_ROOT" >"$W/ready"
	lz_log "postgres $PG_ROOT up, shared_buffers=${LZ_PG_SB_MB}MB huge_pages=$PG_HUGE"
}

# lz_pg_load: the table t, prewarmed into shared_buffers; PG_SUM = its md5
lz_pg_load() {
	lz_pg_psql "CREATE EXTENSION pg_prewarm; CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v
		FROM generate_series(1, $LZ_PG_ROWS) g; SELECT pg_prewarm('t');" >/dev/null ||
		lz_fail "cannot write the table"
	PG_SUM=$(lz_pg_psql "SELECT md5(string_agg(v, ',' ORDER BY id)) FROM t") || lz_fail "cannot read the table"
	lz_pg_psql "CHECKPOINT" || lz_fail "CHECKPOINT failed"
	lz_log "table t: $LZ_PG_ROWS rows, $(lz_pg_psql "SELECT pg_size_pretty(pg_relation_size('t'))"), md5 $PG_SUM"
	_pg_dsm_names "$PG_ROOT"
	lz_log "dynamic shared memory: $(tr '\n' ' ' <"$PG/dsm-files")"
}

# lz_pg_dump [ENV...]: dump the postmaster's tree (idle), keep what the
# restores must find as it was at dump time. Says clearly when CRIU cannot
# read the rlimits of another user's tasks.
lz_pg_dump() {
	local t0 f
	echo "$PG_ROOT" $(lz_descendants "$PG_ROOT") | tr ' ' '\n' >"$W/ready"
	t0=$(lz_now_ms)
	env "$@" "$CRIU" dump -D "$W" -t "$PG_ROOT" --libdir "$LIBDIR" -v4 -o dump.log --shell-job || {
		grep -E "Error" "$W/dump.log" | tail -5
		grep -q "Can't get rlimit" "$W/dump.log" &&
			lz_fail "criu dump cannot read the rlimits of postgres's tasks ('Can't get rlimit ... Operation" \
				"not permitted': root lacks CAP_SYS_RESOURCE, prlimit() of another user's task is refused);" \
				"this needs the CRIU patch that reads them from /proc (branch infra)"
		lz_fail "criu dump of the postgres tree failed"
	}
	for f in $(cat "$W/ready"); do
		lz_wait_gone "$f" 10 || lz_fail "the dumped postgres process $f still exists"
	done
	LZ_DUMP_MS=$(($(lz_now_ms) - t0))
	lz_log "dump took $LZ_DUMP_MS ms"
	cp -a "$PG/data" "$PG/data.dumped" && cp "$W/pg.log" "$W/pg.log.dumped" || lz_fail "cannot keep the data directory"
	mkdir -p "$PG/dsm.dumped"
	while read -r f; do
		[ ! -e "$f" ] || cp -a "$f" "$PG/dsm.dumped/" || lz_fail "cannot keep $f"
	done <"$PG/dsm-files"
}

# _pg_reset_files [keep-dsm]: the data directory, the log and the
# /dev/shm segments back to their state at dump time
_pg_reset_files() {
	local f
	rm -rf "$PG/data" && cp -a "$PG/data.dumped" "$PG/data" && cp "$W/pg.log.dumped" "$W/pg.log" ||
		lz_fail "cannot reset the data directory"
	_pg_rm_dsm "$PG/dsm-files"
	[ "${1:-}" = no-dsm ] && return 0
	for f in "$PG/dsm.dumped"/*; do
		[ -e "$f" ] && cp -a "$f" /dev/shm/
	done
	return 0
}

# lz_pg_check TAG: the table reads back identically, a write works;
# PG_ANSWER_MS = time to the first answer
lz_pg_check() {
	local tag=$1 t0 sum n
	t0=$(lz_now_ms)
	sum=$(lz_pg_psql "SELECT md5(string_agg(v, ',' ORDER BY id)) FROM t") || {
		lz_log "server log: $(tail -5 "$W/pg.log")"
		lz_fail "$tag: the table cannot be read"
	}
	PG_ANSWER_MS=$(($(lz_now_ms) - t0))
	[ "$sum" = "$PG_SUM" ] || lz_fail "$tag: the table reads back differently: md5 $sum, dumped $PG_SUM"
	n=$(lz_pg_psql "INSERT INTO t VALUES (0, 'after-$tag'); SELECT count(*) FROM t") ||
		lz_fail "$tag: a write failed: $(tail -3 "$W/pg.log")"
	[ "$n" = $((LZ_PG_ROWS + 1)) ] || lz_fail "$tag: $n rows after one insert, expected $((LZ_PG_ROWS + 1))"
	lz_pg_psql "DELETE FROM t WHERE id = 0" >/dev/null || lz_fail "$tag: a delete failed"
	lz_log "$tag: md5 of t identical, first answer in $PG_ANSWER_MS ms, insert+count+delete work"
}

# lz_pg_no_crash TAG: no server process died since the restore
lz_pg_no_crash() {
	! grep -E "terminated by signal|was terminated|PANIC|server process .* exited with exit code [^0]" \
		"$W/pg.log" | grep -v "^$" >"$W/crash.txt" || {
		cat "$W/crash.txt" | head -5
		lz_fail "$1: a postgres process crashed (see above)"
	}
}

# lz_pg_restore MODE TAG [no-dsm]: reset the files, restore, check
lz_pg_restore() {
	local mode=$1 tag=$2
	_pg_reset_files "${3:-}"
	lz_app_restore "$W" "$mode" || lz_fail "$tag: $mode restore of postgres failed"
	lz_pg_check "$tag"
	if [ "$mode" = eager ]; then LZ_ANSWER_EAGER_MS=$PG_ANSWER_MS; else LZ_ANSWER_LAZY_MS=$PG_ANSWER_MS; fi
	_pg_dsm_names "$(cat "$W/restored.pid")"
}

# lz_pg_expect_main MODE: what restore.log says of the main segment
lz_pg_expect_main() {
	local re
	# restore.c names a kind without its page size in some lines
	re="(hugetlb-anon|anon-shared) 0x[0-9a-f]+"
	case $1 in
	eager) lz_app_expect_log "$W" "lazyshm: $re: [0-9]+ data pages restored eagerly and validated" \
		"restore.log does not say that the main segment was restored eagerly and validated" ;;
	lazy) lz_app_expect_log "$W" "lazyshm: $re \([0-9]+ bytes\) deferred to the lazy-pages daemon" \
		"restore.log does not say that the main segment was deferred to the daemon" ;;
	esac
	lz_log "main segment: $(grep -oE "lazyshm: $re.*" "$W/restore.log" | head -1)"
}
