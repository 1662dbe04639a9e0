// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The dump's source of remote post-copy; see remote-src.h.
 *
 * Objects are taken over while the tasks are frozen: CRIU's shmem, memfd
 * and SysV objects in DUMP_SHMEM_CONTENT, the files lazyshm owns in
 * DUMP_REG_FILE. Each keeps a dup of its descriptor. SysV segments are
 * dumped in a child CRIU forks into their IPC namespace: the child sends
 * its descriptor over a socket pair made at init, which DUMP_FINISH
 * drains. The server starts once the index is written, before CRIU starts
 * its own lazy page server, on the page server's address and port + 1,
 * with TLS when CRIU has --tls; it stops in fini(DUMP), once CRIU's lazy
 * session has ended (the destination's daemon ends that session only when
 * lazyshm is done, so a DONE normally came before).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cr_options.h"
#include "criu-plugin.h"

#include "config.h"
#include "held.h"
#include "kinds.h"
#include "log.h"
#include "lzimg.h"
#include "remote-policy.h"
#include "remote-serve.h"
#include "remote-src.h"
#include "scm.h"

#define LINGER_MS 5000 /* for a session still under way when CRIU's has ended */

/* What the SysV child sends with the descriptor */
struct child_msg {
	uint64_t shmid, size, psz;
	int32_t kind;
};

static struct {
	const struct lz_config *cfg;
	pid_t dumper;  /* the process that writes the index */
	int chan[2];   /* SysV child -> dumper */
	uint16_t port; /* 0: nothing can be served */
	struct lz_serve_obj *objs;
	size_t nr, cap;
	uint64_t *shmids; /* CRIU's objects among objs, for the index */
	size_t nr_shmids;
	uint8_t dump_id[LZIMG_DUMP_ID_LEN];
	struct lz_server *server;
} R = { .chan = { -1, -1 } };

static uint16_t serve_port(const struct lz_config *cfg)
{
	if (cfg->remote_port)
		return cfg->remote_port;
	return opts.port && opts.port < 65535 ? opts.port + LZ_RP_PORT_OFFSET : 0;
}

int lz_remote_init(const struct lz_config *cfg)
{
	memset(&R, 0, sizeof(R));
	R.cfg = cfg;
	R.chan[0] = R.chan[1] = -1;
	if (!opts.lazy_pages || !cfg->remote)
		return 0;
	R.dumper = getpid();
	R.port = serve_port(cfg);
	if (!R.port)
		pr_info("dump: no --port (or LAZYSHM_REMOTE_PORT): shared memory is written into the images\n");
	else if (opts.img_parent)
		pr_info("dump: incremental (--prev-images-dir): CRIU does not offer its shared objects (anonymous "
			"shared, memfd, SysV), whose pages may be in the parent images: they go into the images\n");
	if (getrandom(R.dump_id, sizeof(R.dump_id), 0) != sizeof(R.dump_id)) {
		pr_perror("dump: no random bytes for the dump id");
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, R.chan)) {
		pr_perror("dump: can't make the socket pair for SysV segments");
		return -1;
	}
	return 0;
}

static uint64_t page_size_of(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && sfs.f_type == HUGETLBFS_MAGIC ? (uint64_t)sfs.f_bsize : 4096;
}

/* Keep a dup of @fd as object @shmid: 0, or -errno (logged) */
static int keep(int fd, uint64_t shmid, int kind, uint64_t size, uint64_t psz, bool criu_obj)
{
	struct lz_serve_obj *n;
	int dup;

	uint64_t *ids;

	if (R.nr == R.cap) {
		size_t cap = R.cap ? R.cap * 2 : 16;

		n = realloc(R.objs, cap * sizeof(*n));
		if (n)
			R.objs = n;
		ids = n ? realloc(R.shmids, cap * sizeof(*ids)) : NULL;
		if (ids)
			R.shmids = ids;
		if (!ids) {
			pr_err("dump: no memory for the objects the source serves\n");
			return -ENOMEM;
		}
		R.cap = cap;
	}
	dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dup < 0) {
		pr_perror("dump: %s %#" PRIx64 ": can't keep a descriptor", lzimg_kind_name(kind), shmid);
		return -errno;
	}
	R.objs[R.nr++] = (struct lz_serve_obj){ .shmid = shmid, .kind = kind, .size = size, .page_size = psz, .fd = dup };
	if (criu_obj)
		R.shmids[R.nr_shmids++] = shmid;
	return 0;
}

/* In the SysV child: hand the descriptor to the dumper. 0 or -1 (logged) */
static int send_to_dumper(int fd, uint64_t shmid, uint64_t size, int kind, uint64_t psz)
{
	struct child_msg m = { .shmid = shmid, .size = size, .psz = psz, .kind = kind };

	if (lz_send_fd(R.chan[1], &m, sizeof(m), fd) == 0)
		return 0;
	pr_perror("dump: %s %#" PRIx64 ": can't hand its descriptor to the dumping process", lzimg_kind_name(kind),
		  shmid);
	return -1;
}

int lz_remote_dump_shmem(int fd, uint64_t shmid, uint64_t size, int kind, int flags)
{
	uint64_t psz = page_size_of(fd);
	int lzkind = lz_kind_of(kind, psz);
	char why[256];
	struct stat st;

	if (!R.cfg || !R.port || R.chan[1] < 0)
		return -ENOTSUP;
	if (fstat(fd, &st)) {
		pr_perror("dump: %s %#" PRIx64 ": can't stat it", lzimg_kind_name(lzkind), shmid);
		return -ENOTSUP;
	}
	if (lz_remote_why_local(R.cfg, kind, flags, psz, &st, why, sizeof(why))) {
		pr_info("dump: %s %#" PRIx64 " (%" PRIu64 " bytes) goes into the images: %s\n", lzimg_kind_name(lzkind),
			shmid, size, why);
		return -ENOTSUP;
	}
	if (getpid() != R.dumper) {
		if (send_to_dumper(fd, shmid, size, lzkind, psz))
			return -ENOTSUP;
	} else if (keep(fd, shmid, lzkind, size, psz, true)) {
		return -ENOTSUP;
	}
	pr_info("dump: %s %#" PRIx64 " (%" PRIu64 " bytes) is served by the dump's source\n", lzimg_kind_name(lzkind),
		shmid, size);
	return 1;
}

int lz_remote_file(int fd, uint32_t id, const char *path, const struct stat *st, int huge, struct lz_obj_spec *spec)
{
	int kind = huge ? LZ_KIND_HUGETLB_FILE : LZ_KIND_SHM_FILE, ret;
	char why[256], err[LZIMG_ERRLEN] = "";

	if (!R.cfg || !R.port || getpid() != R.dumper)
		return 0;
	if (lz_remote_why_local_file(R.cfg, huge, st, why, sizeof(why))) {
		pr_info("dump: file %s goes into the images: %s\n", path, why);
		return 0;
	}
	ret = lzimg_dump_file_remote(fd, id, path, st, spec, err, sizeof(err));
	if (ret) {
		pr_err("dump: file %s: %s\n", path, err);
		return ret;
	}
	ret = keep(fd, spec->shmid, kind, spec->size, spec->page_size, false);
	if (ret) {
		lzimg_spec_free(spec);
		return ret;
	}
	return 1;
}

/* What the SysV child sent: 0, or -1 (logged) */
static int drain_children(void)
{
	struct child_msg m;
	int fd = -1, ret;

	while ((ret = lz_recv_fd(R.chan[0], &m, sizeof(m), &fd)) == 1) {
		if (fd < 0) {
			pr_err("dump: %s %#" PRIx64 " came without its descriptor\n", lzimg_kind_name(m.kind), m.shmid);
			return -1;
		}
		ret = keep(fd, m.shmid, m.kind, m.size, m.psz, true);
		close(fd);
		fd = -1;
		if (ret)
			return -1;
	}
	if (ret < 0 && errno != EAGAIN) {
		pr_perror("dump: can't receive the SysV segments' descriptors");
		return -1;
	}
	return 0;
}

int lz_remote_finish(struct lz_index_input *in)
{
	if (!R.cfg || R.chan[0] < 0)
		return 0;
	if (drain_children())
		return -1;
	in->remote = R.shmids;
	in->nr_remote = R.nr_shmids;
	in->dump_id = R.nr ? R.dump_id : NULL;
	return (int)R.nr;
}

int lz_remote_start(void)
{
	struct lz_serve_cfg sc = { .addr = opts.addr, .port = R.port };
	char err[256] = "";

	if (!R.nr)
		return 0;
	memcpy(sc.dump_id, R.dump_id, sizeof(sc.dump_id));
	sc.xport.tls = (struct lz_xport_tls){ .on = opts.tls, .cacert = opts.tls_cacert, .cacrl = opts.tls_cacrl, .cert = opts.tls_cert, .key = opts.tls_key, .verify_name = opts.tls_no_cn_verify ? NULL : opts.addr };
	sc.xport.connect_ms = LZ_XPORT_CONNECT_MS;
	sc.xport.idle_ms = R.cfg->remote_timeout_s * 1000;
	if (lz_serve_start(&sc, R.objs, R.nr, &R.server, err, sizeof(err))) {
		pr_err("dump: the source can't serve its %zu shared objects, which are not in the images: %s\n", R.nr,
		       err);
		return -1;
	}
	pr_info("dump: serving %zu shared objects to the destination on %s:%u%s\n", R.nr,
		opts.addr ? opts.addr : "*", R.port, opts.tls ? " (TLS)" : "");
	return 0;
}

static void log_session(struct lz_serve_stats *st)
{
	char *line, *save = NULL;

	for (line = strtok_r(st->log, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		pr_info("remote: %s\n", line);
	if (!st->session)
		pr_warn("remote: no destination fetched the shared objects: their content was in this dump's tasks "
			"only\n");
	else if (st->done)
		pr_info("remote: %s has every page: DONE %" PRIu64 " ms after serving began; %" PRIu64
			" requests, %" PRIu64 " pages, %" PRIu64 " bytes served, %" PRIu64 " refused\n",
			st->peer, st->done_ms, st->gets, st->pages, st->bytes, st->errors);
	else
		pr_err("remote: the session with %s ended without DONE after %" PRIu64 " requests (%" PRIu64
		       " bytes): the destination may lack pages\n",
		       st->peer, st->gets, st->bytes);
}

void lz_remote_fini(void)
{
	struct lz_serve_stats st;
	size_t i;

	if (R.server) {
		memset(&st, 0, sizeof(st));
		lz_serve_stop(R.server, LINGER_MS, &st);
		log_session(&st);
	}
	for (i = 0; i < R.nr; i++)
		close(R.objs[i].fd);
	if (R.chan[0] >= 0)
		close(R.chan[0]);
	if (R.chan[1] >= 0)
		close(R.chan[1]);
	free(R.objs);
	free(R.shmids);
	lz_held_fini();
	memset(&R, 0, sizeof(R));
	R.chan[0] = R.chan[1] = -1;
}
