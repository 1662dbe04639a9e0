// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dump side: find every shared memory object in a CRIU image directory and
 * write lazyshm-shmem.img with one digest per page that has data (or, while
 * the dumped tasks are frozen, with the digests of CRIU's objects pending:
 * lzimg-complete.c adds them later), and with the presence records of
 * lzimg-presence.c.
 *
 * Where objects come from (CRIU 4.1.1):
 *  - memfd.img (MemfdInodeEntry): memfds, and also MAP_SHARED anon
 *    ("/dev/zero") and MAP_SHARED|MAP_HUGETLB anon ("/anon_hugepage"),
 *    which CRIU dumps through the memfd path when the kernel allows;
 *  - ipcns-shm-<id>.img (IpcShmEntry): SysV segments, shmid = desc.id;
 *  - mm-<pid>.img (VmaEntry): VMA_ANON_SHARED mappings that are neither
 *    SysV nor memfd, the pre-memfd way; size = the furthest mapped offset.
 *
 * Files on tmpfs/hugetlbfs whose content the plugin stored itself come from
 * the caller (lzimg_write_from_criu_with()); remap-fpath.img's PLUGIN remaps
 * and the mm images only tell which of them some task maps MAP_PRIVATE.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc-shm.pb-c.h"
#include "memfd.pb-c.h"
#include "mm.pb-c.h"
#include "remap-file-path.pb-c.h"

#include "lzimg-int.h"
#include "lzimg.h"

#define LZ_MAP_HUGETLB	 0x40000u
#define LZ_SHM_HUGETLB	 04000u
#define MAX_CRIU_IMG_LEN (1ULL << 32)

struct u64vec {
	uint64_t *v;
	size_t n, cap;
};

struct idx {
	struct lz_obj_spec *objs;
	size_t nr, cap;
	struct u64vec priv_file_ids; /* shmid of each MAP_PRIVATE-only file VMA */
	struct u64vec plugin_remaps; /* orig_id << 32 | remap_id of PLUGIN remaps */
	char *err;
	size_t errlen;
};

static int vec_push(struct idx *x, struct u64vec *v, uint64_t val)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		uint64_t *n = realloc(v->v, cap * sizeof(*n));

		if (!n)
			return lz_seterr(x->err, x->errlen, ENOMEM, "lazyshm index: no memory");
		v->v = n;
		v->cap = cap;
	}
	v->v[v->n++] = val;
	return 0;
}

static struct lz_obj_spec *idx_add(struct idx *x, uint64_t shmid)
{
	struct lz_obj_spec *o;

	if (x->nr == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 8;

		o = realloc(x->objs, cap * sizeof(*o));
		if (!o) {
			lz_seterr(x->err, x->errlen, ENOMEM, "lazyshm index: no memory");
			return NULL;
		}
		x->objs = o;
		x->cap = cap;
	}
	o = &x->objs[x->nr++];
	memset(o, 0, sizeof(*o));
	o->shmid = shmid;
	return o;
}

static struct lz_obj_spec *idx_find(struct idx *x, uint64_t shmid)
{
	size_t i;

	for (i = 0; i < x->nr; i++)
		if (x->objs[i].shmid == shmid)
			return &x->objs[i];
	return NULL;
}

static void idx_free(struct idx *x)
{
	size_t i;

	for (i = 0; i < x->nr; i++) {
		free((void *)x->objs[i].name);
		free((void *)x->objs[i].runs);
		free((void *)x->objs[i].digests);
	}
	free(x->objs);
	free(x->priv_file_ids.v);
	free(x->plugin_remaps.v);
}

static int set_page_size(struct idx *x, struct lz_obj_spec *o, uint32_t hflag, int huge)
{
	uint64_t ps = huge ? lz_hugetlb_flag_size(hflag) : LZIMG_MIN_PAGESZ;

	if (ps < LZIMG_MIN_PAGESZ || ps > LZIMG_MAX_PAGESZ)
		return lz_seterr(x->err, x->errlen, EINVAL, "shmid %llu: unsupported hugetlb flag %#x",
				 (unsigned long long)o->shmid, hflag);
	o->page_size = ps;
	o->hugetlb_flag = huge ? hflag : 0;
	return 0;
}

/* Everything in memfd.img is restored by CRIU's memfd path: the file kinds
 * are only for files whose content the plugin stored itself. */
static int memfd_kind(const char *name, int huge)
{
	if (!strcmp(name, "/dev/zero"))
		return LZ_KIND_ANON_SHARED;
	if (!strcmp(name, "/anon_hugepage"))
		return LZ_KIND_HUGETLB_ANON;
	return huge ? LZ_KIND_HUGETLB_MEMFD : LZ_KIND_MEMFD;
}

static int add_memfd(struct idx *x, const MemfdInodeEntry *e)
{
	int huge = e->has_hugetlb_flag && e->hugetlb_flag;
	struct lz_obj_spec *o;

	if (idx_find(x, e->shmid))
		return 0; /* one inode, several entries: already indexed */
	o = idx_add(x, e->shmid);
	if (!o)
		return -ENOMEM;
	o->kind = memfd_kind(e->name, huge);
	o->size = e->size;
	o->name = strdup(e->name);
	if (!o->name)
		return lz_seterr(x->err, x->errlen, ENOMEM, "memfd.img: no memory");
	return set_page_size(x, o, e->hugetlb_flag, huge);
}

static int add_sysv(struct idx *x, struct lz_cursor *cur, const IpcShmEntry *e)
{
	int huge = e->has_hugetlb_flag && (e->hugetlb_flag & LZ_SHM_HUGETLB);
	struct lz_obj_spec *o;
	char name[32];

	if (!(e->has_in_pagemaps && e->in_pagemaps)) /* old format: data inline */
		return lz_cursor_skip(cur, (e->size + 3) & ~3ULL, x->err, x->errlen);
	if (idx_find(x, e->desc->id))
		return lz_seterr(x->err, x->errlen, EEXIST, "%s: SysV shm id %u seen twice (several IPC namespaces?)",
				 cur->fname, e->desc->id);
	o = idx_add(x, e->desc->id);
	if (!o)
		return -ENOMEM;
	o->kind = huge ? LZ_KIND_HUGETLB_SYSV : LZ_KIND_SYSV;
	o->size = e->size;
	o->has_sysv_key = 1;
	o->sysv_key = e->desc->key;
	snprintf(name, sizeof(name), "SYSV%08x", e->desc->key);
	o->name = strdup(name);
	if (!o->name)
		return lz_seterr(x->err, x->errlen, ENOMEM, "%s: no memory", cur->fname);
	return set_page_size(x, o, e->hugetlb_flag, huge);
}

static int add_vmas(struct idx *x, const MmEntry *mm)
{
	size_t i;

	for (i = 0; i < mm->n_vmas; i++) {
		const VmaEntry *v = mm->vmas[i];
		int huge = !!(v->flags & LZ_MAP_HUGETLB);
		struct lz_obj_spec *o;
		uint64_t end;

		if ((v->status & CRIU_VMA_FILE_PRIVATE) && !(v->status & CRIU_VMA_FILE_SHARED) &&
		    vec_push(x, &x->priv_file_ids, v->shmid))
			return -ENOMEM;
		if (!(v->status & CRIU_VMA_ANON_SHARED) || (v->status & (CRIU_VMA_AREA_SYSVIPC | CRIU_VMA_AREA_MEMFD)))
			continue;
		if (v->end < v->start || v->pgoff > UINT64_MAX - (v->end - v->start))
			return lz_seterr(x->err, x->errlen, EINVAL, "mm image: bogus VMA %#llx-%#llx",
					 (unsigned long long)v->start, (unsigned long long)v->end);
		end = v->pgoff + (v->end - v->start);
		o = idx_find(x, v->shmid);
		if (!o) {
			o = idx_add(x, v->shmid);
			if (!o || !(o->name = strdup(huge ? "/anon_hugepage" : "/dev/zero")))
				return lz_seterr(x->err, x->errlen, ENOMEM, "mm image: no memory");
			o->kind = huge ? LZ_KIND_HUGETLB_ANON : LZ_KIND_ANON_SHARED;
			if (set_page_size(x, o, v->flags, huge))
				return -EINVAL;
		}
		if (end > o->size)
			o->size = end;
	}
	return 0;
}

/* remap_type PLUGIN (5) is not in CRIU 4.1.1's enum: protobuf-c keeps the
 * number as it is. */
static int add_remap(struct idx *x, const RemapFilePathEntry *e)
{
	if (!e->has_remap_type || (int)e->remap_type != LZ_CRIU_REMAP_PLUGIN)
		return 0;
	return vec_push(x, &x->plugin_remaps, (uint64_t)e->orig_id << 32 | e->remap_id);
}

static int scan_entry(struct idx *x, struct lz_cursor *cur, uint32_t magic, const uint8_t *msg, size_t mlen)
{
	int ret = 1;

	if (magic == CRIU_REMAP_FPATH_MAGIC) {
		RemapFilePathEntry *e = remap_file_path_entry__unpack(NULL, mlen, msg);

		if (e)
			ret = add_remap(x, e);
		remap_file_path_entry__free_unpacked(e, NULL);
	} else if (magic == CRIU_MEMFD_INODE_MAGIC) {
		MemfdInodeEntry *e = memfd_inode_entry__unpack(NULL, mlen, msg);

		if (e)
			ret = add_memfd(x, e);
		memfd_inode_entry__free_unpacked(e, NULL);
	} else if (magic == CRIU_IPCNS_SHM_MAGIC) {
		IpcShmEntry *e = ipc_shm_entry__unpack(NULL, mlen, msg);

		if (e)
			ret = add_sysv(x, cur, e);
		ipc_shm_entry__free_unpacked(e, NULL);
	} else {
		MmEntry *e = mm_entry__unpack(NULL, mlen, msg);

		if (e)
			ret = add_vmas(x, e);
		mm_entry__free_unpacked(e, NULL);
	}
	if (ret == 1)
		return lz_seterr(x->err, x->errlen, EINVAL, "%s: entry ending at offset %zu does not decode", cur->fname,
				 cur->pos);
	return ret;
}

/* Parse one CRIU image of entries with the given magic. */
static int scan_image(struct idx *x, int dirfd, const char *name, uint32_t magic)
{
	struct lz_cursor cur = { .fname = name };
	const uint8_t *msg;
	void *buf = NULL;
	size_t len = 0, mlen;
	int ret;

	ret = lz_read_file(dirfd, name, MAX_CRIU_IMG_LEN, &buf, &len, x->err, x->errlen);
	if (ret)
		return ret;
	cur.buf = buf;
	cur.len = len;
	ret = lz_cursor_criu_magic(&cur, magic, x->err, x->errlen);
	while (!ret) {
		ret = lz_cursor_next(&cur, LZ_MAX_CRIU_ENTRY, &msg, &mlen, x->err, x->errlen);
		if (ret <= 0)
			break;
		ret = scan_entry(x, &cur, magic, msg, mlen);
	}
	free(buf);
	return ret;
}

static int name_matches(const char *name, const char *prefix)
{
	size_t n = strlen(prefix), l = strlen(name);

	return !strncmp(name, prefix, n) && l > n + 4 && !strcmp(name + l - 4, ".img");
}

/* memfd.img, remap-fpath.img, every ipcns-shm-*.img, every mm-*.img. */
static int scan_dir(struct idx *x, int dirfd)
{
	struct dirent *de;
	DIR *d;
	int fd, ret;

	ret = scan_image(x, dirfd, "memfd.img", CRIU_MEMFD_INODE_MAGIC);
	if (ret && ret != -ENOENT)
		return ret;
	ret = scan_image(x, dirfd, "remap-fpath.img", CRIU_REMAP_FPATH_MAGIC);
	if (ret && ret != -ENOENT)
		return ret;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return lz_seterr(x->err, x->errlen, errno, "image dir: can't open: %s", strerror(errno));
	d = fdopendir(fd);
	if (!d) {
		ret = lz_seterr(x->err, x->errlen, errno, "image dir: can't list: %s", strerror(errno));
		close(fd);
		return ret;
	}
	ret = 0;
	while (!ret && (de = readdir(d))) {
		if (name_matches(de->d_name, "ipcns-shm-"))
			ret = scan_image(x, dirfd, de->d_name, CRIU_IPCNS_SHM_MAGIC);
		else if (name_matches(de->d_name, "mm-"))
			ret = scan_image(x, dirfd, de->d_name, CRIU_MM_MAGIC);
	}
	if (closedir(d) && !ret)
		ret = lz_seterr(x->err, x->errlen, errno, "image dir: closedir: %s", strerror(errno));
	return ret;
}

/* Page runs (page_size units) covered by the pagemap's data. */
static int collect_runs(struct idx *x, struct lz_obj_spec *o, struct lz_pagesrc *src)
{
	struct lz_range *runs = NULL, *r;
	uint64_t off = 0, s, e, ps = o->page_size;
	size_t n = 0, cap = 0;

	while (lz_pagesrc_next_data(src, off, &s, &e)) {
		uint64_t first = s / ps, last = (e - 1) / ps;

		if (last >= o->nr_pages) {
			free(runs);
			return lz_seterr(x->err, x->errlen, EINVAL,
					 "pagemap-shmem-%llu.img: data at offset %#llx lies beyond the object's %llu bytes",
					 (unsigned long long)o->shmid, (unsigned long long)(e - 1), (unsigned long long)o->size);
		}
		if (n && runs[n - 1].start + runs[n - 1].len >= first) {
			runs[n - 1].len = last + 1 - runs[n - 1].start;
		} else {
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				r = realloc(runs, cap * sizeof(*r));
				if (!r) {
					free(runs);
					return lz_seterr(x->err, x->errlen, ENOMEM, "no memory for page runs");
				}
				runs = r;
			}
			runs[n].start = first;
			runs[n++].len = last + 1 - first;
		}
		off = e;
	}
	o->runs = runs;
	o->nr_runs = n;
	return 0;
}

static int is_remote(const struct lz_index_input *in, uint64_t shmid)
{
	size_t i;

	for (i = 0; i < in->nr_remote; i++)
		if (in->remote[i] == shmid)
			return 1;
	return 0;
}

/* Every object the source serves must be one of CRIU's */
static int check_remote(struct idx *x, const struct lz_index_input *in)
{
	size_t i;

	for (i = 0; i < in->nr_remote; i++)
		if (!idx_find(x, in->remote[i]))
			return lz_seterr(x->err, x->errlen, ENOENT,
					 "shmid %llu is served by the dump's source but is not in CRIU's images",
					 (unsigned long long)in->remote[i]);
	return 0;
}

/*
 * Geometry from the pagemap; the digests from the pages image, unless
 * pending, or none at all for an object the dump's source serves (@remote).
 */
static int index_pages(struct idx *x, int dirfd, struct lz_obj_spec *o, int pending, int remote)
{
	struct lz_pagesrc *src = NULL;
	uint64_t *dig = NULL, total = 0;
	size_t i;
	int ret;

	o->nr_pages = o->size / o->page_size + (o->size % o->page_size != 0);
	if (remote)
		ret = lz_pagesrc_open_remote(dirfd, o->shmid, &src, x->err, x->errlen);
	else
		ret = lz_pagesrc_open(dirfd, o->shmid, &src, x->err, x->errlen);
	if (ret == -ENOENT && o->size == 0)
		return 0; /* an empty object may have no pagemap */
	if (ret)
		return ret;
	ret = collect_runs(x, o, src);
	for (i = 0; !ret && i < o->nr_runs; i++)
		total += o->runs[i].len;
	if (!ret && !(pending && total) && !remote)
		ret = lz_digest_runs(src, o, &dig, x->err, x->errlen);
	lz_pagesrc_close(src);
	if (ret)
		return ret;
	o->digests = dig;
	o->nr_digests = dig ? total : 0;
	o->digests_pending = pending && total && !remote;
	o->remote = remote;
	o->nr_data_pages = total;
	o->hint_kind = LZ_HINT_RESIDENT;
	o->hint = o->runs;
	o->nr_hint = o->nr_runs;
	return 0;
}

static int cmp_spec(const void *a, const void *b)
{
	const struct lz_obj_spec *x = a, *y = b;

	return x->shmid < y->shmid ? -1 : x->shmid > y->shmid;
}

static int cmp_u64(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* Some FileEntry of the plugin's object remap_id is mapped MAP_PRIVATE only.
 * x->priv_file_ids must be sorted. */
static int private_mapped(const struct idx *x, uint32_t remap_id)
{
	size_t i;

	for (i = 0; i < x->plugin_remaps.n; i++) {
		uint64_t orig = x->plugin_remaps.v[i] >> 32;

		if ((uint32_t)x->plugin_remaps.v[i] == remap_id &&
		    bsearch(&orig, x->priv_file_ids.v, x->priv_file_ids.n, sizeof(orig), cmp_u64))
			return 1;
	}
	return 0;
}

/* x's objects plus shallow copies of the extras, by shmid. */
static int merge_extra(struct idx *x, const struct lz_obj_spec *extra, size_t nr_extra, struct lz_obj_spec **out)
{
	struct lz_obj_spec *all;
	size_t i;

	all = calloc(x->nr + nr_extra + 1, sizeof(*all));
	if (!all)
		return lz_seterr(x->err, x->errlen, ENOMEM, "lazyshm index: no memory for %zu objects", x->nr + nr_extra);
	if (x->nr)
		memcpy(all, x->objs, x->nr * sizeof(*all));
	if (x->priv_file_ids.n)
		qsort(x->priv_file_ids.v, x->priv_file_ids.n, sizeof(uint64_t), cmp_u64);
	for (i = 0; i < nr_extra; i++) {
		struct lz_obj_spec *o = &all[x->nr + i];

		*o = extra[i];
		if (lzimg_kind_is_file(o->kind) && !o->private_mapped)
			o->private_mapped = private_mapped(x, o->remap_id);
	}
	if (x->nr + nr_extra)
		qsort(all, x->nr + nr_extra, sizeof(*all), cmp_spec);
	*out = all;
	return 0;
}

int lzimg_write_from_criu_in(int dirfd, const struct lz_index_input *in, char *err, size_t errlen)
{
	struct idx x = { .err = err, .errlen = errlen };
	struct lz_presence_build pb = { 0 };
	struct lz_obj_spec *all = NULL;
	size_t i;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	ret = scan_dir(&x, dirfd);
	if (ret)
		goto out;
	if (x.nr)
		qsort(x.objs, x.nr, sizeof(*x.objs), cmp_spec);
	ret = check_remote(&x, in);
	for (i = 0; i < x.nr && !ret; i++)
		ret = index_pages(&x, dirfd, &x.objs[i], in->digests_pending, is_remote(in, x.objs[i].shmid));
	if (!ret)
		ret = merge_extra(&x, in->extra, in->nr_extra, &all);
	if (!ret)
		ret = lz_presence_attach(all, x.nr + in->nr_extra, in->presence, in->nr_presence, &pb, err, errlen);
	if (!ret)
		ret = lzimg_write_id(dirfd, in->dump_id, all, x.nr + in->nr_extra, err, errlen);
out:
	lz_presence_free(&pb);
	free(all);
	idx_free(&x);
	return ret;
}

int lzimg_write_from_criu_with(int dirfd, const struct lz_obj_spec *extra, size_t nr_extra, char *err, size_t errlen)
{
	struct lz_index_input in = { .extra = extra, .nr_extra = nr_extra };

	return lzimg_write_from_criu_in(dirfd, &in, err, errlen);
}

int lzimg_write_from_criu(int dirfd, char *err, size_t errlen)
{
	return lzimg_write_from_criu_with(dirfd, NULL, 0, err, errlen);
}
