// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Restore side of the files lazyshm owns (hugetlbfs and tmpfs files that
 * tasks map MAP_SHARED): CRIU asks once per file for a descriptor
 * (RESTORE_REG_FILE). A named file that is still the dumped one is used as
 * it is. Otherwise the file is recreated where it was, sized, its hugepages
 * reserved, unlinked again if it was unlinked, and its content deferred to
 * the lazy-pages daemon, or restored eagerly (validated) with the reason
 * logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "criu-plugin.h"
#include "eager.h"
#include "files-restore.h"
#include "kprobe.h"
#include "log.h"
#include "lzimg.h"
#include "objects.h"
#include "offer.h"

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#define LZ_MFD_HUGE_SHIFT 26

/* The parent directory of a file and its name, split from a relative path */
struct file_loc {
	char dir[4096];
	const char *base;
	int dirfd; /* O_PATH, -1 if the directory does not exist */
};

static bool is_huge(const struct lz_obj *o)
{
	return o->kind == LZ_KIND_HUGETLB_FILE;
}

/* NULL if @st is the file that was dumped, else what differs */
static const char *identity_mismatch(const struct lz_obj *o, const struct stat *st)
{
	char boot[128];

	if (lzimg_boot_id(boot, sizeof(boot)) || !o->boot_id || strcmp(o->boot_id, boot))
		return "the machine was rebooted or is another one";
	if ((uint64_t)st->st_dev != o->dev || (uint64_t)st->st_ino != o->ino)
		return "device or inode";
	if ((uint64_t)st->st_size != o->size)
		return "size";
	if ((int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec != o->ctime_ns)
		return "change time";
	return NULL;
}

int lz_file_is_dumped_one(const struct lz_obj *o, int root, const char *path)
{
	struct stat st;

	if (o->unlinked || fstatat(root, path, &st, 0))
		return 0;
	return identity_mismatch(o, &st) == NULL;
}

/*
 * A named file that exists at restore: >= 0 a descriptor to use as it is,
 * -ENOENT to (re)create it, another negative error to fail.
 */
static int open_existing(const struct lz_restore_ctx *c, const struct lz_obj *o, int root, const char *path)
{
	const char *diff;
	struct stat st;
	int policy, fd;

	if (o->unlinked)
		return -ENOENT;
	if (fstatat(root, path, &st, 0))
		return errno == ENOENT ? -ENOENT : -errno;
	diff = identity_mismatch(o, &st);
	policy = diff ? c->cfg->files_existing : LZ_EXISTING_USE;
	if (policy == LZ_EXISTING_REFUSE) {
		pr_err("file %s exists but is not the dumped one (%s differs): remove it, or set "
		       "LAZYSHM_FILES_EXISTING=replace to recreate it from the images, or =use to keep it\n",
		       o->name, diff);
		return -EEXIST;
	}
	if (policy == LZ_EXISTING_REPLACE) {
		pr_info("file %s is not the dumped one (%s differs): replaced from the images\n", o->name, diff);
		return unlinkat(root, path, 0) ? -errno : -ENOENT;
	}
	fd = openat(root, path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (diff)
		pr_warn("file %s is not the dumped one (%s differs): used as it is (LAZYSHM_FILES_EXISTING=use)\n",
			o->name, diff);
	else
		pr_info("file %s is the dumped one (same boot, device, inode, size and change time): used as it is\n",
			o->name);
	return fd;
}

static const char *pagesize_opt(uint32_t psz, char *buf, size_t len)
{
	if (psz >= (1u << 30))
		snprintf(buf, len, "%uG", psz >> 30);
	else
		snprintf(buf, len, "%uM", psz >> 20);
	return buf;
}

/* Is the directory a mount of the kind and page size the file needs? */
static bool dir_fits(const struct lz_obj *o, int dirfd)
{
	struct statfs sfs;

	if (dirfd < 0 || fstatfs(dirfd, &sfs))
		return false;
	if (is_huge(o))
		return sfs.f_type == HUGETLBFS_MAGIC && (uint64_t)sfs.f_bsize == o->page_size;
	return sfs.f_type == TMPFS_MAGIC;
}

static int locate(struct file_loc *l, int root, const char *path)
{
	char *slash;

	snprintf(l->dir, sizeof(l->dir), "%s", path);
	slash = strrchr(l->dir, '/');
	if (slash) {
		*slash = '\0';
		l->base = path + (slash - l->dir) + 1;
	} else {
		snprintf(l->dir, sizeof(l->dir), ".");
		l->base = path;
	}
	l->dirfd = openat(root, l->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return 0;
}

/* No fitting mount: an unlinked file can live in a memfd, a named one cannot */
static int create_elsewhere(const struct lz_obj *o, const struct file_loc *l)
{
	unsigned int flags = 0;
	char ps[16];
	int fd, shift;

	if (!o->unlinked) {
		if (is_huge(o))
			pr_err("file %s was on hugetlbfs with %u kB pages; /%s is not such a mount here: "
			       "mount -t hugetlbfs -o pagesize=%s none /%s\n",
			       o->name, o->page_size >> 10, l->dir, pagesize_opt(o->page_size, ps, sizeof(ps)), l->dir);
		else
			pr_err("file %s was on tmpfs; /%s is not a tmpfs mount here: mount -t tmpfs none /%s\n", o->name,
			       l->dir, l->dir);
		return -ENOENT;
	}
	if (is_huge(o)) {
		shift = __builtin_ctz(o->page_size);
		flags = MFD_HUGETLB | ((unsigned int)shift << LZ_MFD_HUGE_SHIFT);
	}
	fd = memfd_create(l->base, flags);
	if (fd < 0) {
		pr_perror("file %s: cannot create a memfd for it", o->name);
		return -errno;
	}
	pr_info("file %s: /%s is not a %s mount here: recreated as a %s\n", o->name, l->dir,
		is_huge(o) ? "hugetlbfs" : "tmpfs", is_huge(o) ? "hugetlb memfd" : "memfd");
	return fd;
}

/* Create the file in its directory under its own name if free; *name gets the name used */
static int create_in_dir(const struct lz_obj *o, const struct file_loc *l, char *name, size_t len)
{
	int fd;

	snprintf(name, len, "%s", l->base);
	fd = openat(l->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST && o->unlinked) {
		snprintf(name, len, "%s.cr.%u.lazyshm", l->base, o->remap_id);
		fd = openat(l->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	}
	if (fd < 0) {
		pr_perror("file %s: cannot create it", o->name);
		return -errno;
	}
	return fd;
}

/* Owner, mode, size, and the hugepages: reserved by a first mapping, they stay with the inode */
static int shape(const struct lz_obj *o, int fd)
{
	void *m;

	if (fchown(fd, o->uid, o->gid) || fchmod(fd, o->mode & 07777)) {
		pr_perror("file %s: cannot restore its owner %u:%u and mode %o", o->name, o->uid, o->gid, o->mode);
		return -1;
	}
	if (ftruncate(fd, o->size)) {
		pr_perror("file %s: cannot size it to %" PRIu64 " bytes", o->name, o->size);
		return -1;
	}
	if (!is_huge(o) || !o->size)
		return 0;
	m = mmap(NULL, o->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		pr_perror("file %s needs %" PRIu64 " hugepages of %u kB, which cannot be reserved: raise "
			  "/sys/kernel/mm/hugepages/hugepages-%ukB/nr_hugepages",
			  o->name, o->nr_pages, o->page_size >> 10, o->page_size >> 10);
		return -1;
	}
	if (munmap(m, o->size)) {
		pr_perror("file %s: munmap", o->name);
		return -1;
	}
	return 0;
}

static int create_file(const struct lz_obj *o, int root, const char *path)
{
	struct file_loc l;
	char name[4096];
	int fd;

	locate(&l, root, path);
	if (!dir_fits(o, l.dirfd)) {
		fd = create_elsewhere(o, &l);
		if (fd >= 0 && shape(o, fd)) {
			close(fd);
			fd = -EIO;
		}
		goto out;
	}
	fd = create_in_dir(o, &l, name, sizeof(name));
	if (fd < 0)
		goto out;
	if (shape(o, fd)) {
		close(fd);
		fd = -EIO;
		if (unlinkat(l.dirfd, name, 0))
			pr_perror("file %s: cannot remove it after the failure", o->name);
		goto out;
	}
	if (o->unlinked && unlinkat(l.dirfd, name, 0)) {
		pr_perror("file %s: cannot unlink it again", o->name);
		close(fd);
		fd = -EIO;
	}
out:
	if (l.dirfd >= 0)
		close(l.dirfd);
	return fd;
}

/* 1 if the daemon took the content, 0 if not, -1 if its answer was lost (@why says why) */
static int try_defer(const struct lz_restore_ctx *c, const struct lz_obj *o, int fd, int flags, char *why,
		     size_t len)
{
	unsigned int oflags = 0;
	struct lz_kfeatures kf;

	if (!c->cfg->lazy) {
		snprintf(why, len, "LAZYSHM_MODE=eager");
		return 0;
	}
	if ((flags & CR_FILE_FD_REACHABLE) && !(c->cfg->fd_lazy & (1u << o->kind))) {
		snprintf(why, len, "a task holds it open, and read()/write() on the descriptor bypass userfaultfd "
				   "(LAZYSHM_FD_LAZY=%s defers it anyway)",
			 lzimg_kind_name(o->kind));
		return 0;
	}
	/* a named file's path is reachable by open(), which bypasses userfaultfd */
	if (!o->unlinked && c->cfg->files_named_eager) {
		snprintf(why, len, "any process may open a named file by its path and read it or map it anew, which "
				   "userfaultfd does not see (LAZYSHM_FILES_NAMED=lazy defers it anyway)");
		return 0;
	}
	if (o->private_mapped) {
		snprintf(why, len, "a task maps it MAP_PRIVATE, which reads the page cache without userfaults");
		return 0;
	}
	if (!(flags & CR_FILE_CAN_DEFER)) {
		snprintf(why, len, "not a --lazy-pages restore");
		return 0;
	}
	if (!o->nr_data_pages) {
		snprintf(why, len, "it has no data");
		return 0;
	}
	/* the probe says why not */
	if (lz_kprobe(&kf) == 0 &&
	    !(is_huge(o) ? lz_kprobe_lazy_hugetlb(&kf, why, len) : lz_kprobe_lazy_shmem(&kf, why, len)))
		return 0;
	if (flags & CR_FILE_FD_REACHABLE) {
		pr_warn("file %s held open by a task is deferred (LAZYSHM_FD_LAZY): read(), write() and fallocate() "
			"through the descriptor see unfilled pages until it is resident\n",
			o->name);
		oflags |= LZ_OBJ_FD_REACHABLE;
	}
	return lz_offer(fd, o->shmid, o->size, LZ_OBJ_FILE, 0, oflags, why, len);
}

int lz_restore_file(const struct lz_restore_ctx *c, uint32_t id, int root, const char *path, int flags,
		    int *out_flags)
{
	const struct lz_obj *o = c->img ? lzimg_find(c->img, LZ_FILE_SHMID(id)) : NULL;
	char why[256];
	int fd, ret;

	if (!o) {
		pr_err("file /%s: object %#x is not in the lazyshm image of this dump\n", path, id);
		return -ENOENT;
	}
	fd = open_existing(c, o, root, path);
	if (fd != -ENOENT)
		return fd;
	fd = create_file(o, root, path);
	if (fd < 0)
		return fd;
	ret = try_defer(c, o, fd, flags, why, sizeof(why));
	if (ret < 0) {
		/* the daemon may have taken it: never restore it eagerly behind its back */
		pr_err("file %s: %s\n", o->name, why);
		close(fd);
		return -EIO;
	}
	if (ret) {
		pr_info("file %s (%s, %" PRIu64 " bytes) deferred to the lazy-pages daemon\n", o->name,
			lzimg_kind_name(o->kind), o->size);
		*out_flags |= CR_FILE_DEFERRED;
		return fd;
	}
	if (o->remote) {
		pr_err("file %s cannot be restored eagerly (%s): its content is not in the images, the dump's source "
		       "serves it to a lazy restore\n",
		       o->name, why);
		close(fd);
		return -EIO;
	}
	pr_info("file %s restored eagerly: %s\n", o->name, why);
	if (o->nr_data_pages && (!(o = c->full_obj(o->shmid)) || lz_eager_restore(c->imgdir, o, fd, o->size))) {
		close(fd);
		return -EIO;
	}
	return fd;
}
