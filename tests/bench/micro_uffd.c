// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * micro: userfaultfd round trips, first touches and range CONTINUEs on
 * memfd objects (4K shmem and 2M hugetlb).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "uffd-compat.h"
#include "micro.h"

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21 << 26)
#endif

struct handler {
	int uffd, stopfd;
	bool spin, fill;
	char *second; /* the daemon's mapping: fills go through it */
	char *reg;    /* the registered mapping */
	uint64_t psz;
	atomic_bool stop;
	int err;
};

uint64_t mb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int mb_obj_new(struct mb_obj *o, uint64_t psz, uint64_t size)
{
	unsigned int flags = MFD_CLOEXEC | (psz > 4096 ? MFD_HUGETLB | MFD_HUGE_2MB : 0);

	memset(o, 0, sizeof(*o));
	o->psz = psz;
	o->size = size;
	o->fd = memfd_create("lzbench", flags);
	if (o->fd < 0)
		return -1;
	if (ftruncate(o->fd, size)) {
		close(o->fd);
		return -1;
	}
	return 0;
}

char *mb_obj_map(struct mb_obj *o)
{
	void *p;

	if (o->nr_maps == 2)
		return NULL;
	p = mmap(NULL, o->size, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "micro: mmap %" PRIu64 " bytes of %" PRIu64 "-byte pages: %m\n", o->size, o->psz);
		return NULL;
	}
	o->maps[o->nr_maps++] = p;
	return p;
}

void mb_obj_free(struct mb_obj *o)
{
	int i;

	for (i = 0; i < o->nr_maps; i++)
		munmap(o->maps[i], o->size);
	close(o->fd);
}

int mb_skip(const char *test, uint64_t psz)
{
	printf("{\"test\": \"%s\", \"page_size\": %" PRIu64 ", \"skipped\": \"%s\"}\n", test, psz, strerror(errno));
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void mb_print_lat(uint64_t *v, uint64_t n)
{
	uint64_t i, sum = 0;

	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		sum += v[i];
	printf("\"n\": %" PRIu64 ", \"p50_us\": %.3f, \"p99_us\": %.3f, \"mean_us\": %.3f", n, v[n / 2] / 1e3,
	       v[n * 99 / 100] / 1e3, (double)sum / n / 1e3);
}

/* O_NONBLOCK always: poll() on a blocking userfaultfd reports POLLERR */
static int uffd_open(char *reg, uint64_t len, bool missing)
{
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_MINOR_HUGETLBFS };
	struct uffdio_register r = { .range = { .start = (uint64_t)reg, .len = len },
				     .mode = UFFDIO_REGISTER_MODE_MINOR };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (missing)
		r.mode |= UFFDIO_REGISTER_MODE_MISSING;
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) || ioctl(fd, UFFDIO_REGISTER, &r)) {
		perror("micro: userfaultfd");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Resolve one fault: fill through the second mapping if asked, CONTINUE */
static int resolve(struct handler *h, struct uffd_msg *m)
{
	uint64_t addr = m->arg.pagefault.address & ~(h->psz - 1);
	struct uffdio_continue c = { .range = { .start = addr, .len = h->psz } };

	if (m->event != UFFD_EVENT_PAGEFAULT)
		return 0;
	if (h->fill)
		memset(h->second + (addr - (uint64_t)h->reg), 0x6b, h->psz);
	if (ioctl(h->uffd, UFFDIO_CONTINUE, &c) && errno != EEXIST) {
		perror("micro: UFFDIO_CONTINUE");
		return -1;
	}
	return 0;
}

static void *handler_main(void *arg)
{
	struct pollfd p[2];
	struct handler *h = arg;
	struct uffd_msg m;

	p[0] = (struct pollfd){ .fd = h->uffd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = h->stopfd, .events = POLLIN };
	while (!atomic_load(&h->stop)) {
		if (!h->spin) {
			if (poll(p, 2, -1) < 0 && errno != EINTR)
				break;
			if (p[1].revents || !(p[0].revents & POLLIN))
				continue;
		}
		if (read(h->uffd, &m, sizeof(m)) != sizeof(m)) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			break;
		}
		if (resolve(h, &m))
			break;
	}
	h->err = atomic_load(&h->stop) ? 0 : -1;
	return NULL;
}

static int touch_timed(char *reg, uint64_t psz, uint64_t n, uint64_t *lat)
{
	volatile char *p = reg;
	uint64_t i, t;

	for (i = 0; i < n; i++) {
		t = mb_now_ns();
		(void)p[i * psz];
		lat[i] = mb_now_ns() - t;
	}
	return 0;
}

static int rt_run(struct handler *h, uint64_t n, uint64_t *lat)
{
	pthread_t th;
	uint64_t one = 1;
	int ret;

	h->stopfd = eventfd(0, EFD_CLOEXEC);
	if (h->stopfd < 0 || pthread_create(&th, NULL, handler_main, h)) {
		perror("micro: handler thread");
		return -1;
	}
	touch_timed(h->reg, h->psz, n, lat);
	atomic_store(&h->stop, true);
	ret = write(h->stopfd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
	pthread_join(th, NULL);
	close(h->stopfd);
	return ret || h->err;
}

int mb_uffd_rt(uint64_t psz, bool spin, bool fill, bool quick)
{
	uint64_t n = (psz > 4096 ? 64 : 8192) >> (quick ? 1 : 0), *lat = calloc(n, sizeof(uint64_t));
	struct handler h = { .psz = psz, .spin = spin, .fill = fill };
	const char *name = fill ? "uffd_fill_rt" : "uffd_rt";
	struct mb_obj o;
	int ret = -1;

	if (!lat)
		return -1;
	if (mb_obj_new(&o, psz, n * psz)) {
		free(lat);
		return mb_skip(name, psz);
	}
	h.second = mb_obj_map(&o);
	h.reg = mb_obj_map(&o);
	if (!h.second || !h.reg)
		goto out;
	if (!fill)
		memset(h.second, 0x5a, n * psz); /* in the page cache, unmapped in reg */
	h.uffd = uffd_open(h.reg, n * psz, fill);
	if (h.uffd < 0)
		goto out;
	ret = rt_run(&h, n, lat);
	close(h.uffd);
	if (!ret) {
		printf("{\"test\": \"%s\", \"page_size\": %" PRIu64 ", \"handler\": \"%s\", ", name, psz,
		       spin ? "spin" : "poll");
		mb_print_lat(lat, n);
		printf("}\n");
	}
out:
	mb_obj_free(&o);
	free(lat);
	return ret;
}

int mb_first_touch(uint64_t psz)
{
	uint64_t n = psz > 4096 ? 64 : 8192, *lat = calloc(n, sizeof(uint64_t));
	char *a, *b;
	struct mb_obj o;

	if (!lat)
		return -1;
	if (mb_obj_new(&o, psz, n * psz)) {
		free(lat);
		return mb_skip("first_touch", psz);
	}
	a = mb_obj_map(&o);
	b = mb_obj_map(&o);
	if (a && b) {
		memset(a, 0x5a, n * psz);
		touch_timed(b, psz, n, lat);
		printf("{\"test\": \"first_touch\", \"page_size\": %" PRIu64 ", ", psz);
		mb_print_lat(lat, n);
		printf("}\n");
	}
	mb_obj_free(&o);
	free(lat);
	return a && b ? 0 : -1;
}

/* CONTINUE a cached, unmapped 256 MiB in 4 MiB ranges */
int mb_continue_bw(uint64_t psz)
{
	uint64_t size = 256ul << 20, chunk = 4ul << 20, off, t = 0;
	struct mb_obj o;
	char *a, *b;
	int uffd = -1, ret = -1;

	if (mb_obj_new(&o, psz, size))
		return mb_skip("continue_bw", psz);
	a = mb_obj_map(&o);
	b = mb_obj_map(&o);
	if (!a || !b)
		goto out;
	memset(a, 0x5a, size);
	uffd = uffd_open(b, size, true);
	if (uffd < 0)
		goto out;
	t = mb_now_ns();
	for (off = 0; off < size; off += chunk) {
		struct uffdio_continue c = { .range = { .start = (uint64_t)b + off, .len = chunk } };

		if (ioctl(uffd, UFFDIO_CONTINUE, &c)) {
			perror("micro: UFFDIO_CONTINUE range");
			goto out;
		}
	}
	t = mb_now_ns() - t;
	printf("{\"test\": \"continue_bw\", \"page_size\": %" PRIu64 ", \"chunk\": %" PRIu64
	       ", \"gbps\": %.2f, \"ns_per_page\": %.1f}\n",
	       psz, chunk, (double)size / t, (double)t / (size / psz));
	ret = 0;
out:
	if (uffd >= 0)
		close(uffd);
	mb_obj_free(&o);
	return ret;
}
