/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Plugin settings. CRIU plugins have no command-line options, so they are
 * read from the environment of `criu dump` / `criu restore` /
 * `criu lazy-pages`:
 *   LAZYSHM_MODE=lazy|eager   defer shared memory (default) or not
 *   LAZYSHM_VALIDATE=1|0      check page digests before mapping (default 1)
 *   LAZYSHM_FILES=default|all|none  (dump) which files on tmpfs/hugetlbfs
 *                             the plugin stores itself, see lz_files_policy
 *   LAZYSHM_FILES_EXISTING=refuse|replace|use  (restore) a named file found
 *                             at its path that is not the dumped one
 *   LAZYSHM_FILES_NAMED=eager|lazy  (restore) recreated named files:
 *                             eager by default, since any process may open
 *                             them by path and read() or map them anew,
 *                             which userfaultfd never sees
 *   LAZYSHM_SYSV=eager|lazy   (restore) SysV SHM_HUGETLB segments: eager by
 *                             default, since any process may shmat() them
 *                             anew (4K SysV is always eager)
 *   LAZYSHM_FD_LAZY=KIND,...  (restore) defer objects of these kinds even
 *                             when a task holds them open (QEMU guest RAM,
 *                             shm_open() segments): only for applications
 *                             that map them and never read(), write() or
 *                             punch through the descriptor during the lazy
 *                             phase
 *   LAZYSHM_REPLAY=on|off|record  (lazy-pages) prefetch the working set a
 *                             previous lazy restore recorded first, and
 *                             record one if there is none (on, default);
 *                             neither (off); record again (record)
 *   LAZYSHM_REMOTE=1|0        (dump --lazy-pages) serve shared memory from
 *                             the dump's source instead of writing it into
 *                             the images, for the objects a restore can
 *                             defer (default 1; see docs/REMOTE.md)
 *   LAZYSHM_REMOTE_PORT=N     (dump, lazy-pages) the port the source serves
 *                             on; default the page server's --port + 1
 *   LAZYSHM_REMOTE_TIMEOUT=S  (dump, lazy-pages) a peer silent this long in
 *                             the middle of a message or with requests in
 *                             flight, or a connection the kernel sees dead
 *                             this long, ends the session (default 60)
 *   LAZYSHM_REMOTE_WINDOW=MiB (lazy-pages) prefetch requests in flight to
 *                             the source, in MiB (default 8)
 *   LAZYSHM_FILL_THREADS=N    (lazy-pages) threads that fill pages in the
 *                             background, 1 to 8 (default 2, 1 on one CPU)
 *   LAZYSHM_TEST_FILL_DELAY_MS=N     (lazy-pages, for tests only) the
 *                             prefetch thread waits N ms between claiming a
 *                             chunk and writing it, so that races with the
 *                             application become reproducible; one fill
 *                             thread then, unless LAZYSHM_FILL_THREADS says
 */
#ifndef __LAZYSHM_CONFIG_H__
#define __LAZYSHM_CONFIG_H__

#include <stdbool.h>
#include <stdint.h>

/* Which regular files on tmpfs/hugetlbfs lazyshm owns at dump. */
enum lz_files_policy {
	/* every file on hugetlbfs, and unlinked files on tmpfs (default) */
	LZ_FILES_DEFAULT = 0,
	/* also named files on tmpfs */
	LZ_FILES_ALL = 1,
	/* none: CRIU keeps handling them as before */
	LZ_FILES_NONE = 2,
};

/* What a restore does with a named file that is not the dumped one. */
enum lz_files_existing {
	LZ_EXISTING_REFUSE = 0,	 /* fail, naming what differs (default) */
	LZ_EXISTING_REPLACE = 1, /* recreate it from the images */
	LZ_EXISTING_USE = 2,	 /* use it as it is, as upstream CRIU does */
};

struct lz_config {
	bool lazy;
	bool validate;
	int files_policy;	     /* enum lz_files_policy */
	int files_existing;	     /* enum lz_files_existing */
	bool files_named_eager;	     /* fill recreated named files before the tasks run */
	bool sysv_lazy;		     /* defer SysV SHM_HUGETLB segments */
	uint32_t fd_lazy;	     /* 1 << lz_kind: defer these even when held open */
	unsigned test_fill_delay_ms; /* LAZYSHM_TEST_FILL_DELAY_MS, 0 normally */
	unsigned fill_threads;	     /* LAZYSHM_FILL_THREADS */
	int replay;		     /* LAZYSHM_REPLAY: LZ_REPLAY_* (daemon/replay.h) */
	bool remote;		     /* LAZYSHM_REMOTE */
	unsigned remote_port;	     /* LAZYSHM_REMOTE_PORT, 0: --port + 1 */
	unsigned remote_timeout_s;   /* LAZYSHM_REMOTE_TIMEOUT */
	unsigned remote_window_mb;   /* LAZYSHM_REMOTE_WINDOW, 0: the default */
};

int lz_config_read(struct lz_config *c);
const char *lz_files_policy_name(int policy);

#endif /* __LAZYSHM_CONFIG_H__ */
