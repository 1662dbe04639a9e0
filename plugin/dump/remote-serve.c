// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The source's server thread; see remote-serve.h. It accepts connections
 * until one says a valid hello (a TLS failure or another dump's
 * destination is recorded and the next one accepted), then serves that one
 * session until DONE, FAIL, the peer's close, an error, or the stop.
 *
 * A GET reads the requested pages into one buffer of LZ_RP_MAX_BYTES,
 * digests and sends them; a page larger than the buffer (1G hugetlb) is
 * read twice, once for the digest and once to send, in buffer-sized
 * slices. Past the object's size a page reads as zeros.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "lzdigest.h"

#include "remote-serve.h"

#define MAX_TRIES 16 /* connections that fail before a session starts */

struct lz_server {
	struct lz_serve_cfg cfg;
	struct lz_serve_obj *objs;
	size_t nr;
	int lsk, stopfd;
	pthread_t thread;
	bool started;
	uint8_t *buf; /* LZ_RP_MAX_BYTES */
	XXH3_state_t *xxh;
	int64_t t0;
	pthread_mutex_t lock; /* st */
	struct lz_serve_stats st;
	bool finished;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void note(struct lz_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct lz_server *s, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	pthread_mutex_lock(&s->lock);
	n = strlen(s->st.log);
	if (n + 2 < sizeof(s->st.log)) {
		va_start(ap, fmt);
		vsnprintf(s->st.log + n, sizeof(s->st.log) - n - 1, fmt, ap);
		va_end(ap);
		n = strlen(s->st.log);
		s->st.log[n] = '\n';
		s->st.log[n + 1] = '\0';
	}
	pthread_mutex_unlock(&s->lock);
}

static const struct lz_serve_obj *find(const struct lz_server *s, uint64_t shmid)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (s->objs[i].shmid == shmid)
			return &s->objs[i];
	return NULL;
}

/* @len bytes of @o at @off into @dst, zeros past its end: 0 or -errno */
static int read_obj(const struct lz_serve_obj *o, uint64_t off, uint8_t *dst, size_t len)
{
	ssize_t n;

	while (len) {
		n = off < o->size ? pread(o->fd, dst, len, off) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) { /* past the end of the object */
			memset(dst, 0, len);
			return 0;
		}
		dst += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int send_resp(struct lz_xport *x, const struct lz_rp_resp *r, const void *payload, char *err, size_t errlen)
{
	uint8_t h[LZ_RP_RESP_SIZE];

	lz_rp_put_resp(h, r);
	if (lz_xport_send(x, h, sizeof(h), err, errlen))
		return -1;
	return r->len && payload ? lz_xport_send(x, payload, r->len, err, errlen) : 0;
}

static int send_error(struct lz_server *s, struct lz_xport *x, const struct lz_rp_req *q, int status, const char *text)
{
	struct lz_rp_resp r = { .type = LZ_RP_ERROR, .status = status, .tag = q->tag, .shmid = q->shmid, .first = q->first, .count = q->count };
	char err[256];

	r.len = strnlen(text, LZ_RP_MAX_TEXT);
	s->st.errors++;
	note(s, "request for shmid %#" PRIx64 " pages %" PRIu64 "+%" PRIu64 " refused: %s", q->shmid, q->first,
	     q->count, text);
	if (send_resp(x, &r, text, err, sizeof(err))) {
		note(s, "%s", err);
		return -1;
	}
	return 0;
}

/* Why @q cannot be served from @o (NULL if it can), into @why */
static const char *refuse(const struct lz_serve_obj *o, const struct lz_rp_req *q, char *why, size_t len)
{
	uint64_t nr_pages;

	if (!o) {
		snprintf(why, len, "no object %#" PRIx64 " is served by this source", q->shmid);
		return why;
	}
	nr_pages = o->size / o->page_size + (o->size % o->page_size != 0);
	if (!q->count || q->first >= nr_pages || q->count > nr_pages - q->first)
		snprintf(why, len, "pages %" PRIu64 "+%" PRIu64 " are outside the object's %" PRIu64 " pages", q->first,
			 q->count, nr_pages);
	else if (q->count > lz_rp_max_count(o->page_size))
		snprintf(why, len, "%" PRIu64 " pages of %u bytes: at most %" PRIu64 " at once", q->count, o->page_size,
			 lz_rp_max_count(o->page_size));
	else
		return NULL;
	return why;
}

/* The digest of [off, off + len) of @o, read in buffer-sized slices */
static int digest_big(struct lz_server *s, const struct lz_serve_obj *o, uint64_t off, uint64_t len, uint64_t *dg)
{
	uint64_t done, n;
	int ret;

	if (XXH3_64bits_reset(s->xxh) != XXH_OK)
		return -ENOMEM;
	for (done = 0; done < len; done += n) {
		n = len - done < LZ_RP_MAX_BYTES ? len - done : LZ_RP_MAX_BYTES;
		ret = read_obj(o, off + done, s->buf, n);
		if (ret)
			return ret;
		if (LZ_XXH3_UPDATE(s->xxh, s->buf, n) != XXH_OK)
			return -EINVAL;
	}
	*dg = XXH3_64bits_digest(s->xxh);
	return 0;
}

/* A page larger than the buffer: digest first, then send it slice by slice */
static int send_big(struct lz_server *s, struct lz_xport *x, const struct lz_serve_obj *o, struct lz_rp_resp *r,
		    char *err, size_t errlen)
{
	uint64_t off = r->first * o->page_size, done, n;
	int ret;

	ret = digest_big(s, o, off, r->len, &r->digest);
	if (ret)
		return ret;
	if (send_resp(x, r, NULL, err, errlen))
		return -EPIPE;
	for (done = 0; done < r->len; done += n) {
		n = r->len - done < LZ_RP_MAX_BYTES ? r->len - done : LZ_RP_MAX_BYTES;
		if (read_obj(o, off + done, s->buf, n)) /* the tasks are frozen: it read the first time */
			return -EPIPE;
		if (lz_xport_send(x, s->buf, n, err, errlen))
			return -EPIPE;
	}
	return 0;
}

/* 0 served (or refused), -1 the session is over */
static int serve_get(struct lz_server *s, struct lz_xport *x, const struct lz_rp_req *q)
{
	const struct lz_serve_obj *o = find(s, q->shmid);
	struct lz_rp_resp r = { .type = LZ_RP_DATA, .tag = q->tag, .shmid = q->shmid, .first = q->first, .count = q->count };
	char why[200], err[256] = "";
	int ret;

	if (refuse(o, q, why, sizeof(why)))
		return send_error(s, x, q, o ? -ERANGE : -ENOENT, why);
	r.page_size = o->page_size;
	r.len = q->count * o->page_size;
	if (r.len > LZ_RP_MAX_BYTES) {
		ret = send_big(s, x, o, &r, err, sizeof(err));
	} else {
		ret = read_obj(o, q->first * o->page_size, s->buf, r.len);
		if (!ret) {
			r.digest = LZ_XXH3_64(s->buf, r.len);
			ret = send_resp(x, &r, s->buf, err, sizeof(err)) ? -EPIPE : 0;
		}
	}
	if (ret == -EPIPE) {
		note(s, "%s", err);
		return -1;
	}
	if (ret) {
		snprintf(why, sizeof(why), "reading shmid %#" PRIx64 " failed: %s", q->shmid, strerror(-ret));
		return send_error(s, x, q, ret, why);
	}
	s->st.gets++;
	s->st.pages += q->count;
	s->st.bytes += r.len;
	return 0;
}

/* Requests until the session ends */
static void session(struct lz_server *s, struct lz_xport *x)
{
	uint8_t b[LZ_RP_REQ_SIZE];
	struct lz_rp_req q;
	char err[256] = "";
	int ret;

	for (;;) {
		ret = lz_xport_wait(x, -1, err, sizeof(err));
		if (ret > 0)
			ret = lz_xport_recv(x, b, sizeof(b), err, sizeof(err));
		if (ret <= 0) {
			note(s, "%s", ret ? err : "the destination closed the connection before DONE");
			s->st.failed = true;
			return;
		}
		lz_rp_get_req(b, &q);
		if (q.type == LZ_RP_DONE) {
			s->st.done = true;
			s->st.done_ms = now_ms() - s->t0;
			note(s, "DONE: every page is resident at the destination");
			return;
		}
		if (q.type == LZ_RP_FAIL) {
			s->st.failed = true;
			note(s, "FAIL: the destination failed");
			return;
		}
		if (q.type != LZ_RP_GET) {
			note(s, "request of unknown type %u: the session ends", q.type);
			s->st.failed = true;
			return;
		}
		if (serve_get(s, x, &q)) {
			s->st.failed = true;
			return;
		}
	}
}

static void set_session(struct lz_server *s, const char *peer)
{
	pthread_mutex_lock(&s->lock);
	s->st.session = true;
	snprintf(s->st.peer, sizeof(s->st.peer), "%s", peer);
	pthread_mutex_unlock(&s->lock);
}

/* The destination's hello, and ours: 0 the session may start, -1 not */
static int hello(struct lz_server *s, struct lz_xport *x)
{
	struct lz_rp_hello h, mine = { .magic = LZ_RP_MAGIC, .version = LZ_RP_VERSION, .role = LZ_RP_ROLE_SOURCE };
	uint8_t b[LZ_RP_HELLO_SIZE];
	char err[256] = "", why[160];
	int ret;

	memcpy(mine.dump_id, s->cfg.dump_id, LZ_RP_DUMP_ID_LEN);
	ret = lz_xport_recv(x, b, sizeof(b), err, sizeof(err));
	if (ret <= 0) {
		note(s, "%s: no hello: %s", lz_xport_peer(x), ret ? err : "it closed the connection");
		return -1;
	}
	lz_rp_get_hello(b, &h);
	mine.status = lz_rp_check_hello(&h, LZ_RP_ROLE_DEST, s->cfg.dump_id, why, sizeof(why));
	if (!mine.status) /* before our answer: a DONE may follow it at once */
		set_session(s, lz_xport_peer(x));
	lz_rp_put_hello(b, &mine);
	if (lz_xport_send(x, b, sizeof(b), err, sizeof(err))) {
		note(s, "%s", err);
		return -1;
	}
	if (mine.status)
		note(s, "%s refused: %s", lz_xport_peer(x), why);
	return mine.status ? -1 : 0;
}

static void *serve_thread(void *arg)
{
	struct lz_server *s = arg;
	struct lz_xport *x = NULL;
	char err[256] = "";
	int ret, tries = 0;

	while (!s->st.session) {
		ret = lz_xport_accept(s->lsk, &s->cfg.xport, -1, &x, err, sizeof(err));
		if (ret == -ECANCELED)
			break;
		if (ret) {
			note(s, "%s", err);
			/* a failed handshake: wait for the right peer, but not forever if we are the cause */
			if (++tries == MAX_TRIES) {
				note(s, "%d connections failed: no more are accepted", tries);
				break;
			}
			continue;
		}
		if (hello(s, x) == 0) {
			note(s, "session with %s%s", lz_xport_peer(x), lz_xport_tls(x) ? " (TLS)" : "");
			session(s, x);
		}
		lz_xport_close(x);
		x = NULL;
	}
	pthread_mutex_lock(&s->lock);
	s->finished = true;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void server_free(struct lz_server *s)
{
	if (s->lsk >= 0)
		close(s->lsk);
	if (s->stopfd >= 0)
		close(s->stopfd);
	if (s->xxh)
		XXH3_freeState(s->xxh);
	pthread_mutex_destroy(&s->lock);
	free(s->buf);
	free(s->objs);
	free(s);
}

int lz_serve_start(const struct lz_serve_cfg *cfg, const struct lz_serve_obj *objs, size_t nr, struct lz_server **out,
		   char *err, size_t errlen)
{
	struct lz_server *s = calloc(1, sizeof(*s));
	int ret;

	if (!s || pthread_mutex_init(&s->lock, NULL)) {
		free(s);
		snprintf(err, errlen, "no memory for the remote source");
		return -ENOMEM;
	}
	s->cfg = *cfg;
	s->nr = nr;
	s->lsk = -1;
	s->stopfd = eventfd(0, EFD_CLOEXEC);
	s->objs = calloc(nr + 1, sizeof(*objs));
	s->buf = malloc(LZ_RP_MAX_BYTES);
	s->xxh = XXH3_createState();
	if (s->stopfd < 0 || !s->objs || !s->buf || !s->xxh) {
		server_free(s);
		snprintf(err, errlen, "no memory or descriptors for the remote source");
		return -ENOMEM;
	}
	memcpy(s->objs, objs, nr * sizeof(*objs));
	s->cfg.xport.cancel_fd = s->stopfd;
	ret = lz_xport_listen(cfg->addr, cfg->port, err, errlen);
	if (ret >= 0) {
		s->lsk = ret;
		s->t0 = now_ms();
		ret = -pthread_create(&s->thread, NULL, serve_thread, s);
		if (ret)
			snprintf(err, errlen, "can't start the remote source's thread: %s", strerror(-ret));
	}
	if (ret) {
		server_free(s);
		return ret;
	}
	s->started = true;
	*out = s;
	return 0;
}

bool lz_serve_finished(struct lz_server *s)
{
	bool f;

	pthread_mutex_lock(&s->lock);
	f = s->finished;
	pthread_mutex_unlock(&s->lock);
	return f;
}

/* A session has started and not ended yet */
static bool in_session(struct lz_server *s)
{
	bool b;

	pthread_mutex_lock(&s->lock);
	b = s->st.session && !s->finished;
	pthread_mutex_unlock(&s->lock);
	return b;
}

void lz_serve_stop(struct lz_server *s, unsigned linger_ms, struct lz_serve_stats *st)
{
	int64_t end = now_ms() + linger_ms;
	struct timespec ts = { 0, 20 * 1000000 };
	uint64_t one = 1;
	bool joined;

	if (!s)
		return;
	/* a session under way gets @linger_ms to end by itself */
	while (in_session(s) && now_ms() < end)
		(void)nanosleep(&ts, NULL); /* an interrupted nap only shortens the wait */
	joined = write(s->stopfd, &one, sizeof(one)) == sizeof(one) && pthread_join(s->thread, NULL) == 0;
	if (!joined)
		note(s, "can't stop the remote source's thread: it is left running");
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
	if (joined) /* else the thread still uses it */
		server_free(s);
}
