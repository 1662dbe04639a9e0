// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The prefetch thread: once the restore has finished, it fills every page
 * still UNFILLED (copy from the images and digest check, the expensive
 * part), object by object, following the last fault of each object. It
 * never maps anything: each chunk it completes is queued for the daemon's
 * main thread, which maps it into every task with range CONTINUEs between
 * faults. So a fault no longer waits behind a chunk being copied, and the
 * copying runs on a CPU of its own.
 *
 * With a recorded working set (replay.c), the threads start with the
 * daemon and fill the working set of each object as soon as the restore
 * has handed it over, while the restore goes on: those chunks are not
 * queued (no task can be mapped into yet), the main thread maps every
 * FILLED page once the restore has finished, before the tasks get far.
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

/* Bytes queued before the main thread is woken: a working set's scattered
 * 4K pages are mapped in batches, not one wakeup each */
#define WAKE_BYTES (256 << 10)

/*
 * Queue a completed chunk for the main thread; waits while the queue is
 * full (having woken it). *unwoken counts the bytes queued since the last
 * wakeup: small chunks wake it once WAKE_BYTES have gathered.
 */
static void queue_push(struct lz_prefetch *p, struct lz_object *o, uint64_t first, uint64_t n, uint64_t *unwoken)
{
	pthread_mutex_lock(&p->lock);
	while (p->nr == LZ_PREFETCH_QUEUE && !p->stop) {
		pthread_mutex_unlock(&p->lock);
		wake_main(p);
		pthread_mutex_lock(&p->lock);
		if (p->nr == LZ_PREFETCH_QUEUE && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
	}
	if (!p->stop) {
		p->q[(p->head + p->nr) % LZ_PREFETCH_QUEUE] = (struct lz_chunk){ o, first, n };
		p->nr++;
	}
	pthread_mutex_unlock(&p->lock);
	*unwoken += n * o->psz;
	if (*unwoken >= WAKE_BYTES) {
		wake_main(p);
		*unwoken = 0;
	}
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

static bool restored(struct lz_prefetch *p)
{
	return __atomic_load_n(&p->restored, __ATOMIC_ACQUIRE);
}

/* Before the restore has finished: the working set of any object there is */
static uint64_t pick_early(struct lz_prefetch *p, struct lz_object **op, uint64_t *first)
{
	size_t i, nr = lz_objects_count(p->objs);
	uint64_t n;

	for (i = 0; i < nr; i++) {
		struct lz_object *o = lz_objects_get(p->objs, i);

		if (lz_object_local(o) && (n = replay_chunk(p, o, first))) {
			*op = o;
			return n;
		}
	}
	return 0;
}

/*
 * Before the restore has finished, nothing to fill: until an object comes
 * (@gen changes; UINT64_MAX: only the end of the restore), the restore
 * ends, or stop. Polled: the registry thread hands objects over
 * without a lock that the daemon's end could destroy under it.
 */
static void wait_more(struct lz_prefetch *p, uint64_t gen)
{
	struct timespec ts = { .tv_nsec = 200 * 1000 };

	while (!stopping(p) && !restored(p) && (gen == UINT64_MAX || __atomic_load_n(&p->gen, __ATOMIC_ACQUIRE) == gen))
		nanosleep(&ts, NULL);
}

/*
 * A chunk is FILLED: queue it for the main thread to map, or, before the
 * restore has finished, leave it to the main thread's look at every page
 * then. The fence pairs with lz_prefetch_restored()'s: either this thread
 * sees the restore finished, or the main thread's look sees the pages.
 */
static void publish(struct lz_prefetch *p, struct lz_object *o, uint64_t first, uint64_t n, uint64_t *unwoken)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (restored(p))
		queue_push(p, o, first, n, unwoken);
}

static uint64_t pick(struct lz_prefetch *p, size_t nr, size_t *cur, struct lz_object **op, uint64_t *first);

/*
 * The next chunk and its length, 0 when nothing is left (after the
 * restore). Before the restore has finished, only the first thread
 * fills: the restore needs a CPU too.
 */
static uint64_t next_work(struct lz_prefetch *p, size_t *cur, struct lz_object **o, uint64_t *first)
{
	uint64_t n, gen;
	size_t nr;

	while (!stopping(p) && !restored(p)) {
		gen = __atomic_load_n(&p->gen, __ATOMIC_ACQUIRE);
		n = *cur == 0 ? pick_early(p, o, first) : 0;
		if (n)
			return n;
		wait_more(p, *cur == 0 ? gen : UINT64_MAX);
	}
	nr = lz_objects_count(p->objs);
	if (stopping(p) || !nr)
		return 0;
	*cur %= nr;
	return pick(p, nr, cur, o, first);
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
 * The next chunk to fill, in this order: the recorded working set
 * (replay.c), object by object (what the tasks touched first last time
 * beats a guess from their last fault); after a task's last fault, in any
 * object; the rest, object by object. Its length, 0 when nothing is left; the object in *op.
 */
static uint64_t pick(struct lz_prefetch *p, size_t nr, size_t *cur, struct lz_object **op, uint64_t *first)
{
	struct lz_object *o;
	uint64_t n;
	size_t i;

	for (i = 0; i < nr; i++) {
		o = lz_objects_get(p->objs, i);
		if (lz_object_local(o) && (n = replay_chunk(p, o, first))) {
			*op = o;
			return n;
		}
	}
	o = hinted(p, nr);
	if (o && (n = next_chunk(p, o, first))) {
		*op = o;
		return n;
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

/*
 * Read the image ahead of a chunk that starts a new READAHEAD window: the
 * window after it, once per window (asking for pages in the page cache
 * costs a walk of them). Chunks off the sequence (a working set) read
 * their image as they fill.
 */
static void readahead(struct lz_object *o, uint64_t first, uint64_t n)
{
	uint64_t win = READAHEAD / o->psz ? READAHEAD / o->psz : 1;

	if (first % win && (first + n) / win == first / win)
		return;
	lz_fill_readahead(o, (first / win + 1) * win, win);
}

/*
 * Fill the claimed run [first, first+*n), and, once the restore is over
 * and the object's working set is out, the other UNFILLED runs of its
 * chunk-sized window, across holes and pages filled earlier (a working
 * set's): one chunk for the main thread, not one per run. *n: its length.
 */
static int fill_window(struct lz_prefetch *p, struct lz_worker *w, struct lz_object *o, uint64_t first, uint64_t *n)
{
	uint64_t end = first + *n;

	if (restored(p) && lz_replay_done(o))
		end = first + chunk_pages(o);
	return lz_object_fill_span(p->objs, o, first, n, end, &w->filler);
}

static void *prefetch_thread(void *arg)
{
	struct lz_worker *w = arg;
	struct lz_prefetch *p = w->p;
	size_t cur = w - p->w; /* each thread starts on an object of its own */
	uint64_t first, n, unwoken = 0;
	struct lz_object *o;

	while ((n = next_work(p, &cur, &o, &first))) {
		readahead(o, first, n);
		if (p->delay_ms)
			delay(p->delay_ms);
		if (fill_window(p, w, o, first, &n)) {
			__atomic_store_n(&p->failed, true, __ATOMIC_RELEASE);
			break;
		}
		publish(p, o, first, n, &unwoken);
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

static int start(struct lz_prefetch *p, struct lz_objects *objs, unsigned threads, unsigned delay_ms, bool early)
{
	unsigned i;

	memset(p, 0, sizeof(*p));
	p->objs = objs;
	p->delay_ms = delay_ms;
	p->restored = !early;
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

int lz_prefetch_start(struct lz_prefetch *p, struct lz_objects *objs, unsigned threads, unsigned delay_ms)
{
	return start(p, objs, threads, delay_ms, false);
}

int lz_prefetch_start_early(struct lz_prefetch *p, struct lz_objects *objs, unsigned threads, unsigned delay_ms)
{
	return start(p, objs, threads, delay_ms, true);
}

void lz_prefetch_added(struct lz_prefetch *p)
{
	__atomic_add_fetch(&p->gen, 1, __ATOMIC_ACQ_REL);
}

void lz_prefetch_restored(struct lz_prefetch *p)
{
	__atomic_store_n(&p->restored, true, __ATOMIC_SEQ_CST);
	/* pairs with publish(): the caller's look at the pages comes after */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
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
