// SPDX-License-Identifier: GPL-2.0
/* region.c: one fresh shared object per (case, target), mapped twice. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include "conf.h"

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif
#ifndef MFD_HUGE_1GB
#define MFD_HUGE_1GB (30U << 26)
#endif

/* The fd backing a target, -1 for anon/SysV; -errno on failure. */
static int target_fd(struct tctx *c)
{
	static unsigned int seq;
	char path[128];
	int fd;

	switch (c->t->id) {
	case T_MEMFD:
		fd = memfd_create("lz-conf", MFD_CLOEXEC);
		break;
	case T_HUGE_MEMFD:
	case T_HUGE_PRIVATE:
		fd = memfd_create("lz-conf", MFD_CLOEXEC | MFD_HUGETLB |
						     MFD_HUGE_2MB);
		break;
	case T_HUGE_1G:
		fd = memfd_create("lz-conf", MFD_CLOEXEC | MFD_HUGETLB |
						     MFD_HUGE_1GB);
		break;
	case T_HUGE_FILE:
		snprintf(path, sizeof(path), "%s/f%u", c->env->hugetlbfs_dir,
			 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 && unlink(path) < 0) {
			int err = -errno;

			close_fd(&fd);
			return err;
		}
		break;
	default:
		return -1;
	}
	return fd < 0 ? -errno : fd;
}

static int map_fd(struct tctx *c, struct region *r)
{
	int flags = c->t->id == T_HUGE_PRIVATE ? MAP_PRIVATE : MAP_SHARED;

	if (ftruncate(r->fd, r->len) < 0)
		return -errno;
	r->map = mmap(NULL, r->len, PROT_READ | PROT_WRITE, flags, r->fd, 0);
	if (r->map == MAP_FAILED)
		return -errno;
	r->alias = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			r->fd, 0);
	return r->alias == MAP_FAILED ? -errno : 0;
}

/* SysV segment attached twice, removed at once (it lives while attached). */
static int map_sysv(struct region *r, bool huge)
{
	int id, err = 0;

	id = shmget(IPC_PRIVATE, r->len, IPC_CREAT | 0600 | (huge ? SHM_HUGETLB : 0));
	if (id < 0)
		return -errno;
	r->sysv = true;
	r->map = shmat(id, NULL, 0);
	if (r->map == (void *)-1)
		err = -errno;
	else
		r->alias = shmat(id, NULL, 0);
	if (!err && r->alias == (void *)-1)
		err = -errno;
	if (shmctl(id, IPC_RMID, NULL) < 0 && !err)
		err = -errno;
	return err;
}

static int map_anon(struct region *r)
{
	r->map = mmap(NULL, r->len, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r->map == MAP_FAILED)
		return -errno;
	/* old_size 0: a second mapping of the same shmem object */
	r->alias = mremap(r->map, 0, r->len, MREMAP_MAYMOVE);
	return r->alias == MAP_FAILED ? -errno : 0;
}

static int region_try(struct tctx *c, struct region *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	r->t = c->t;
	r->page = c->t->page;
	r->npages = c->t->npages;
	r->len = r->page * r->npages;
	r->map = r->alias = MAP_FAILED;
	r->fd = target_fd(c);
	if (c->t->id == T_ANON)
		ret = map_anon(r);
	else if (c->t->id == T_SYSV || c->t->id == T_SYSV_HUGE)
		ret = map_sysv(r, c->t->id == T_SYSV_HUGE);
	else
		ret = r->fd < 0 ? r->fd : map_fd(c, r);
	if (ret < 0)
		region_destroy(r);
	return ret;
}

int region_create(struct tctx *c, struct region *r)
{
	int ret;

	ret = region_try(c, r);
	/* Someone else took the free hugepages: borrow more, once. */
	if (ret == -ENOMEM && c->t->hugetlb &&
	    hugepages_top_up(c->t->page, 2 * c->t->npages)) {
		fprintf(stderr, "note: %s: hugepage pool raided, topped up\n",
			c->t->name);
		ret = region_try(c, r);
	}
	if (ret < 0) {
		snprintf(c->why, sizeof(c->why), "creating %s region: %s",
			 c->t->name, strerror(-ret));
		return -1;
	}
	return 0;
}

static void unmap(struct region *r, char **p)
{
	int ret;

	if (*p == MAP_FAILED || *p == (void *)-1 || !*p)
		return;
	ret = r->sysv ? shmdt(*p) : munmap(*p, r->len);
	if (ret < 0)
		perror("unmap region");
	*p = MAP_FAILED;
}

void region_destroy(struct region *r)
{
	unmap(r, &r->map);
	unmap(r, &r->alias);
	close_fd(&r->fd);
}

int region_uffd(struct region *r, uint64_t features, uint64_t mode)
{
	int fd = uffd_new(features), err;

	if (fd < 0)
		return fd;
	err = uffd_reg(fd, r->map, r->len, mode);
	if (err < 0) {
		close_fd(&fd);
		return err;
	}
	return fd;
}

void case_cleanup(int *uffd, struct actor *a, struct region *r)
{
	close_fd(uffd);
	actor_reap(a);
	region_destroy(r);
}
