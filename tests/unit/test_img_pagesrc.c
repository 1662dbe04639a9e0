// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * CRIU shmem page images as lz_pagesrc reads them, on synthetic images the
 * test writes itself: runs, holes, reads across run boundaries, damaged
 * pagemaps, parent chains (also across the new ids of a restore); then the
 * dump-side indexer (memfd.img, ipcns-shm-*.img) and a pages image that no
 * longer matches its digest.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc-shm.pb-c.h"
#include "memfd.pb-c.h"
#include "pagemap.pb-c.h"

#include "lzimg.h"

#include "criu-img-util.h"

#define PG	     4096ULL
#define COMMON_MAGIC 0x54564319u
#define PM_MAGIC     0x56084025u
#define PE_PARENT    1u
#define PE_PRESENT   4u

struct ent {
	uint64_t vaddr;
	uint32_t nr;
	uint32_t flags; /* ~0u: leave flags unset (old images) */
	int in_parent;
};

struct fixture {
	char dir[64];
	int dfd;
};

/* Content of byte i of a pages image. */
static uint8_t pat(uint64_t i, uint32_t seed)
{
	return (uint8_t)(i * 7 + i / 4096 + seed);
}

static int truncateat(int dfd, const char *name, off_t len)
{
	int fd = openat(dfd, name, O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = ftruncate(fd, len);
	close(fd);
	return ret;
}

static int create(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	return fd;
}

/* @parent_id: the object's id in the parent images, recorded in the head; 0: none */
static void write_pagemap_pid(int dfd, uint64_t shmid, uint32_t pages_id, uint64_t parent_id, const struct ent *e,
			      size_t n, uint32_t magic)
{
	PagemapHead h = PAGEMAP_HEAD__INIT;
	char name[64];
	size_t i;
	int fd;

	snprintf(name, sizeof(name), "pagemap-shmem-%llu.img", (unsigned long long)shmid);
	fd = create(dfd, name);
	put32(fd, COMMON_MAGIC);
	put32(fd, magic);
	h.pages_id = pages_id;
	h.has_parent_id = parent_id != 0;
	h.parent_id = parent_id;
	put_msg(fd, &h.base);
	for (i = 0; i < n; i++) {
		PagemapEntry pe = PAGEMAP_ENTRY__INIT;

		pe.vaddr = e[i].vaddr;
		pe.nr_pages = e[i].nr;
		pe.has_flags = e[i].flags != ~0u;
		pe.flags = e[i].flags;
		pe.has_in_parent = e[i].in_parent;
		pe.in_parent = e[i].in_parent;
		put_msg(fd, &pe.base);
	}
	assert_int_equal(close(fd), 0);
}

static void write_pagemap(int dfd, uint64_t shmid, uint32_t pages_id, const struct ent *e, size_t n, uint32_t magic)
{
	write_pagemap_pid(dfd, shmid, pages_id, 0, e, n, magic);
}

static void write_pages(int dfd, uint32_t pages_id, uint64_t len, uint32_t seed)
{
	uint8_t *b = malloc(len + 1);
	char name[64];
	uint64_t i;
	int fd;

	assert_non_null(b);
	for (i = 0; i < len; i++)
		b[i] = pat(i, seed);
	snprintf(name, sizeof(name), "pages-%u.img", pages_id);
	fd = create(dfd, name);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	free(b);
}

/* Object 5: data at pages 1-2, 3 (adjacent entry), 8-10, 32; size 0x22000. */
static const struct ent obj5[] = {
	{ 0x1000, 2, PE_PRESENT, 0 },
	{ 0x3000, 1, PE_PRESENT, 0 },
	{ 0x8000, 3, PE_PRESENT | 2 /* PE_LAZY */, 0 },
	{ 0x20000, 1, ~0u, 0 }, /* old image: no flags means present */
};
#define OBJ5_SIZE 0x22000ULL

/* Expected byte at object offset off of object 5. */
static uint8_t obj5_byte(uint64_t off)
{
	uint64_t foff = 0;
	size_t i;

	for (i = 0; i < sizeof(obj5) / sizeof(obj5[0]); i++) {
		uint64_t len = obj5[i].nr * PG;

		if (off >= obj5[i].vaddr && off < obj5[i].vaddr + len)
			return pat(foff + off - obj5[i].vaddr, 0);
		foff += len;
	}
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/lzpagesrc-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->dfd >= 0);
	write_pagemap(f->dfd, 5, 1, obj5, 4, PM_MAGIC);
	write_pages(f->dfd, 1, 7 * PG, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	close(f->dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct lz_pagesrc *open5(struct fixture *f)
{
	char err[LZIMG_ERRLEN] = "";
	struct lz_pagesrc *s = NULL;

	assert_int_equal(lz_pagesrc_open(f->dfd, 5, &s, err, sizeof(err)), 0);
	return s;
}

static void check_range(struct lz_pagesrc *s, uint64_t off, size_t len)
{
	uint8_t *b = malloc(len + 1);
	size_t i;

	assert_non_null(b);
	memset(b, 0xa5, len);
	assert_int_equal(lz_pagesrc_read(s, off, b, len), 0);
	for (i = 0; i < len; i++)
		if (b[i] != obj5_byte(off + i))
			fail_msg("byte %#llx: got %#x want %#x", (unsigned long long)(off + i), b[i], obj5_byte(off + i));
	free(b);
}

static void test_read_runs_holes(void **state)
{
	struct lz_pagesrc *s = open5(*state);

	assert_int_equal(lz_pagesrc_data_bytes(s), 7 * PG);
	assert_int_equal(lz_pagesrc_data_end(s), 0x21000);
	check_range(s, 0, OBJ5_SIZE + 3 * PG); /* everything, and beyond the last run */
	check_range(s, 0x1000, PG);	       /* exactly one data page */
	check_range(s, 0x0, PG);	       /* exactly one hole page */
	check_range(s, 0x2ffe, 4);	       /* across the merged adjacent entries */
	check_range(s, 0x3ff0, 0x4020);	       /* data -> hole -> data */
	check_range(s, 0xaffe, 0x15004);       /* data -> long hole -> data -> hole */
	check_range(s, 0x20001, 1);
	check_range(s, 0x5000, 0);
	lz_pagesrc_close(s);
}

static void test_read_random(void **state)
{
	struct lz_pagesrc *s = open5(*state);
	unsigned int seed = 1234;
	int i;

	for (i = 0; i < 3000; i++) {
		uint64_t off = rand_r(&seed) % (OBJ5_SIZE + PG);
		size_t len = rand_r(&seed) % (6 * PG);

		check_range(s, off, len);
	}
	lz_pagesrc_close(s);
}

static void test_has_data(void **state)
{
	struct lz_pagesrc *s = open5(*state);
	uint64_t st, en;

	assert_int_equal(lz_pagesrc_has_data(s, 0, PG), 0);
	assert_int_equal(lz_pagesrc_has_data(s, 0, PG + 1), 1);
	assert_int_equal(lz_pagesrc_has_data(s, 0xfff, 2), 1);
	assert_int_equal(lz_pagesrc_has_data(s, 0x4000, 0x4000), 0);
	assert_int_equal(lz_pagesrc_has_data(s, 0x4000, 0x4001), 1);
	assert_int_equal(lz_pagesrc_has_data(s, 0x21000, 1 << 20), 0);
	assert_int_equal(lz_pagesrc_has_data(s, 0x1000, 0), 0);
	assert_int_equal(lz_pagesrc_next_data(s, 0, &st, &en), 1);
	assert_int_equal(st, 0x1000);
	assert_int_equal(en, 0x4000); /* adjacent entries merged */
	assert_int_equal(lz_pagesrc_next_data(s, 0x9000, &st, &en), 1);
	assert_int_equal(st, 0x9000);
	assert_int_equal(en, 0xb000);
	assert_int_equal(lz_pagesrc_next_data(s, 0xb000, &st, &en), 1);
	assert_int_equal(st, 0x20000);
	assert_int_equal(lz_pagesrc_next_data(s, 0x21000, &st, &en), 0);
	lz_pagesrc_close(s);
}

/* Open must fail with code and a text containing want. */
static void expect_open_fails(struct fixture *f, uint64_t shmid, int code, const char *want)
{
	char err[LZIMG_ERRLEN] = "";
	struct lz_pagesrc *s = NULL;

	assert_int_equal(lz_pagesrc_open(f->dfd, shmid, &s, err, sizeof(err)), code);
	print_message("refused as expected: %s\n", err);
	assert_non_null(strstr(err, want));
}

static void test_damaged(void **state)
{
	struct fixture *f = *state;
	const struct ent overlap[] = { { 0x1000, 2, PE_PRESENT, 0 }, { 0x2000, 1, PE_PRESENT, 0 } };
	const struct ent parent[] = { { 0x1000, 2, PE_PARENT, 0 } };
	const struct ent oldparent[] = { { 0x1000, 2, ~0u, 1 } };
	const struct ent unaligned[] = { { 0x1001, 1, PE_PRESENT, 0 } };
	const struct ent lazy[] = { { 0x1000, 1, 2, 0 } };
	const struct ent overflow[] = { { UINT64_MAX - PG + 1, 2, PE_PRESENT, 0 } };

	expect_open_fails(f, 99, -ENOENT, "pagemap-shmem-99.img");
	write_pagemap(f->dfd, 10, 10, overlap, 1, PM_MAGIC);
	expect_open_fails(f, 10, -ENOENT, "pages-10.img"); /* pages image missing */
	write_pages(f->dfd, 10, 3 * PG, 0);
	write_pagemap(f->dfd, 10, 10, overlap, 2, PM_MAGIC);
	expect_open_fails(f, 10, -EINVAL, "overlaps");
	write_pagemap(f->dfd, 10, 10, overlap, 1, 0x12345678);
	expect_open_fails(f, 10, -EINVAL, "bad magic 0x12345678");
	write_pagemap(f->dfd, 10, 10, parent, 1, PM_MAGIC);
	expect_open_fails(f, 10, -ENOENT, "parent directory");
	write_pagemap(f->dfd, 10, 10, oldparent, 1, PM_MAGIC);
	expect_open_fails(f, 10, -ENOENT, "parent directory");
	write_pagemap(f->dfd, 10, 10, unaligned, 1, PM_MAGIC);
	expect_open_fails(f, 10, -EINVAL, "not page aligned");
	write_pagemap(f->dfd, 10, 10, lazy, 1, PM_MAGIC);
	expect_open_fails(f, 10, -EOPNOTSUPP, "not in the image");
	write_pagemap(f->dfd, 10, 10, overflow, 1, PM_MAGIC);
	expect_open_fails(f, 10, -EINVAL, "overflows");
	/* A pages image shorter than its pagemap says. */
	write_pagemap(f->dfd, 10, 10, overlap, 1, PM_MAGIC);
	write_pages(f->dfd, 10, PG + 7, 0);
	expect_open_fails(f, 10, -EINVAL, "truncated");
	/* A pagemap cut inside an entry. */
	assert_int_equal(truncateat(f->dfd, "pagemap-shmem-10.img", 20), 0);
	expect_open_fails(f, 10, -EINVAL, "truncated");
}

/* The image dir, its parent p and grandparent g (parent links), opened */
static void chain_dirs(struct fixture *f, int *pdir, int *gdir)
{
	assert_int_equal(mkdirat(f->dfd, "p", 0700), 0);
	assert_int_equal(mkdirat(f->dfd, "g", 0700), 0);
	assert_int_equal(symlinkat("p", f->dfd, "parent"), 0);
	*pdir = openat(f->dfd, "p", O_RDONLY | O_DIRECTORY);
	*gdir = openat(f->dfd, "g", O_RDONLY | O_DIRECTORY);
	assert_true(*pdir >= 0 && *gdir >= 0);
	assert_int_equal(symlinkat("../g", *pdir, "parent"), 0);
}

/*
 * An incremental dump's chain: PE_PARENT pages are read from the parent
 * directory's image of the same object (itself maybe chained), the others
 * from this one's; a parent without the data is a corrupt chain.
 */
static void test_chain(void **state)
{
	struct fixture *f = *state;
	const struct ent gp[] = { { 0, 6, PE_PRESENT, 0 } };
	const struct ent par[] = { { 0x1000, 1, PE_PRESENT, 0 }, { 0x2000, 3, PE_PARENT, 0 } };
	const struct ent child[] = { { 0, 1, PE_PRESENT, 0 }, { 0x1000, 3, PE_PARENT, 0 }, { 0x4000, 1, PE_PRESENT, 0 } };
	const struct ent bad[] = { { 0x5000, 2, PE_PARENT, 0 } };
	char err[LZIMG_ERRLEN] = "";
	struct lz_pagesrc *s = NULL;
	uint8_t b[6 * PG];
	int pdir, gdir;
	uint64_t i;

	chain_dirs(f, &pdir, &gdir);
	write_pagemap(gdir, 20, 30, gp, 1, PM_MAGIC);
	write_pages(gdir, 30, 6 * PG, 3);
	write_pagemap(pdir, 20, 31, par, 2, PM_MAGIC);
	write_pages(pdir, 31, PG, 2);
	write_pagemap(f->dfd, 20, 32, child, 3, PM_MAGIC);
	write_pages(f->dfd, 32, 2 * PG, 1);
	assert_int_equal(lz_pagesrc_open(f->dfd, 20, &s, err, sizeof(err)), 0);
	assert_int_equal(lz_pagesrc_pages_fd(s), -1);
	assert_true(lz_pagesrc_chained(s));
	assert_int_equal(lz_pagesrc_data_bytes(s), 5 * PG);
	assert_int_equal(lz_pagesrc_read(s, 0, b, sizeof(b)), 0);
	for (i = 0; i < PG; i++) {
		assert_int_equal(b[i], pat(i, 1));		     /* this image, its page 0 */
		assert_int_equal(b[PG + i], pat(i, 2));		     /* parent, its page 0 */
		assert_int_equal(b[2 * PG + i], pat(2 * PG + i, 3)); /* grandparent */
		assert_int_equal(b[3 * PG + i], pat(3 * PG + i, 3));
		assert_int_equal(b[4 * PG + i], pat(PG + i, 1)); /* this image, its page 1 */
		assert_int_equal(b[5 * PG + i], 0);		 /* a hole */
	}
	lz_pagesrc_close(s);
	write_pagemap(f->dfd, 20, 32, bad, 1, PM_MAGIC);
	assert_int_equal(lz_pagesrc_open(f->dfd, 20, &s, err, sizeof(err)), -EINVAL);
	print_message("refused as expected: %s\n", err);
	assert_non_null(strstr(err, "corrupt image chain"));
	close(pdir);
	close(gdir);
}

/*
 * A restored object gets a new id: the dump after the restore names the
 * object's id in the parent images in its pagemap head (parent_id), and
 * its PE_PARENT pages are read from that object there, not from one that
 * has the new id in the parent directory; and so on down the chain.
 */
static void test_chain_parent_id(void **state)
{
	struct fixture *f = *state;
	const struct ent gp[] = { { 0, 4, PE_PRESENT, 0 } };
	const struct ent par[] = { { 0, 2, PE_PRESENT, 0 }, { 0x2000, 2, PE_PARENT, 0 } };
	const struct ent decoy[] = { { 0, 4, PE_PRESENT, 0 } };
	const struct ent child[] = { { 0, 1, PE_PARENT, 0 }, { 0x1000, 1, PE_PRESENT, 0 }, { 0x2000, 2, PE_PARENT, 0 } };
	char err[LZIMG_ERRLEN] = "";
	struct lz_pagesrc *s = NULL;
	uint8_t b[5 * PG];
	int pdir, gdir;
	uint64_t i;

	chain_dirs(f, &pdir, &gdir);
	write_pagemap(gdir, 7, 50, gp, 1, PM_MAGIC); /* the object is 7 in g */
	write_pages(gdir, 50, 4 * PG, 3);
	write_pagemap_pid(pdir, 20, 51, 7, par, 2, PM_MAGIC); /* 20 in p, 7 in g */
	write_pages(pdir, 51, 2 * PG, 2);
	write_pagemap(pdir, 40, 52, decoy, 1, PM_MAGIC); /* another object with the child's id */
	write_pages(pdir, 52, 4 * PG, 9);
	write_pagemap_pid(f->dfd, 40, 53, 20, child, 3, PM_MAGIC); /* 40 here, 20 in p */
	write_pages(f->dfd, 53, PG, 1);
	assert_int_equal(lz_pagesrc_open(f->dfd, 40, &s, err, sizeof(err)), 0);
	assert_true(lz_pagesrc_chained(s));
	assert_int_equal(lz_pagesrc_data_bytes(s), 4 * PG);
	memset(b, 0xa5, sizeof(b));
	assert_int_equal(lz_pagesrc_read(s, 0, b, sizeof(b)), 0);
	for (i = 0; i < PG; i++) {
		assert_int_equal(b[i], pat(i, 2));		     /* p's object 20, its page 0 */
		assert_int_equal(b[PG + i], pat(i, 1));		     /* this image */
		assert_int_equal(b[2 * PG + i], pat(2 * PG + i, 3)); /* g's object 7 */
		assert_int_equal(b[3 * PG + i], pat(3 * PG + i, 3));
		assert_int_equal(b[4 * PG + i], 0); /* a hole */
	}
	lz_pagesrc_close(s);
	/* A link to an object the parent images lack names the missing image. */
	write_pagemap_pid(f->dfd, 40, 53, 99, child, 3, PM_MAGIC);
	assert_true(lz_pagesrc_open(f->dfd, 40, &s, err, sizeof(err)) < 0);
	print_message("refused as expected: %s\n", err);
	assert_non_null(strstr(err, "pagemap-shmem-99.img"));
	close(pdir);
	close(gdir);
}

/* A short read at read time (pages image shrank after open) is an error. */
static void test_shrunk_after_open(void **state)
{
	struct fixture *f = *state;
	struct lz_pagesrc *s = open5(f);
	uint8_t b[PG];
	int fd;

	fd = openat(f->dfd, "pages-1.img", O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 2 * PG), 0);
	close(fd);
	assert_int_equal(lz_pagesrc_read(s, 0x1000, b, PG), 0);
	assert_int_equal(lz_pagesrc_read(s, 0x8000, b, PG), -EIO);
	print_message("%s\n", lz_pagesrc_error(s));
	assert_non_null(strstr(lz_pagesrc_error(s), "pages-1.img"));
	lz_pagesrc_close(s);
	write_pages(f->dfd, 1, 7 * PG, 0);
}

static void write_memfd_img(int dfd)
{
	MemfdInodeEntry e[2] = { MEMFD_INODE_ENTRY__INIT, MEMFD_INODE_ENTRY__INIT };
	int fd = create(dfd, "memfd.img");

	put32(fd, COMMON_MAGIC);
	put32(fd, 0x48453499u);
	e[0].name = "smallfd";
	e[0].size = OBJ5_SIZE - 100;
	e[0].shmid = 5;
	e[0].inode_id = 1;
	e[1].name = "hugefd";
	e[1].size = 4ULL << 20;
	e[1].shmid = 6;
	e[1].inode_id = 2;
	e[1].has_hugetlb_flag = 1;
	e[1].hugetlb_flag = (21u << 26) | 4; /* MFD_HUGETLB | MFD_HUGE_2MB */
	put_msg(fd, &e[0].base);
	put_msg(fd, &e[1].base);
	assert_int_equal(close(fd), 0);
}

static void write_sysv_img(int dfd)
{
	IpcDescEntry d = IPC_DESC_ENTRY__INIT;
	IpcShmEntry e = IPC_SHM_ENTRY__INIT;
	int fd = create(dfd, "ipcns-shm-9.img");

	put32(fd, COMMON_MAGIC);
	put32(fd, 0x46283044u);
	d.key = 0xabcd;
	d.id = 7;
	e.desc = &d;
	e.size = 3 * PG;
	e.has_in_pagemaps = 1;
	e.in_pagemaps = 1;
	put_msg(fd, &e.base);
	assert_int_equal(close(fd), 0);
}

static void test_index_and_mismatch(void **state)
{
	const struct ent huge[] = { { 0x1000, 1, PE_PRESENT, 0 }, { 0x205000, 2, PE_PRESENT, 0 } };
	const struct ent sysv[] = { { 0x1000, 1, PE_PRESENT, 0 } };
	struct fixture *f = *state;
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	struct lz_pagesrc *s = NULL;
	const struct lz_obj *o;
	uint64_t d, actual;
	uint8_t *page;
	int fd;

	write_memfd_img(f->dfd);
	write_sysv_img(f->dfd);
	write_pagemap(f->dfd, 6, 2, huge, 2, PM_MAGIC);
	write_pages(f->dfd, 2, 3 * PG, 1);
	write_pagemap(f->dfd, 7, 3, sysv, 1, PM_MAGIC);
	write_pages(f->dfd, 3, PG, 2);
	assert_int_equal(lzimg_write_from_criu(f->dfd, err, sizeof(err)), 0);
	assert_int_equal(lzimg_load(f->dfd, &img, err, sizeof(err)), 0);
	assert_int_equal(lzimg_nr_objs(img), 3);

	o = lzimg_find(img, 5);
	assert_int_equal(o->kind, LZ_KIND_MEMFD);
	assert_int_equal(o->nr_pages, 34);
	assert_int_equal(o->nr_data_pages, 7);
	assert_int_equal(o->nr_runs, 3); /* 1-3, 8-10, 32 */
	assert_int_equal(o->hint_kind, LZ_HINT_RESIDENT);
	o = lzimg_find(img, 7);
	assert_int_equal(o->kind, LZ_KIND_SYSV);
	assert_string_equal(o->name, "SYSV0000abcd");
	assert_int_equal(o->sysv_key, 0xabcd);
	assert_int_equal(o->nr_data_pages, 1);

	/* Hugetlb: 4K data inside both 2M pages; the digest covers 2M. */
	o = lzimg_find(img, 6);
	assert_int_equal(o->kind, LZ_KIND_HUGETLB_MEMFD);
	assert_int_equal(o->page_size, 2 << 20);
	assert_int_equal(o->nr_pages, 2);
	assert_int_equal(o->nr_data_pages, 2);
	page = calloc(1, 2 << 20);
	assert_non_null(page);
	for (d = 0; d < PG; d++)
		page[0x1000 + d] = pat(d, 1);
	assert_int_equal(lzimg_page_digest(o, 0, &d), 1);
	assert_true(d == lz_digest(page, 2 << 20));

	/* Flip one byte of the second huge page's data: page 1 mismatches, page 0 does not. */
	fd = openat(f->dfd, "pages-2.img", O_WRONLY);
	assert_int_equal(pwrite(fd, "\x5a", 1, PG + 100), 1);
	close(fd);
	assert_int_equal(lz_pagesrc_open(f->dfd, 6, &s, err, sizeof(err)), 0);
	assert_int_equal(lz_pagesrc_digest(s, 0, o->page_size, &actual), 0);
	assert_int_equal(lzimg_page_digest(o, 0, &d), 1);
	assert_true(actual == d);
	assert_int_equal(lz_pagesrc_digest(s, 1, o->page_size, &actual), 0);
	assert_int_equal(lzimg_page_digest(o, 1, &d), 1);
	assert_true(actual != d);
	print_message("page 1 of shmid 6: expected %016llx, actual %016llx\n", (unsigned long long)d,
		      (unsigned long long)actual);
	lz_pagesrc_close(s);
	free(page);
	lzimg_free(img);
}

/* The digests of shmids 5, 6, 7 of the loaded image, in order */
static void digests_of(struct lz_image *img, uint64_t *out)
{
	static const uint64_t ids[] = { 5, 6, 7 };
	size_t i, k, n = 0;

	for (i = 0; i < 3; i++) {
		const struct lz_obj *o = lzimg_find(img, ids[i]);

		assert_non_null(o);
		for (k = 0; k < o->nr_runs; k++)
			for (uint64_t p = 0; p < o->runs[k].len; p++)
				assert_int_equal(lzimg_page_digest(o, o->runs[k].start + p, &out[n++]), 1);
	}
	assert_int_equal(n, 10);
}

/* Indexing with the digests pending, presence records, then completing */
static void test_index_pending_presence(void **state)
{
	const struct ent huge[] = { { 0x1000, 1, PE_PRESENT, 0 }, { 0x205000, 2, PE_PRESENT, 0 } };
	const struct ent sysv[] = { { 0x1000, 1, PE_PRESENT, 0 } };
	static const struct lz_range r5a[] = { { 1, 2 }, { 20, 1 } }, r5b[] = { { 2, 3 }, { 40, 5 } };
	static const struct lz_range r6[] = { { 600, 1 } };
	const struct lz_task_presence pres[] = {
		{ 100, 5, 2, r5a },
		{ 100, 5, 2, r5b },
		{ 101, 6, 1, r6 },
		{ 102, 999, 1, r6 },
		{ 99, 7, 0, NULL },
	};
	struct lz_index_input in = { .presence = pres, .nr_presence = 5, .digests_pending = 1 };
	uint64_t want[10], got[10], pages = 0;
	struct fixture *f = *state;
	char err[LZIMG_ERRLEN] = "";
	struct lz_image *img = NULL;
	const struct lz_obj *o;
	size_t objs = 0;
	int rec;

	write_memfd_img(f->dfd);
	write_sysv_img(f->dfd);
	write_pagemap(f->dfd, 6, 2, huge, 2, PM_MAGIC);
	write_pages(f->dfd, 2, 3 * PG, 1);
	write_pagemap(f->dfd, 7, 3, sysv, 1, PM_MAGIC);
	write_pages(f->dfd, 3, PG, 2);
	assert_int_equal(lzimg_write_from_criu(f->dfd, err, sizeof(err)), 0);
	assert_int_equal(lzimg_load(f->dfd, &img, err, sizeof(err)), 0);
	digests_of(img, want);
	lzimg_free(img);

	assert_int_equal(lzimg_write_from_criu_in(f->dfd, &in, err, sizeof(err)), 0);
	assert_int_equal(lzimg_load(f->dfd, &img, err, sizeof(err)), 0);
	assert_int_equal(lzimg_nr_pending(img), 3);
	assert_int_equal(lzimg_nr_digests(img), 0);
	o = lzimg_find(img, 5);
	assert_true(o->digests_pending);
	assert_int_equal(o->nr_data_pages, 7);
	assert_int_equal(o->nr_presence, 1); /* task 100's two records merged, clipped to 34 pages */
	assert_int_equal(o->presence[0].task, 100);
	assert_int_equal(o->presence[0].nr_runs, 2);
	assert_int_equal(o->presence[0].runs[0].start, 1);
	assert_int_equal(o->presence[0].runs[0].len, 4);
	assert_int_equal(o->presence[0].runs[1].start, 20);
	o = lzimg_find(img, 6); /* 4K page 600 is in huge page 1 */
	assert_non_null(lzimg_presence(o, 101, &rec));
	assert_int_equal(o->presence[0].nr_runs, 1);
	assert_int_equal(o->presence[0].runs[0].start, 1);
	assert_int_equal(o->presence[0].runs[0].len, 1);
	assert_null(lzimg_presence(o, 100, &rec));
	assert_true(rec);
	o = lzimg_find(img, 7); /* a task that mapped it with nothing present */
	assert_int_equal(o->nr_presence, 1);
	assert_int_equal(o->presence[0].nr_runs, 0);
	lzimg_free(img);

	assert_int_equal(lzimg_complete_digests(f->dfd, &objs, &pages, err, sizeof(err)), 0);
	assert_int_equal(objs, 3);
	assert_int_equal(pages, 10);
	assert_int_equal(lzimg_load(f->dfd, &img, err, sizeof(err)), 0);
	assert_int_equal(lzimg_nr_pending(img), 0);
	digests_of(img, got);
	assert_memory_equal(want, got, sizeof(want));
	assert_int_equal(lzimg_find(img, 5)->presence[0].runs[1].start, 20); /* kept */
	lzimg_free(img);
	/* nothing pending: nothing to do */
	assert_int_equal(lzimg_complete_digests(f->dfd, &objs, &pages, err, sizeof(err)), 0);
	assert_int_equal(objs, 0);

	/* A pages image gone: the error names it, the image stays pending */
	assert_int_equal(lzimg_write_from_criu_in(f->dfd, &in, err, sizeof(err)), 0);
	assert_int_equal(unlinkat(f->dfd, "pages-3.img", 0), 0);
	assert_true(lzimg_complete_digests(f->dfd, &objs, &pages, err, sizeof(err)) < 0);
	print_message("refused as expected: %s\n", err);
	assert_non_null(strstr(err, "pages-3.img"));
	assert_int_equal(lzimg_load(f->dfd, &img, err, sizeof(err)), 0);
	assert_int_equal(lzimg_nr_pending(img), 3);
	lzimg_free(img);
}

static void test_index_errors(void **state)
{
	const struct ent beyond[] = { { 0x100000, 1, PE_PRESENT, 0 } };
	struct fixture *f = *state;
	char err[LZIMG_ERRLEN] = "";

	/* Data beyond the object's size is refused, and nothing is written. */
	write_memfd_img(f->dfd);
	write_pagemap(f->dfd, 6, 2, beyond, 1, PM_MAGIC);
	write_pages(f->dfd, 2, PG, 1);
	write_pagemap(f->dfd, 7, 3, beyond, 0, PM_MAGIC);
	assert_int_equal(lzimg_write_from_criu(f->dfd, err, sizeof(err)), 0);
	write_pagemap(f->dfd, 5, 1, beyond, 1, PM_MAGIC);
	assert_int_equal(unlinkat(f->dfd, "lazyshm-shmem.img", 0), 0);
	assert_int_equal(lzimg_write_from_criu(f->dfd, err, sizeof(err)), -EINVAL);
	print_message("refused as expected: %s\n", err);
	assert_non_null(strstr(err, "beyond the object"));
	assert_int_equal(faccessat(f->dfd, "lazyshm-shmem.img", F_OK, 0), -1);
	/* A corrupt memfd.img is reported by name. */
	assert_int_equal(truncateat(f->dfd, "memfd.img", 12), 0);
	assert_int_equal(lzimg_write_from_criu(f->dfd, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "memfd.img"));
	print_message("refused as expected: %s\n", err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_runs_holes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_has_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_parent_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shrunk_after_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_and_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_pending_presence, setup, teardown),
	};

	return cmocka_run_group_tests_name("img_pagesrc", tests, NULL, NULL);
}
