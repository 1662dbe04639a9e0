// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The destination's session with the dump's source; see remote-dest.h.
 * CRIU's options say where the source is (--address, --port: its page
 * server, lazyshm's on the next port) and how to protect the session
 * (--tls*); the image says which dump it must be (dump_id).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cr_options.h"

#include "config.h"
#include "log.h"
#include "lzimg.h"
#include "objects.h"
#include "remote-client.h"
#include "remote-dest.h"
#include "remote-fetch.h"
#include "remote-proto.h"
#include "stats.h"

#define AROUND (64u << 10) /* a fault's request takes the next 64 KiB along (4K pages) */

static struct {
	struct lz_objects *objs;
	struct lz_fetch *f;
	size_t nr_remote;
	bool tried, ended, failed_logged, tls;
	char peer[64];
	char why[512]; /* why remote objects are refused */
	uint64_t t_connect_ns;
	struct lz_fetch_stats st;
} R;

static uint16_t source_port(const struct lz_config *cfg)
{
	if (cfg->remote_port)
		return cfg->remote_port;
	return opts.port && opts.port < 65535 ? opts.port + LZ_RP_PORT_OFFSET : 0;
}

static void xport_cfg(const struct lz_config *cfg, struct lz_xport_cfg *xc)
{
	memset(xc, 0, sizeof(*xc));
	xc->tls = (struct lz_xport_tls){ .on = opts.tls,
					 .cacert = opts.tls_cacert,
					 .cacrl = opts.tls_cacrl,
					 .cert = opts.tls_cert,
					 .key = opts.tls_key,
					 .verify_name = opts.tls_no_cn_verify ? NULL : opts.addr };
	xc->connect_ms = LZ_XPORT_CONNECT_MS;
	xc->idle_ms = cfg->remote_timeout_s * 1000;
	xc->cancel_fd = -1;
}

/* Connect, hello: the session, or NULL with R.why */
static struct lz_xport *open_session(const struct lz_config *cfg, const uint8_t *dump_id)
{
	uint16_t port = source_port(cfg);
	struct lz_xport_cfg xc;
	struct lz_xport *x = NULL;
	char err[256] = "";

	if (!opts.use_page_server || !opts.addr || !port) {
		snprintf(R.why, sizeof(R.why),
			 "its pages are on the dump's source, and lazy-pages has no --page-server --address --port to "
			 "reach it");
		return NULL;
	}
	xport_cfg(cfg, &xc);
	if (lz_xport_connect(opts.addr, port, &xc, &x, err, sizeof(err)) ||
	    lz_rc_hello(x, dump_id, err, sizeof(err))) {
		snprintf(R.why, sizeof(R.why), "its pages are on the dump's source, which cannot be reached: %s", err);
		lz_xport_close(x);
		return NULL;
	}
	snprintf(R.peer, sizeof(R.peer), "%s", lz_xport_peer(x));
	R.tls = lz_xport_tls(x);
	return x;
}

/* The fill engine's hook (objects.h remote_fill): a fault's pages, and the next 64 KiB with them */
static int remote_fill(struct lz_objects *t, struct lz_object *o, uint64_t first, uint64_t n)
{
	uint64_t around = AROUND / o->psz, xfirst = 0, xn = 0;
	int ret;

	if (n < around && first + n < o->nr_pages) {
		xn = lz_object_claim_in(t, o, first + n, around - n, &xfirst);
		if (xn && xfirst != first + n) { /* not contiguous: not worth a second request */
			(void)lz_object_finish_claimed(t, o, xfirst, xn, false, false);
			xn = 0;
		}
	}
	ret = lz_fetch_pages(R.f, o, first, n + xn);
	/* not the fault's own pages: noted as prefetched, and as a recent fill (pages.c drop_recent) */
	if (xn && lz_object_finish_claimed(t, o, first + n, xn, ret == 0, false))
		ret = -1;
	if (ret)
		(void)lz_dest_state(); /* the cause, before the fault's own error */
	return ret;
}

void lz_dest_init(struct lz_objects *objs, const struct lz_config *cfg)
{
	struct lz_fetch_cfg fc = { .window = (uint64_t)cfg->remote_window_mb << 20,
				   .timeout_ms = cfg->remote_timeout_s * 1000 };
	struct lz_xport *x;
	char err[256] = "";

	memset(&R, 0, sizeof(R));
	R.objs = objs;
	R.nr_remote = objs->img ? lzimg_nr_remote(objs->img) : 0;
	if (!R.nr_remote)
		return;
	R.tried = true;
	R.t_connect_ns = lz_now_ns();
	x = open_session(cfg, lzimg_dump_id(objs->img));
	if (x && lz_fetch_start(objs, x, &fc, &R.f, err, sizeof(err))) {
		snprintf(R.why, sizeof(R.why), "its pages are on the dump's source: %s", err);
		lz_xport_close(x);
	}
	R.t_connect_ns = lz_now_ns() - R.t_connect_ns;
	if (!R.f) {
		pr_err("remote: %zu object(s) of the images are on the dump's source: %s\n", R.nr_remote, R.why);
		return;
	}
	objs->remote_fill = remote_fill;
	pr_info("remote: %zu object(s) fetched from the dump's source %s%s\n", R.nr_remote, R.peer,
		R.tls ? " (TLS)" : "");
}

const char *lz_dest_refuse(uint64_t shmid)
{
	const struct lz_obj *o = R.objs && R.objs->img ? lzimg_find(R.objs->img, shmid) : NULL;

	if (!o || !o->remote || R.f)
		return NULL;
	return R.why;
}

void lz_dest_go(void)
{
	if (R.f)
		lz_fetch_go(R.f);
}

int lz_dest_drain(int (*map)(struct lz_object *o, uint64_t first, uint64_t n))
{
	struct lz_chunk c;

	while (R.f && lz_fetch_pop(R.f, &c))
		if (map(c.obj, c.first, c.n))
			return -1;
	return 0;
}

int lz_dest_efd(void)
{
	return R.f ? lz_fetch_efd(R.f) : -1;
}

int lz_dest_state(void)
{
	char why[512];

	if (!R.f)
		return 1; /* nothing remote was taken: init refused them */
	if (lz_fetch_failed(R.f, why, sizeof(why))) {
		if (!R.failed_logged)
			pr_err("remote: the pages of the dump's source cannot be had any more: %s: stopping the restored "
			       "tree, which must not run on missing pages\n",
			       why);
		R.failed_logged = true;
		return -1;
	}
	return lz_fetch_finished(R.f) ? 1 : 0;
}

static double ms(uint64_t ns)
{
	return ns / 1e6;
}

void lz_dest_end(bool done)
{
	struct lz_xport *x;
	char err[256] = "";

	if (!R.f || R.ended)
		return;
	R.ended = true;
	if (!done)
		(void)lz_dest_state(); /* a failure's cause, if it was the fetcher's */
	x = lz_fetch_stop(R.f, &R.st);
	R.f = NULL;
	if (x && lz_rc_end(x, done, err, sizeof(err)))
		pr_warn("remote: could not tell the dump's source that the restore %s: %s\n",
			done ? "has every page" : "failed", err);
	else if (x)
		pr_info("remote: told the dump's source %s: %s\n", R.peer, done ? "DONE" : "FAIL");
	lz_xport_close(x);
	pr_info("remote: %" PRIu64 " requests (%" PRIu64 " for faults, %.3f ms each on average), %" PRIu64
		" pages, %" PRIu64 " bytes in %.1f ms; up to %" PRIu64 " requests in flight\n",
		R.st.requests, R.st.fault_requests, R.st.fault_requests ? ms(R.st.ns_fault) / R.st.fault_requests : 0.0,
		R.st.pages, R.st.bytes, R.st.ns_end > R.st.ns_first ? ms(R.st.ns_end - R.st.ns_first) : 0.0,
		R.st.max_inflight);
}

void lz_dest_json(FILE *f)
{
	if (!R.tried)
		return;
	fprintf(f,
		"  \"remote\": {\"source\": \"%s\", \"tls\": %s, \"objects\": %zu, \"connect_ms\": %.3f, \"requests\": "
		"%" PRIu64 ", \"fault_requests\": %" PRIu64 ", \"fault_request_ms_avg\": %.3f, \"pages\": %" PRIu64
		", \"bytes\": %" PRIu64 ", \"transfer_ms\": %.3f, \"max_inflight\": %" PRIu64 "},\n",
		R.peer, R.tls ? "true" : "false", R.nr_remote, ms(R.t_connect_ns), R.st.requests, R.st.fault_requests,
		R.st.fault_requests ? ms(R.st.ns_fault) / R.st.fault_requests : 0.0, R.st.pages, R.st.bytes,
		R.st.ns_end > R.st.ns_first ? ms(R.st.ns_end - R.st.ns_first) : 0.0, R.st.max_inflight);
}
