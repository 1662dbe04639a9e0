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

#include "lzdigest.h"

#include "log.h"
#include "objects.h"
#include "prefetch.h"

/* 1 MiB of 4K pages, or one huge page: the unit of fill and of CONTINUE */
#define CHUNK (1 << 20)

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
	uint64_t hint = __atomic_exchange_n(&o->hint, 0, __ATOMIC_ACQ_REL), n;

	if (hint) {
		n = lz_object_claim(p->objs, o, hint, chunk_pages(o), first);
		if (n)
			return n;
	}
	n = lz_object_claim(p->objs, o, o->next, chunk_pages(o), first);
	if (!n && o->next)
		n = lz_object_claim(p->objs, o, 0, chunk_pages(o), first); /* what a hint jumped over */
	o->next = n ? *first + n : o->nr_pages;
	return n;
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

static void *prefetch_thread(void *arg)
{
	struct lz_prefetch *p = arg;
	size_t i, nr = lz_objects_count(p->objs);
	uint64_t first, n;

	for (i = 0; i < nr && !stopping(p); i++) {
		struct lz_object *o = lz_objects_get(p->objs, i);

		while (!stopping(p) && (n = next_chunk(p, o, &first))) {
			if (p->delay_ms)
				delay(p->delay_ms);
			if (lz_object_fill_claimed(p->objs, o, first, n, p->xxh)) {
				__atomic_store_n(&p->failed, true, __ATOMIC_RELEASE);
				goto out;
			}
			queue_push(p, o, first, n);
		}
	}
out:
	__atomic_store_n(&p->finished, true, __ATOMIC_RELEASE);
	wake_main(p);
	return NULL;
}

int lz_prefetch_start(struct lz_prefetch *p, struct lz_objects *objs, unsigned delay_ms)
{
	memset(p, 0, sizeof(*p));
	p->objs = objs;
	p->delay_ms = delay_ms;
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0) {
		pr_perror("cannot set up the prefetch thread");
		return -1;
	}
	p->xxh = XXH3_createState();
	if (!p->xxh || pthread_mutex_init(&p->lock, NULL))
		goto err_efd;
	if (pthread_cond_init(&p->cond, NULL))
		goto err_lock;
	if (pthread_create(&p->thread, NULL, prefetch_thread, p)) {
		pthread_cond_destroy(&p->cond);
		goto err_lock;
	}
	p->started = true;
	return 0;
err_lock:
	pthread_mutex_destroy(&p->lock);
err_efd:
	pr_err("cannot start the prefetch thread\n");
	XXH3_freeState(p->xxh);
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
	return __atomic_load_n(&p->finished, __ATOMIC_ACQUIRE);
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
	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (pthread_join(p->thread, NULL))
		pr_err("cannot join the prefetch thread\n");
	if (read(p->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_perror("prefetch eventfd");
	close(p->efd);
	XXH3_freeState(p->xxh);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	p->started = false;
}
