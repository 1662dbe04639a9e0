// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The network page source; see remote-fetch.h.
 *
 * One thread owns the session. Each turn it sends the faults' requests
 * queued by the main thread, tops the prefetch window up, then reads one
 * response, or wakes up for a new fault request. Responses come in request
 * order (remote-proto.h): the requests in flight are a FIFO. The pages of
 * a response are written only after its digest checked out; prefetch
 * chunks are then marked FILLED and queued for the main thread, a fault's
 * pages are left to the main thread that claimed them and waits.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lzdigest.h"

#include "fill.h"
#include "remote-fetch.h"
#include "remote-proto.h"

#define CHUNK	     (2u << 20)	 /* a prefetch request: up to 2 MiB of 4K pages, or one huge page */
#define MIN_CHUNK    (64u << 10) /* ... and at least 64 KiB */
#define WINDOW	     (8u << 20)	 /* prefetch bytes in flight at most, by default */
#define MIN_WINDOW   (256u << 10)
#define START_WINDOW (1u << 20)
/* The window is what the link carries in TARGET_NS: a fault's request waits that long behind it */
#define TARGET_NS    4000000ull
#define RATE_NS	     20000000ull /* the link's rate is measured over this long */
#define MAX_INFLIGHT 64		 /* requests in flight */
#define IDLE_POLL_MS 1000	 /* with nothing in flight, a look at the connection */

/* A fault's request, on the waiting main thread's stack */
struct urgent {
	struct lz_object *o;
	uint64_t first, n;
	uint64_t sent; /* pages requested so far */
	uint64_t left; /* pages not written yet */
	uint64_t t0;
	int ret; /* 0 until done, 1 written, -1 failed */
	struct urgent *next;
};

struct inflight {
	struct lz_object *o;
	uint64_t first, n;
	uint32_t tag;
	struct urgent *u; /* NULL: a prefetch chunk */
};

struct lz_fetch {
	struct lz_objects *objs;
	struct lz_xport *x;
	uint64_t window;
	unsigned timeout_ms; /* a response that long overdue fails the session */
	pthread_t thread;
	int kick; /* eventfd: a fault's request, go or stop */
	int efd;  /* eventfd: a chunk is queued for the main thread */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a fault's request has ended */
	struct urgent *uhead, *utail;
	bool go, stop, failed, finished, broken;
	char err[512];
	struct lz_chunk *done; /* completed prefetch chunks, unbounded: the fetcher never waits for the main thread */
	size_t nr_done, cap_done;
	/* the thread's own */
	struct inflight fl[MAX_INFLIGHT];
	unsigned fl_head, fl_nr;
	uint64_t fl_bytes;	      /* prefetch bytes in flight */
	uint64_t cur_window;	      /* what fl_bytes may reach now */
	uint64_t rate;		      /* bytes/s the link carried, lately */
	uint64_t mark_ns, mark_bytes; /* the current measurement */
	uint32_t tag;
	size_t cur; /* the object the prefetch is on */
	char *buf;
	uint64_t buflen;
	struct lz_fetch_stats st; /* under lock */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void poke(int fd)
{
	uint64_t one = 1;

	/* an eventfd only refuses a write at its maximum count: it is readable then anyway */
	if (write(fd, &one, sizeof(one)) != sizeof(one))
		return;
}

static void drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return; /* EAGAIN: nothing was pending */
}

/* A prefetch chunk: a quarter of the window, whole huge pages */
static uint64_t chunk_pages(const struct lz_fetch *f, const struct lz_object *o)
{
	uint64_t b = f->cur_window / 4;

	b = b < MIN_CHUNK ? MIN_CHUNK : b > CHUNK ? CHUNK :
						    b;
	return o->psz < b ? b / o->psz : 1;
}

/* @len more bytes arrived: the link's rate, and the window it allows */
static void measure(struct lz_fetch *f, uint64_t len)
{
	uint64_t now = now_ns(), dt = now - f->mark_ns, inst, w;

	f->mark_bytes += len;
	if (dt < RATE_NS)
		return;
	inst = f->mark_bytes * 1000000000ull / dt;
	f->rate = f->rate ? (3 * f->rate + inst) / 4 : inst;
	f->mark_ns = now;
	f->mark_bytes = 0;
	w = f->rate * TARGET_NS / 1000000000ull;
	f->cur_window = w < MIN_WINDOW ? MIN_WINDOW : w > f->window ? f->window :
								      w;
}

/* Fail for good (the thread, or lz_fetch_start()): the first cause is kept */
static void fail(struct lz_fetch *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct lz_fetch *f, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&f->lock);
	if (!f->failed) {
		va_start(ap, fmt);
		vsnprintf(f->err, sizeof(f->err), fmt, ap);
		va_end(ap);
		f->failed = true;
	}
	pthread_mutex_unlock(&f->lock);
}

/* The thread after a failure: every claim given back, every waiting fault woken */
static void release_all(struct lz_fetch *f)
{
	struct urgent *u;

	for (; f->fl_nr; f->fl_head = (f->fl_head + 1) % MAX_INFLIGHT, f->fl_nr--) {
		struct inflight *e = &f->fl[f->fl_head];

		if (!e->u)
			(void)lz_object_finish_claimed(f->objs, e->o, e->first, e->n, false, false);
		else
			e->u->ret = -1;
	}
	pthread_mutex_lock(&f->lock);
	for (u = f->uhead; u; u = u->next)
		u->ret = -1;
	f->uhead = f->utail = NULL;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	poke(f->efd);
}

static int send_get(struct lz_fetch *f, struct lz_object *o, uint64_t first, uint64_t n, struct urgent *u)
{
	struct lz_rp_req q = { .type = LZ_RP_GET, .tag = ++f->tag, .shmid = o->shmid, .first = first, .count = n };
	struct inflight *e = &f->fl[(f->fl_head + f->fl_nr) % MAX_INFLIGHT];
	uint8_t b[LZ_RP_REQ_SIZE];
	char err[256];

	lz_rp_put_req(b, &q);
	if (lz_xport_send(f->x, b, sizeof(b), err, sizeof(err))) {
		fail(f, "%s", err);
		return -1;
	}
	if (!f->fl_nr) { /* the link was idle: measure from now */
		f->mark_ns = now_ns();
		f->mark_bytes = 0;
	}
	*e = (struct inflight){ .o = o, .first = first, .n = n, .tag = q.tag, .u = u };
	f->fl_nr++;
	if (!u)
		f->fl_bytes += n * o->psz;
	pthread_mutex_lock(&f->lock);
	if (!f->st.requests)
		f->st.ns_first = now_ns();
	f->st.requests++;
	f->st.fault_requests += u != NULL;
	if (f->fl_nr > f->st.max_inflight)
		f->st.max_inflight = f->fl_nr;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* The faults' requests first: each may take several GETs */
static int send_urgent(struct lz_fetch *f)
{
	struct urgent *u;
	uint64_t n;

	for (;;) {
		pthread_mutex_lock(&f->lock);
		u = f->uhead;
		pthread_mutex_unlock(&f->lock);
		if (!u || f->fl_nr == MAX_INFLIGHT)
			return 0;
		n = u->n - u->sent;
		if (n > lz_rp_max_count(u->o->psz))
			n = lz_rp_max_count(u->o->psz);
		if (send_get(f, u->o, u->first + u->sent, n, u))
			return -1;
		u->sent += n;
		if (u->sent < u->n)
			continue;
		pthread_mutex_lock(&f->lock);
		f->uhead = u->next;
		if (!f->uhead)
			f->utail = NULL;
		pthread_mutex_unlock(&f->lock);
	}
}

/* Claim the next chunk of remote object @o: after its last fault, else at its cursor */
static uint64_t claim_next(struct lz_fetch *f, struct lz_object *o, uint64_t *first)
{
	uint64_t hint = __atomic_exchange_n(&o->hint, 0, __ATOMIC_ACQ_REL), n = 0;

	if (hint)
		n = lz_object_claim(f->objs, o, hint, chunk_pages(f, o), first);
	if (!n)
		n = lz_object_claim(f->objs, o, o->next, chunk_pages(f, o), first);
	if (!n && o->next)
		n = lz_object_claim(f->objs, o, 0, chunk_pages(f, o), first); /* what a fault jumped over */
	/* the prefetch follows the application: after a fault, on from there */
	o->next = n ? *first + n : o->nr_pages;
	return n;
}

/* The next prefetch chunk: an object faulted on lately first, then object by object */
static uint64_t pick(struct lz_fetch *f, struct lz_object **op, uint64_t *first)
{
	size_t i, nr = lz_objects_count(f->objs);
	struct lz_object *o;
	uint64_t n;

	for (i = 0; i < nr; i++) {
		o = lz_objects_get(f->objs, i);
		if (o->remote && __atomic_load_n(&o->hint, __ATOMIC_ACQUIRE) && (n = claim_next(f, o, first))) {
			*op = o;
			return n;
		}
	}
	for (i = 0; i < nr; i++) {
		o = lz_objects_get(f->objs, (f->cur + i) % nr);
		if (o->remote && (n = claim_next(f, o, first))) {
			f->cur = (f->cur + i) % nr;
			*op = o;
			return n;
		}
	}
	return 0;
}

/* Prefetch requests while the window has room; *none: nothing is left to claim */
static int send_prefetch(struct lz_fetch *f, bool *none)
{
	struct lz_object *o;
	uint64_t first, n;

	*none = false;
	while (f->fl_nr < MAX_INFLIGHT && (f->fl_bytes < f->cur_window || !f->fl_nr)) {
		n = pick(f, &o, &first);
		if (!n) {
			*none = true;
			return 0;
		}
		if (send_get(f, o, first, n, NULL)) {
			(void)lz_object_finish_claimed(f->objs, o, first, n, false, false);
			return -1;
		}
	}
	return 0;
}

/* The response payload for @e: into the buffer, which grows for pages larger than a chunk */
static int recv_payload(struct lz_fetch *f, const struct inflight *e, uint64_t len)
{
	char err[256];

	if (len > f->buflen) {
		char *b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (b == MAP_FAILED) {
			fail(f, "no buffer of %" PRIu64 " bytes for the pages of %s %#" PRIx64, len, lz_obj_kind(e->o),
			     e->o->shmid);
			return -1;
		}
		if (f->buf)
			munmap(f->buf, f->buflen);
		f->buf = b;
		f->buflen = len;
	}
	if (lz_xport_recv(f->x, f->buf, len, err, sizeof(err)) == 1)
		return 0;
	fail(f, "%s", err[0] ? err : "the connection closed in the middle of a response");
	return -1;
}

/* An ERROR response: the source cannot serve pages the images say it has */
static void refused(struct lz_fetch *f, const struct inflight *e, const struct lz_rp_resp *r)
{
	char text[LZ_RP_MAX_TEXT + 1] = "", err[200];
	uint64_t len = r->len; /* at most LZ_RP_MAX_TEXT: lz_rp_check_resp() */

	if (len && lz_xport_recv(f->x, text, len, err, sizeof(err)) != 1)
		snprintf(text, sizeof(text), "(its reason was lost: %s)", err);
	text[len] = '\0';
	fail(f, "%s refused pages %" PRIu64 "+%" PRIu64 " of %s %#" PRIx64 " (%s): %s", lz_xport_peer(f->x),
	     e->first, e->n, lz_obj_kind(e->o), e->o->shmid, strerror(-r->status), text);
}

/* The next response's header, checked against the oldest request: 0, or -1 (failed) */
static int recv_header(struct lz_fetch *f, const struct inflight *e, struct lz_rp_resp *r)
{
	struct lz_rp_req q = { .type = LZ_RP_GET, .tag = e->tag, .shmid = e->o->shmid, .first = e->first, .count = e->n };
	uint8_t h[LZ_RP_RESP_SIZE];
	char err[256] = "", why[200];
	int ret;

	ret = lz_xport_recv(f->x, h, sizeof(h), err, sizeof(err));
	if (ret <= 0) {
		fail(f, "%s", ret ? err : "the dump's source closed the connection with requests in flight");
		return -1;
	}
	lz_rp_get_resp(h, r);
	if (lz_rp_check_resp(r, &q, (uint32_t)e->o->psz, why, sizeof(why))) {
		fail(f, "%s: a response out of turn: %s", lz_xport_peer(f->x), why);
		return -1;
	}
	if (r->type == LZ_RP_ERROR) {
		refused(f, e, r);
		return -1;
	}
	return 0;
}

/* The pages of @e are written: account, and hand them on */
static int complete(struct lz_fetch *f, struct inflight *e, uint64_t len)
{
	int ret = 0;

	if (!e->u)
		ret = lz_object_finish_claimed(f->objs, e->o, e->first, e->n, true, false);
	pthread_mutex_lock(&f->lock);
	f->st.pages += e->n;
	f->st.bytes += len;
	f->st.ns_end = now_ns();
	if (e->u && (e->u->left -= e->n) == 0) {
		e->u->ret = 1;
		f->st.ns_fault += f->st.ns_end - e->u->t0;
		pthread_cond_broadcast(&f->cond);
	}
	if (!e->u && f->nr_done == f->cap_done) {
		size_t cap = f->cap_done ? f->cap_done * 2 : 256;
		struct lz_chunk *c = realloc(f->done, cap * sizeof(*c));

		if (c) {
			f->done = c;
			f->cap_done = cap;
		}
	}
	/* without room the chunk is FILLED all the same: a fault maps it */
	if (!e->u && f->nr_done < f->cap_done)
		f->done[f->nr_done++] = (struct lz_chunk){ e->o, e->first, e->n };
	pthread_mutex_unlock(&f->lock);
	if (!e->u)
		poke(f->efd);
	return ret;
}

/* One response: 0, or -1 (failed) */
static int recv_one(struct lz_fetch *f)
{
	struct inflight *e = &f->fl[f->fl_head];
	struct lz_rp_resp r;

	if (recv_header(f, e, &r) || recv_payload(f, e, r.len))
		return -1;
	if (LZ_XXH3_64(f->buf, r.len) != r.digest) {
		fail(f, "%s: pages %" PRIu64 "+%" PRIu64 " of %s %#" PRIx64 " arrived damaged (digest mismatch)",
		     lz_xport_peer(f->x), e->first, e->n, lz_obj_kind(e->o), e->o->shmid);
		return -1;
	}
	if (lz_fill_put(f->objs, e->o, e->first, e->n, f->buf)) {
		fail(f, "pages %" PRIu64 "+%" PRIu64 " of %s %#" PRIx64 " could not be written", e->first, e->n,
		     lz_obj_kind(e->o), e->o->shmid);
		return -1;
	}
	f->fl_head = (f->fl_head + 1) % MAX_INFLIGHT;
	f->fl_nr--;
	if (!e->u)
		f->fl_bytes -= e->n * e->o->psz;
	measure(f, r.len);
	(void)complete(f, e, r.len);
	return 0;
}

static bool get_flag(struct lz_fetch *f, const bool *flag)
{
	bool v;

	pthread_mutex_lock(&f->lock);
	v = *flag;
	pthread_mutex_unlock(&f->lock);
	return v;
}

/* Nothing in flight: wait for work; the connection readable now means the source is gone */
static int idle(struct lz_fetch *f, bool none)
{
	char err[256] = "";
	int ret;

	pthread_mutex_lock(&f->lock);
	f->finished = none && f->go && !f->uhead;
	pthread_mutex_unlock(&f->lock);
	ret = lz_xport_wait_fd(f->x, f->kick, IDLE_POLL_MS, err, sizeof(err));
	if (ret == 2)
		drain(f->kick);
	if (ret == 1) {
		fail(f, "the dump's source %s closed the connection (or sent what no request asked for)",
		     lz_xport_peer(f->x));
		return -1;
	}
	if (ret < 0)
		fail(f, "%s", err);
	return ret < 0 ? -1 : 0;
}

/* One turn: requests out, then one response in (or a wake-up) */
static int turn(struct lz_fetch *f)
{
	char err[256] = "";
	bool none = false;
	int ret;

	if (send_urgent(f) || (get_flag(f, &f->go) && send_prefetch(f, &none)))
		return -1;
	if (!f->fl_nr)
		return idle(f, none);
	ret = lz_xport_wait_fd(f->x, f->kick, (int)f->timeout_ms, err, sizeof(err));
	if (ret == 2) {
		drain(f->kick);
		return 0;
	}
	if (ret == 1)
		return recv_one(f);
	if (ret == 0)
		fail(f, "the dump's source %s sent nothing for %u s with %u requests in flight",
		     lz_xport_peer(f->x), f->timeout_ms / 1000, f->fl_nr);
	else
		fail(f, "%s", err);
	return -1;
}

static void *fetch_thread(void *arg)
{
	struct lz_fetch *f = arg;

	while (!get_flag(f, &f->stop))
		if (turn(f) < 0)
			break;
	if (get_flag(f, &f->failed)) {
		pthread_mutex_lock(&f->lock);
		f->broken = true;
		pthread_mutex_unlock(&f->lock);
		release_all(f);
	}
	return NULL;
}

static void fetch_free(struct lz_fetch *f)
{
	if (f->kick >= 0)
		close(f->kick);
	if (f->efd >= 0)
		close(f->efd);
	if (f->buf)
		munmap(f->buf, f->buflen);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f->done);
	free(f);
}

int lz_fetch_start(struct lz_objects *objs, struct lz_xport *x, const struct lz_fetch_cfg *cfg, struct lz_fetch **out,
		   char *err, size_t errlen)
{
	struct lz_fetch *f = calloc(1, sizeof(*f));
	int ret;

	if (!f || pthread_mutex_init(&f->lock, NULL)) {
		free(f);
		snprintf(err, errlen, "no memory for the network page source");
		return -1;
	}
	if (pthread_cond_init(&f->cond, NULL)) {
		pthread_mutex_destroy(&f->lock);
		free(f);
		snprintf(err, errlen, "no memory for the network page source");
		return -1;
	}
	f->objs = objs;
	f->x = x;
	f->window = cfg->window ? cfg->window : WINDOW;
	f->cur_window = START_WINDOW < f->window ? START_WINDOW : f->window;
	f->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : LZ_XPORT_IDLE_MS;
	f->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ret = f->kick < 0 || f->efd < 0 ? errno : pthread_create(&f->thread, NULL, fetch_thread, f);
	if (ret) {
		snprintf(err, errlen, "cannot start the network page source: %s", strerror(ret));
		fetch_free(f);
		return -1;
	}
	*out = f;
	return 0;
}

static void set_flag(struct lz_fetch *f, bool *flag)
{
	pthread_mutex_lock(&f->lock);
	*flag = true;
	pthread_mutex_unlock(&f->lock);
	poke(f->kick);
}

void lz_fetch_go(struct lz_fetch *f)
{
	set_flag(f, &f->go);
}

int lz_fetch_pages(struct lz_fetch *f, struct lz_object *o, uint64_t first, uint64_t n)
{
	struct urgent u = { .o = o, .first = first, .n = n, .left = n, .t0 = now_ns() };

	if (!n)
		return 0;
	pthread_mutex_lock(&f->lock);
	if (f->failed) {
		pthread_mutex_unlock(&f->lock);
		return -1;
	}
	if (f->utail)
		f->utail->next = &u;
	else
		f->uhead = &u;
	f->utail = &u;
	f->finished = false;
	pthread_mutex_unlock(&f->lock);
	poke(f->kick);
	pthread_mutex_lock(&f->lock);
	while (!u.ret)
		pthread_cond_wait(&f->cond, &f->lock);
	pthread_mutex_unlock(&f->lock);
	return u.ret > 0 ? 0 : -1;
}

static int pop(struct lz_fetch *f, struct lz_chunk *c)
{
	int ret = 0;

	pthread_mutex_lock(&f->lock);
	if (f->nr_done) {
		*c = f->done[--f->nr_done];
		ret = 1;
	}
	pthread_mutex_unlock(&f->lock);
	return ret;
}

int lz_fetch_pop(struct lz_fetch *f, struct lz_chunk *c)
{
	if (pop(f, c))
		return 1;
	/* the wake-up read, then a last look: a chunk queued meanwhile pokes again */
	drain(f->efd);
	return pop(f, c);
}

int lz_fetch_efd(const struct lz_fetch *f)
{
	return f->efd;
}

bool lz_fetch_finished(struct lz_fetch *f)
{
	bool v;

	pthread_mutex_lock(&f->lock);
	v = f->finished && !f->nr_done && !f->uhead;
	pthread_mutex_unlock(&f->lock);
	return v;
}

bool lz_fetch_failed(struct lz_fetch *f, char *why, size_t len)
{
	bool v;

	pthread_mutex_lock(&f->lock);
	v = f->failed;
	if (v)
		snprintf(why, len, "%s", f->err);
	pthread_mutex_unlock(&f->lock);
	return v;
}

struct lz_xport *lz_fetch_stop(struct lz_fetch *f, struct lz_fetch_stats *st)
{
	struct lz_xport *x;

	if (!f)
		return NULL;
	set_flag(f, &f->stop);
	if (pthread_join(f->thread, NULL))
		return NULL; /* cannot happen for a joinable thread of ours; keep what it uses */
	x = f->broken ? NULL : f->x;
	if (f->broken)
		lz_xport_close(f->x);
	*st = f->st;
	fetch_free(f);
	return x;
}
