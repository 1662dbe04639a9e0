// SPDX-License-Identifier: GPL-2.0
/*
 * actor.c: threads that touch registered memory, so that the main thread
 * can play the fault handler and every wait stays bounded.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"

int actor_read(struct actor *a)
{
	volatile unsigned char *p;
	int pg, s;

	for (pg = 0; pg < a->npages; pg++) {
		p = (volatile unsigned char *)a->addr + (size_t)pg * a->page;
		for (s = 0; s < NR_SPOTS; s++)
			a->got[pg][s] = p[spot_off(a->page, s)];
	}
	return 0;
}

/* Write a->val to the first byte of each page. */
int actor_write(struct actor *a)
{
	int pg;

	for (pg = 0; pg < a->npages; pg++)
		((volatile char *)a->addr)[(size_t)pg * a->page] = a->val;
	return 0;
}

int actor_madvise(struct actor *a)
{
	return madvise(a->addr, a->page * a->npages, a->advice) < 0 ? -errno :
								      0;
}

/*
 * Fork; the child reads the page and exits 0 when it holds page a->pg's
 * pattern for a->seed, 1 otherwise. The parent stores the child's pid.
 */
int actor_fork(struct actor *a)
{
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		a->npages = 1;
		(void)actor_read(a); /* cannot fail */
		_exit(page_is(a->got[0], a->seed, a->pg) ? 0 : 1);
	}
	a->pid = pid;
	return 0;
}

static void *actor_main(void *arg)
{
	struct actor *a = arg;

	a->ret = a->fn(a);
	return NULL;
}

int actor_start(struct actor *a, int (*fn)(struct actor *), char *addr,
		size_t page, int npages)
{
	int ret;

	a->fn = fn;
	a->addr = addr;
	a->page = page;
	a->npages = npages;
	a->ret = -EINPROGRESS;
	a->joined = false;
	memset(a->got, 0xee, sizeof(a->got));
	ret = pthread_create(&a->th, NULL, actor_main, a);
	if (ret)
		return -ret;
	a->started = true;
	return 0;
}

/* Whether the actor finished (and was joined) within @ms. */
bool actor_wait(struct actor *a, int ms)
{
	struct timespec ts;

	if (!a->started || a->joined)
		return true;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return false;
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	if (pthread_timedjoin_np(a->th, NULL, &ts))
		return false;
	a->joined = true;
	a->started = false;
	return true;
}

/*
 * Join an actor at the end of a case. Close the uffds first: that releases
 * a thread blocked in a fault. One that still does not finish leaves
 * memory we cannot unmap safely, so the suite stops.
 */
void actor_reap(struct actor *a)
{
	if (actor_wait(a, TIMEOUT_MS))
		return;
	fprintf(stderr, "fatal: actor thread stuck after its uffd closed\n");
	exit(2);
}

int start_read(struct tctx *c, struct actor *a, struct region *r, int pg,
	       int npages)
{
	a->pg = pg;
	return actor_start(a, actor_read, r->map + (size_t)pg * r->page,
			   r->page, npages);
}
