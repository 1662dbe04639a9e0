// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The prefetch thread: once the restore has finished, it fills every page
 * still UNFILLED (copy from the images and digest check, the expensive
 * part), object by object, following the last fault of each object. It
 * never maps anything: each chunk it completes is queued for the daemon's
 * main thread, which maps it into every task with range CONTINUEs between
 * faults. So a fault no longer waits behind a chunk being copied, and the
 * copying runs on a CPU of its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fill.h"
#include "log.h"
#include "objects.h"
#include "prefetch.h"
#include "replay.h"

/* 1 MiB of 4K pages, or one huge page: the unit of fill and of CONTINUE */
#define CHUNK (1 << 20)
/* How far ahead of the chunk being filled the image is read ahead */
#define READAHEAD (8 << 20)

static uint64_t chunk_pages(const struct lz_object *o)
{
	return o->psz < CHUNK ? CHUNK / o->psz : 1;
}

static void wake_main(struct lz_prefetch *p)
{
	uint64_t one = 1;

	if (write(p->efd, &one, sizeof(one)) != sizeof(one))
		pr_perror("cannot wake the lazy-pages main thread");
}

/* Queue a completed chunk for the main thread; waits while the queue is full */
static void queue_push(struct lz_prefetch *p, struct lz_object *o, uint64_t first, uint64_t n)
{
	pthread_mutex_lock(&p->lock);
	while (p->nr == LZ_PREFETCH_QUEUE && !p->stop)
		pthread_cond_wait(&p->cond, &p->lock);
	if (!p->stop) {
		p->q[(p->head + p->nr) % LZ_PREFETCH_QUEUE] = (struct lz_chunk){ o, first, n };
		p->nr++;
	}
	pthread_mutex_unlock(&p->lock);
	wake_main(p);
}

/* Claim the next chunk of @o: after its last fault if there was one, else from its cursor */
static uint64_t next_chunk(struct lz_prefetch *p, struct lz_object *o, uint64_t *first)
{
	uint64_t hint = __atomic_exchange_n(&o->hint, 0, __ATOMIC_ACQ_REL), n, next;

	if (hint) {
		n = lz_object_claim(p->objs, o, hint, chunk_pages(o), first);
		if (n)
			return n;
	}
	/* a cursor the threads share: a claim is atomic, the cursor only a place to start */
	next = __atomic_load_n(&o->next, __ATOMIC_ACQUIRE);
	n = lz_object_claim(p->objs, o, next, chunk_pages(o), first);
	if (!n && next)
		n = lz_object_claim(p->objs, o, 0, chunk_pages(o), first); /* what a hint jumped over */
	__atomic_store_n(&o->next, n ? *first + n : o->nr_pages, __ATOMIC_RELEASE);
	return n;
}

/* Claim the next stretch of @o's recorded working set that is still UNFILLED */
static uint64_t replay_chunk(struct lz_prefetch *p, struct lz_object *o, uint64_t *first)
{
	uint64_t at, len, n;

	while ((len = lz_replay_next(o, chunk_pages(o), &at))) {
		n = lz_object_claim_in(p->objs, o, at, len, first);
		if (n)
			return n;
	}
	return 0;
}

/* The testing knob: the claimed chunk stays FILLING for a while */
static void delay(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static bool stopping(struct lz_prefetch *p)
{
	return __atomic_load_n(&p->stop, __ATOMIC_ACQUIRE);
}

/* An object a task faulted on lately, if any: the prefetch follows the task there */
static struct lz_object *hinted(struct lz_prefetch *p, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		struct lz_object *o = lz_objects_get(p->objs, i);

		if (!lz_object_local(o))
			continue;
		if (__atomic_load_n(&o->hint, __ATOMIC_ACQUIRE))
			return o;
	}
	return NULL;
}

/*
 * The next chunk to fill, in this order: after a task's last fault, in any
 * object; the recorded working set (replay.c), object by object; the rest,
 * object by object. Its length, 0 when nothing is left; the object in *op.
 */
static uint64_t pick(struct lz_prefetch *p, size_t nr, size_t *cur, struct lz_object **op, uint64_t *first)
{
	struct lz_object *o = hinted(p, nr);
	uint64_t n;
	size_t i;

	if (o && (n = next_chunk(p, o, first))) {
		*op = o;
		return n;
	}
	for (i = 0; i < nr; i++) {
		o = lz_objects_get(p->objs, i);
		if (lz_object_local(o) && (n = replay_chunk(p, o, first))) {
			*op = o;
			return n;
		}
	}
	for (i = 0; i < nr; i++) {
		o = lz_objects_get(p->objs, (*cur + i) % nr);
		if (lz_object_local(o) && (n = next_chunk(p, o, first))) {
			*cur = (*cur + i) % nr;
			*op = o;
			return n;
		}
	}
	return 0;
}

static void *prefetch_thread(void *arg)
{
	struct lz_worker *w = arg;
	struct lz_prefetch *p = w->p;
	size_t nr = lz_objects_count(p->objs), cur = w - p->w;
	struct lz_object *o;
	uint64_t first, n;

	/* each thread starts on an object of its own */
	cur = nr ? cur % nr : 0;
	while (!stopping(p) && (n = pick(p, nr, &cur, &o, &first))) {
		lz_fill_readahead(o, first + n, READAHEAD / o->psz);
		if (p->delay_ms)
			delay(p->delay_ms);
		if (lz_object_fill_claimed(p->objs, o, first, n, &w->filler)) {
			__atomic_store_n(&p->failed, true, __ATOMIC_RELEASE);
			break;
		}
		queue_push(p, o, first, n);
	}
	__atomic_sub_fetch(&p->nr_running, 1, __ATOMIC_ACQ_REL);
	wake_main(p);
	return NULL;
}

static void stop_threads(struct lz_prefetch *p)
{
	unsigned i;

	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nr_threads; i++) {
		if (pthread_join(p->w[i].thread, NULL))
			pr_err("cannot join prefetch thread %u\n", i);
		lz_filler_fini(&p->w[i].filler);
	}
	p->nr_threads = 0;
}

int lz_prefetch_start(struct lz_prefetch *p, struct lz_objects *objs, unsigned threads, unsigned delay_ms)
{
	unsigned i;

	memset(p, 0, sizeof(*p));
	p->objs = objs;
	p->delay_ms = delay_ms;
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0) {
		pr_perror("cannot set up the prefetch threads");
		return -1;
	}
	if (pthread_mutex_init(&p->lock, NULL))
		goto err_efd;
	if (pthread_cond_init(&p->cond, NULL))
		goto err_lock;
	threads = threads < 1 ? 1 : threads > LZ_PREFETCH_MAX_THREADS ? LZ_PREFETCH_MAX_THREADS :
									threads;
	p->nr_running = threads;
	for (i = 0; i < threads; i++) {
		p->w[i].p = p;
		if (pthread_create(&p->w[i].thread, NULL, prefetch_thread, &p->w[i]))
			break;
		p->nr_threads++;
	}
	if (p->nr_threads == threads) {
		p->started = true;
		return 0;
	}
	stop_threads(p);
	pthread_cond_destroy(&p->cond);
err_lock:
	pthread_mutex_destroy(&p->lock);
err_efd:
	pr_err("cannot start the prefetch threads\n");
	close(p->efd);
	return -1;
}

int lz_prefetch_pop(struct lz_prefetch *p, struct lz_chunk *c)
{
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	if (p->nr) {
		*c = p->q[p->head];
		p->head = (p->head + 1) % LZ_PREFETCH_QUEUE;
		p->nr--;
		ret = 1;
		pthread_cond_signal(&p->cond);
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

bool lz_prefetch_finished(struct lz_prefetch *p)
{
	return __atomic_load_n(&p->nr_running, __ATOMIC_ACQUIRE) == 0;
}

bool lz_prefetch_failed(struct lz_prefetch *p)
{
	return __atomic_load_n(&p->failed, __ATOMIC_ACQUIRE);
}

void lz_prefetch_stop(struct lz_prefetch *p)
{
	uint64_t v;

	if (!p->started)
		return;
	stop_threads(p);
	if (read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_perror("prefetch eventfd");
	close(p->efd);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	p->started = false;
}
