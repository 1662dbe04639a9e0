// SPDX-License-Identifier: GPL-2.0
/* util.c: patterns, uffd ioctls and bounded waits for the conformance suite. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "conf.h"

uint64_t feat_resolve(const struct target *t, uint64_t f)
{
	uint64_t out = f & ~(FEAT_MINOR | FEAT_MISSING);

	if (f & FEAT_MINOR)
		out |= t->hugetlb ? UFFD_FEATURE_MINOR_HUGETLBFS :
				    UFFD_FEATURE_MINOR_SHMEM;
	if (f & FEAT_MISSING)
		out |= t->hugetlb ? UFFD_FEATURE_MISSING_HUGETLBFS :
				    UFFD_FEATURE_MISSING_SHMEM;
	return out;
}

/* Name of the lowest bit of @missing. */
const char *feat_missing_name(uint64_t missing)
{
	const char *name = lz_kfeature_name(__builtin_ctzll(missing));

	return name ? name : "?";
}

/* Never zero, different per seed, page and spot. */
unsigned char pat(unsigned char seed, int page, int spot)
{
	return (unsigned char)(seed * 7 + page * 13 + spot * 3) | 0x81;
}

size_t spot_off(size_t page, int spot)
{
	return spot == 0 ? 0 : spot == 1 ? page / 2 :
					   page - 1;
}

/* Write page @pg's pattern through @base (an unregistered mapping). */
void fill_page(char *base, size_t page, int pg, unsigned char seed)
{
	volatile char *p = base + (size_t)pg * page;
	int s;

	for (s = 0; s < NR_SPOTS; s++)
		p[spot_off(page, s)] = pat(seed, pg, s);
}

bool page_is(const unsigned char *got, unsigned char seed, int pg)
{
	int s;

	for (s = 0; s < NR_SPOTS; s++)
		if (got[s] != pat(seed, pg, s))
			return false;
	return true;
}

bool page_zero(const unsigned char *got)
{
	return !got[0] && !got[1] && !got[2];
}

int uffd_new(uint64_t features)
{
	int fd, ret;

	fd = lz_kprobe_open_uffd(O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fd;
	ret = lz_kprobe_uffd_api(fd, features, NULL, NULL);
	if (ret < 0) {
		close_fd(&fd);
		return ret;
	}
	return fd;
}

int uffd_reg(int fd, void *addr, size_t len, uint64_t mode)
{
	struct uffdio_register r = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = mode,
	};

	return ioctl(fd, UFFDIO_REGISTER, &r) < 0 ? -errno : 0;
}

int uffd_cont(int fd, void *addr, size_t len, uint64_t mode, int64_t *mapped)
{
	struct uffdio_continue uc = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = mode,
	};
	int ret;

	ret = ioctl(fd, UFFDIO_CONTINUE, &uc) < 0 ? -errno : 0;
	if (mapped)
		*mapped = uc.mapped;
	return ret;
}

int uffd_wake(int fd, void *addr, size_t len)
{
	struct uffdio_range r = { .start = (uintptr_t)addr, .len = len };

	return ioctl(fd, UFFDIO_WAKE, &r) < 0 ? -errno : 0;
}

int uffd_wp(int fd, void *addr, size_t len, bool protect)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(fd, UFFDIO_WRITEPROTECT, &wp) < 0 ? -errno : 0;
}

/* Read one message within @ms: 0, -ETIMEDOUT or -errno. */
int wait_msg(int fd, int ms, struct uffd_msg *m)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int ret;

	ret = poll(&p, 1, ms);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return -ETIMEDOUT;
	n = read(fd, m, sizeof(*m));
	if (n < 0)
		return -errno;
	return n == sizeof(*m) ? 0 : -EIO;
}

static void describe(char *buf, size_t len, const struct uffd_msg *m)
{
	if (m->event == UFFD_EVENT_PAGEFAULT)
		snprintf(buf, len, "pagefault flags 0x%llx at 0x%llx",
			 (unsigned long long)m->arg.pagefault.flags,
			 (unsigned long long)m->arg.pagefault.address);
	else
		snprintf(buf, len, "event 0x%x", m->event);
}

/*
 * Expect a page fault at @addr whose MINOR/WP/WRITE flags are exactly
 * @flags. 0, or -1 with the reason in c->why.
 */
int expect_pf(struct tctx *c, int fd, void *addr, uint64_t flags)
{
	const uint64_t mask = UFFD_PAGEFAULT_FLAG_MINOR |
			      UFFD_PAGEFAULT_FLAG_WP | UFFD_PAGEFAULT_FLAG_WRITE;
	struct uffd_msg m;
	char d[96];
	int ret;

	ret = wait_msg(fd, TIMEOUT_MS, &m);
	if (ret < 0) {
		snprintf(c->why, sizeof(c->why), "no fault at %p: %s", addr,
			 ret == -ETIMEDOUT ? "timeout" : strerror(-ret));
		return -1;
	}
	describe(d, sizeof(d), &m);
	if (m.event != UFFD_EVENT_PAGEFAULT ||
	    m.arg.pagefault.address != (uintptr_t)addr ||
	    (m.arg.pagefault.flags & mask) != flags) {
		snprintf(c->why, sizeof(c->why),
			 "expected pagefault flags 0x%llx at %p, got %s",
			 (unsigned long long)flags, addr, d);
		return -1;
	}
	return 0;
}

/* Expect a non-cooperative event (REMOVE: range [start, start+len)). */
int expect_event(struct tctx *c, int fd, int event, void *start, size_t len)
{
	struct uffd_msg m;
	char d[96];
	int ret;

	ret = wait_msg(fd, TIMEOUT_MS, &m);
	if (ret < 0) {
		snprintf(c->why, sizeof(c->why), "no event 0x%x: %s", event,
			 ret == -ETIMEDOUT ? "timeout" : strerror(-ret));
		return -1;
	}
	describe(d, sizeof(d), &m);
	if (m.event != event) {
		snprintf(c->why, sizeof(c->why), "expected event 0x%x, got %s",
			 event, d);
		return -1;
	}
	if (event == UFFD_EVENT_REMOVE &&
	    (m.arg.remove.start != (uintptr_t)start ||
	     m.arg.remove.end != (uintptr_t)start + len)) {
		snprintf(c->why, sizeof(c->why),
			 "REMOVE [0x%llx, 0x%llx), expected [%p, +0x%zx)",
			 (unsigned long long)m.arg.remove.start,
			 (unsigned long long)m.arg.remove.end, start, len);
		return -1;
	}
	return 0;
}

/* Expect no message within @ms. */
int expect_quiet(struct tctx *c, int fd, int ms)
{
	struct uffd_msg m;
	char d[96];
	int ret;

	ret = wait_msg(fd, ms, &m);
	if (ret == -ETIMEDOUT)
		return 0;
	if (ret < 0) {
		snprintf(c->why, sizeof(c->why), "uffd read: %s",
			 strerror(-ret));
		return -1;
	}
	describe(d, sizeof(d), &m);
	snprintf(c->why, sizeof(c->why), "unexpected %s", d);
	return -1;
}

void close_fd(int *fd)
{
	if (*fd >= 0 && close(*fd) < 0)
		perror("close");
	*fd = -1;
}

/* PFN mapped at @addr (needs CAP_SYS_ADMIN), 0 when not present. */
uint64_t pagemap_pfn(void *addr)
{
	uint64_t ent = 0;
	off_t off = (uintptr_t)addr / 4096 * sizeof(ent);
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (pread(fd, &ent, sizeof(ent), off) != sizeof(ent))
		ent = 0;
	close_fd(&fd);
	if (!(ent & (1ULL << 63)))
		return 0;
	return ent & ((1ULL << 55) - 1);
}
