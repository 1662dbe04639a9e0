// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Files on tmpfs and hugetlbfs whose content lazyshm stores itself:
 * lzimg_dump_file() on a memfd (tmpfs: holes from SEEK_DATA, a partial last
 * page, the task's file position untouched), the pages file read back
 * through lz_pagesrc_open_obj(), damaged pages files, the private_mapped
 * flag from CRIU's remap-fpath.img and mm images, and the hugetlbfs path on a
 * MFD_HUGETLB memfd when 2M hugepages can be had.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mm.pb-c.h"
#include "remap-file-path.pb-c.h"

#include "lzimg.h"

#include "criu-img-util.h"

#define PG	     4096ULL
#define HPG	     (2ULL << 20)
#define COMMON_MAGIC 0x54564319u
#define MM_MAGIC     0x57492820u
#define REMAP_MAGIC  0x59133954u
#define HP_DIR	     "/sys/kernel/mm/hugepages/hugepages-2048kB/"

struct fixture {
	char dir[64];
	int dfd;
	int memfd;
	long hp_added; /* 2M hugepages this test added to the pool */
};

static uint8_t pat(uint64_t off)
{
	return (uint8_t)(off * 13 + off / 4096 + 1);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/lzfiles-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(f->dfd >= 0);
	f->memfd = -1;
	*state = f;
	return 0;
}

static long read_long(const char *path)
{
	char buf[32] = "";
	FILE *fp = fopen(path, "re");
	long v = -1;

	if (!fp)
		return -1;
	if (fgets(buf, sizeof(buf), fp))
		v = atol(buf);
	if (fclose(fp))
		return -1;
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *fp = fopen(path, "we");
	int ret;

	if (!fp)
		return -1;
	ret = fprintf(fp, "%ld\n", v) < 0;
	return fclose(fp) || ret ? -1 : 0;
}

/* Give back the hugepages we added, relative to the pool's size now, so a
 * concurrent user's change is kept. */
static void hp_release(struct fixture *f)
{
	long now;

	if (!f->hp_added)
		return;
	now = read_long(HP_DIR "nr_hugepages");
	if (now < f->hp_added || write_long(HP_DIR "nr_hugepages", now - f->hp_added))
		print_message("could not give back %ld 2M hugepages: check " HP_DIR "nr_hugepages\n", f->hp_added);
	f->hp_added = 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	hp_release(f);
	if (f->memfd >= 0)
		close(f->memfd);
	close(f->dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Data runs of fd by SEEK_DATA/SEEK_HOLE, in pages (the kernel's view). */
static size_t seek_runs(int fd, uint64_t size, struct lz_range *r, size_t max)
{
	off_t off = 0, d, h;
	size_t n = 0;

	while ((uint64_t)off < size && (d = lseek(fd, off, SEEK_DATA)) >= 0) {
		h = lseek(fd, d, SEEK_HOLE);
		assert_true(h > d && n < max);
		r[n].start = d / PG;
		r[n].len = (h + PG - 1) / PG - r[n].start;
		n++;
		off = h;
	}
	return n;
}

static int has_page(const struct lz_range *r, size_t n, uint64_t p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p >= r[i].start && p < r[i].start + r[i].len)
			return 1;
	return 0;
}

/* Everything the object holds, through the page source, against the file
 * itself (zeros past its size); every digest recomputed. */
static void check_source(int dfd, const struct lz_obj *o, int fd)
{
	char err[LZIMG_ERRLEN] = "";
	struct lz_pagesrc *src = NULL;
	uint64_t len = o->nr_pages * o->page_size + 2 * PG, k, d, want;
	uint8_t *got = malloc(len), *exp = calloc(1, len);
	size_t i;

	assert_non_null(got);
	assert_non_null(exp);
	assert_int_equal(pread(fd, exp, o->size, 0), (ssize_t)o->size);
	assert_int_equal(lz_pagesrc_open_obj(dfd, o, &src, err, sizeof(err)), 0);
	memset(got, 0xa5, len);
	assert_int_equal(lz_pagesrc_read(src, 0, got, len), 0);
	assert_memory_equal(got, exp, len);
	for (i = 0; i < o->nr_runs; i++) {
		for (k = 0; k < o->runs[i].len; k++) {
			uint64_t p = o->runs[i].start + k;

			assert_int_equal(lz_pagesrc_digest(src, p, o->page_size, &d), 0);
			assert_int_equal(lzimg_page_digest(o, p, &want), 1);
			assert_true(d == want);
			assert_true(d == lz_digest(exp + p * o->page_size, o->page_size));
			assert_true(lz_pagesrc_has_data(src, p * o->page_size, 1));
		}
	}
	if (o->nr_runs) { /* dense: data page k at 4096 + k * page_size */
		uint64_t foff, l, last = o->nr_runs - 1;

		assert_int_equal(lz_pagesrc_locate(src, o->runs[last].start * o->page_size, &foff, &l), 1);
		assert_true(foff == LZ_FILE_PAGES_HDR + o->runs[last].first * o->page_size);
		assert_true(lz_pagesrc_pages_fd(src) >= 0);
	}
	assert_true(lz_pagesrc_data_end(src) <= o->size);
	lz_pagesrc_close(src);
	free(got);
	free(exp);
}

/* Write the spec into an image, load it back, return the loaded object. */
static const struct lz_obj *write_and_load(int dfd, const struct lz_obj_spec *s, size_t n, struct lz_image **img)
{
	char err[LZIMG_ERRLEN] = "";

	if (lzimg_write_from_criu_with(dfd, s, n, err, sizeof(err)))
		fail_msg("write: %s", err);
	assert_int_equal(lzimg_load(dfd, img, err, sizeof(err)), 0);
	return lzimg_find(*img, s[0].shmid);
}

/* A 41-page memfd (the last one partial) with data at 1-2, 5, 20 (zeros
 * written: data all the same) and 40; holes elsewhere. */
static int make_memfd(struct stat *st)
{
	static const uint64_t pages[] = { 1, 2, 5, 40 };
	uint8_t buf[PG];
	uint64_t i, j;
	int fd = memfd_create("lzfiles", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 40 * PG + 100), 0);
	for (i = 0; i < 4; i++) {
		for (j = 0; j < PG; j++)
			buf[j] = pat(pages[i] * PG + j);
		assert_int_equal(pwrite(fd, buf, pages[i] == 40 ? 100 : PG, pages[i] * PG), pages[i] == 40 ? 100 : PG);
	}
	memset(buf, 0, PG);
	assert_int_equal(pwrite(fd, buf, PG, 20 * PG), PG);
	assert_int_equal(fstat(fd, st), 0);
	return fd;
}

static void test_dump_tmpfs(void **state)
{
	struct fixture *f = *state;
	char err[LZIMG_ERRLEN] = "";
	struct lz_range want[16];
	struct lz_obj_spec s;
	struct lz_image *img = NULL;
	const struct lz_obj *o;
	struct stat st, pst;
	size_t n, i;

	f->memfd = make_memfd(&st);
	n = seek_runs(f->memfd, st.st_size, want, 16);
	for (i = 0; i < 41; i++) /* the kernel may see more data (shmem THP), never less */
		if (i == 1 || i == 2 || i == 5 || i == 20 || i == 40)
			assert_true(has_page(want, n, i));
	print_message("SEEK_DATA sees %zu runs%s\n", n, has_page(want, n, 3) ? " (shmem THP: no 4K holes)" : "");
	assert_true(lseek(f->memfd, 777, SEEK_SET) == 777);
	assert_int_equal(st.st_nlink, 0); /* a memfd is an unlinked tmpfs file */
	assert_int_equal(lzimg_dump_file(f->dfd, f->memfd, 3, "/dev/shm/lz unl", &st, &s, err, sizeof(err)), 0);
	assert_true(lseek(f->memfd, 0, SEEK_CUR) == 777); /* the task's position is untouched */

	assert_int_equal(s.kind, LZ_KIND_SHM_FILE);
	assert_true(s.shmid == LZ_FILE_SHMID(3));
	assert_string_equal(s.name, "/dev/shm/lz unl");
	assert_int_equal(s.page_size, PG);
	assert_int_equal(s.size, 40 * PG + 100);
	assert_int_equal(s.nr_pages, 41);
	assert_int_equal(s.nr_runs, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(s.runs[i].start, want[i].start);
		assert_int_equal(s.runs[i].len, want[i].len);
	}
	assert_true(s.hint == s.runs && s.hint_kind == LZ_HINT_RESIDENT);
	assert_int_equal(s.remap_id, 3);
	assert_true(s.unlinked);
	assert_int_equal(s.mode, st.st_mode);
	assert_int_equal(s.ino, st.st_ino);
	assert_int_equal(s.dev, st.st_dev);
	assert_true(s.ctime_ns == (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec);
	assert_int_equal(strlen(s.boot_id), 36);
	assert_string_equal(s.pages_file, "lazyshm-file-3.pages");
	assert_int_equal(fstatat(f->dfd, "lazyshm-file-3.pages", &pst, 0), 0);
	assert_int_equal(pst.st_size, LZ_FILE_PAGES_HDR + s.nr_data_pages * PG);
	assert_int_equal(faccessat(f->dfd, "lazyshm-file-3.pages.tmp", F_OK, 0), -1);

	o = write_and_load(f->dfd, &s, 1, &img);
	assert_non_null(o);
	assert_int_equal(o->nr_data_pages, s.nr_data_pages);
	assert_true(o->unlinked);
	assert_false(o->private_mapped);
	assert_string_equal(o->boot_id, s.boot_id);
	check_source(f->dfd, o, f->memfd);
	lzimg_free(img);
	lzimg_spec_free(&s);
	assert_null(s.runs);
}

static int truncateat(int dfd, const char *name, off_t len)
{
	int fd = openat(dfd, name, O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = ftruncate(fd, len);
	return close(fd) || ret ? -1 : 0;
}

static void expect_open_fails(int dfd, const struct lz_obj *o, int code, const char *want)
{
	char err[LZIMG_ERRLEN] = "";
	struct lz_pagesrc *src = NULL;

	assert_int_equal(lz_pagesrc_open_obj(dfd, o, &src, err, sizeof(err)), code);
	print_message("refused as expected: %s\n", err);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "lazyshm-file-3.pages"));
	if (code != -ENOENT)
		assert_non_null(strstr(err, o->name));
}

static void test_damaged_pages_file(void **state)
{
	struct fixture *f = *state;
	char err[LZIMG_ERRLEN] = "";
	struct lz_obj_spec s;
	struct lz_image *img = NULL;
	const struct lz_obj *o;
	struct stat st;
	off_t len;
	int fd;

	f->memfd = make_memfd(&st);
	st.st_nlink = 1; /* as a named file (a memfd has none) */
	assert_int_equal(lzimg_dump_file(f->dfd, f->memfd, 3, "/dev/shm/lzfiles", &st, &s, err, sizeof(err)), 0);
	o = write_and_load(f->dfd, &s, 1, &img);
	assert_false(o->unlinked);
	len = LZ_FILE_PAGES_HDR + o->nr_data_pages * PG;
	assert_int_equal(truncateat(f->dfd, "lazyshm-file-3.pages", len - 1), 0);
	expect_open_fails(f->dfd, o, -EINVAL, "truncated");
	assert_int_equal(truncateat(f->dfd, "lazyshm-file-3.pages", 100), 0);
	expect_open_fails(f->dfd, o, -EINVAL, "truncated");
	assert_int_equal(truncateat(f->dfd, "lazyshm-file-3.pages", len + PG), 0);
	expect_open_fails(f->dfd, o, -EINVAL, "corrupt");
	assert_int_equal(truncateat(f->dfd, "lazyshm-file-3.pages", len), 0);
	fd = openat(f->dfd, "lazyshm-file-3.pages", O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\x04", 1, 8), 1); /* header id 4 */
	expect_open_fails(f->dfd, o, -EINVAL, "header says id 4");
	assert_int_equal(pwrite(fd, "\x03", 1, 8), 1);
	assert_int_equal(pwrite(fd, "X", 1, 0), 1); /* magic */
	expect_open_fails(f->dfd, o, -EINVAL, "corrupt: magic");
	assert_int_equal(close(fd), 0);
	assert_int_equal(unlinkat(f->dfd, "lazyshm-file-3.pages", 0), 0);
	expect_open_fails(f->dfd, o, -ENOENT, "can't open");
	lzimg_free(img);
	lzimg_spec_free(&s);
}

static void test_dump_refused(void **state)
{
	struct fixture *f = *state;
	char err[LZIMG_ERRLEN] = "";
	struct lz_obj_spec s;
	struct stat st;
	int p[2], fd;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(fstat(p[0], &st), 0);
	assert_int_equal(lzimg_dump_file(f->dfd, p[0], 3, "/x/pipe", &st, &s, err, sizeof(err)), -EINVAL);
	print_message("refused as expected: %s\n", err);
	assert_non_null(strstr(err, "not a regular file"));
	close(p[0]);
	close(p[1]);
	/* The test directory itself is on tmpfs on some systems: a file next to
	 * the binary is on the build's file system. */
	fd = open(LZ_TOP "/images/lzimg.h", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	if (lzimg_dump_file(f->dfd, fd, 3, "/x/lzimg.h", &st, &s, err, sizeof(err)) == 0) {
		print_message("the source tree is on tmpfs: not-tmpfs case not checked\n");
		lzimg_spec_free(&s);
	} else {
		print_message("refused as expected: %s\n", err);
		assert_non_null(strstr(err, "/x/lzimg.h: not on tmpfs or hugetlbfs"));
	}
	close(fd);
	f->memfd = make_memfd(&st);
	assert_int_equal(lzimg_dump_file(f->dfd, f->memfd, 0, "/x/id0", &st, &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(faccessat(f->dfd, "lazyshm-file-0.pages", F_OK, 0), -1);
}

static int create(int dfd, const char *name, uint32_t magic)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	put32(fd, COMMON_MAGIC);
	put32(fd, magic);
	return fd;
}

/* remap-fpath.img: FileEntry 12 and 14 are object 3, 13 is object 4 (all
 * PLUGIN); 15 is a ghost. mm-1.img: 12 mapped MAP_PRIVATE, 13 and 14
 * MAP_SHARED|MAP_HUGETLB, 16 (a hugetlbfs file CRIU kept) too. */
static void write_criu_images(int dfd)
{
	static const uint32_t remaps[][3] = { { 12, 3, 5 }, { 14, 3, 5 }, { 13, 4, 5 }, { 15, 1, 1 } };
	static const uint32_t vmas[][2] = { { 12, 1 | (1 << 6) }, { 13, 1 | (1 << 7) }, { 14, 1 | (1 << 7) }, { 16, 1 | (1 << 7) }, { 15, 1 | (1 << 6) } };
	VmaEntry v[5], *vp[5];
	MmEntry mm = MM_ENTRY__INIT;
	size_t i;
	int fd;

	fd = create(dfd, "remap-fpath.img", REMAP_MAGIC);
	for (i = 0; i < 4; i++) {
		RemapFilePathEntry r = REMAP_FILE_PATH_ENTRY__INIT;

		r.orig_id = remaps[i][0];
		r.remap_id = remaps[i][1];
		r.has_remap_type = 1;
		r.remap_type = remaps[i][2]; /* 5 (PLUGIN) is not in CRIU 4.1.1's enum */
		put_msg(fd, &r.base);
	}
	assert_int_equal(close(fd), 0);
	for (i = 0; i < 5; i++) {
		vma_entry__init(&v[i]);
		v[i].start = 0x10000000 * (i + 1);
		v[i].end = v[i].start + HPG;
		v[i].shmid = vmas[i][0];
		v[i].status = vmas[i][1];
		v[i].flags = 0x01 | 0x40000; /* MAP_SHARED | MAP_HUGETLB */
		v[i].fd = -1;
		vp[i] = &v[i];
	}
	mm.n_vmas = 5;
	mm.vmas = vp;
	fd = create(dfd, "mm-1.img", MM_MAGIC);
	put_msg(fd, &mm.base);
	assert_int_equal(close(fd), 0);
}

static void test_private_mapped(void **state)
{
	struct fixture *f = *state;
	char err[LZIMG_ERRLEN] = "";
	struct lz_obj_spec s[2];
	struct lz_image *img = NULL;
	struct stat st;

	write_criu_images(f->dfd);
	f->memfd = make_memfd(&st);
	assert_int_equal(lzimg_dump_file(f->dfd, f->memfd, 3, "/dev/shm/a", &st, &s[0], err, sizeof(err)), 0);
	assert_int_equal(lzimg_dump_file(f->dfd, f->memfd, 4, "/dev/shm/b", &st, &s[1], err, sizeof(err)), 0);
	write_and_load(f->dfd, s, 2, &img);
	assert_int_equal(lzimg_nr_objs(img), 2);
	assert_true(lzimg_find(img, LZ_FILE_SHMID(3))->private_mapped); /* via FileEntry 12 */
	assert_false(lzimg_find(img, LZ_FILE_SHMID(4))->private_mapped);
	assert_false(s[0].private_mapped); /* the caller's specs are not changed */
	lzimg_free(img);
	/* Two objects with one id can't both be written. */
	{
		struct lz_obj_spec twice[2] = { s[0], s[0] };

		assert_int_equal(lzimg_write_from_criu_with(f->dfd, twice, 2, err, sizeof(err)), -EINVAL);
		print_message("refused as expected: %s\n", err);
		assert_non_null(strstr(err, "appears twice"));
	}
	lzimg_spec_free(&s[0]);
	lzimg_spec_free(&s[1]);
}

/* n 2M hugepages a new mapping can get: free ones, else added to the pool. */
static int hp_get(struct fixture *f, long n)
{
	long avail = read_long(HP_DIR "free_hugepages") - read_long(HP_DIR "resv_hugepages"), nr;

	if (avail >= n)
		return 1;
	nr = read_long(HP_DIR "nr_hugepages");
	if (nr < 0 || write_long(HP_DIR "nr_hugepages", nr + n - avail))
		return 0;
	f->hp_added = read_long(HP_DIR "nr_hugepages") - nr;
	if (f->hp_added < 0)
		f->hp_added = 0;
	return read_long(HP_DIR "free_hugepages") - read_long(HP_DIR "resv_hugepages") >= n;
}

/* Page p of a 2M hugetlb memfd: fill it through a mapping of that page only. */
static void huge_fill(int fd, uint64_t p, uint64_t off, uint64_t len)
{
	uint8_t *m = mmap(NULL, HPG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, p * HPG);
	uint64_t i;

	assert_true(m != MAP_FAILED);
	memset(m, 0, HPG);
	for (i = off; i < off + len; i++)
		m[i] = pat(p * HPG + i) | 1;
	assert_int_equal(munmap(m, HPG), 0);
}

static void test_dump_hugetlb(void **state)
{
	struct fixture *f = *state;
	char err[LZIMG_ERRLEN] = "";
	struct lz_obj_spec s;
	struct lz_image *img = NULL;
	const struct lz_obj *o;
	struct stat st, pst;
	long free_before;

	if (!hp_get(f, 3)) {
		print_message("skipped: 3 free 2M hugepages can't be had (not root, or the kernel has none)\n");
		skip();
	}
	f->memfd = memfd_create("lzhuge", MFD_CLOEXEC | MFD_HUGETLB | (21u << 26) /* MFD_HUGE_2MB */);
	if (f->memfd < 0) {
		print_message("skipped: memfd_create(MFD_HUGETLB 2M): %s\n", strerror(errno));
		skip();
	}
	assert_int_equal(ftruncate(f->memfd, 5 * HPG), 0);
	huge_fill(f->memfd, 0, 0, HPG);		    /* all data */
	huge_fill(f->memfd, 2, (1 << 20) + 5, 100); /* mostly zeros, still data */
	huge_fill(f->memfd, 3, 0, 0);		    /* allocated, all zeros: a hole */
	assert_int_equal(fstat(f->memfd, &st), 0);
	free_before = read_long(HP_DIR "free_hugepages");
	assert_int_equal(lzimg_dump_file(f->dfd, f->memfd, 7, "/mnt/huge/vm", &st, &s, err, sizeof(err)), 0);
	print_message("free 2M hugepages before the dump %ld, after %ld (reading holes allocates none); %ld added "
		      "to the pool for this test\n",
		      free_before, read_long(HP_DIR "free_hugepages"), f->hp_added);
	hp_release(f);
	assert_int_equal(s.kind, LZ_KIND_HUGETLB_FILE);
	assert_int_equal(s.page_size, HPG);
	assert_int_equal(s.nr_pages, 5);
	assert_int_equal(s.nr_runs, 2);
	assert_int_equal(s.runs[0].start, 0);
	assert_int_equal(s.runs[0].len, 1);
	assert_int_equal(s.runs[1].start, 2);
	assert_int_equal(s.runs[1].len, 1);
	assert_int_equal(fstatat(f->dfd, "lazyshm-file-7.pages", &pst, 0), 0);
	assert_int_equal(pst.st_size, LZ_FILE_PAGES_HDR + 2 * HPG);
	o = write_and_load(f->dfd, &s, 1, &img);
	check_source(f->dfd, o, f->memfd);
	lzimg_free(img);
	lzimg_spec_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dump_tmpfs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_pages_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_private_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dump_hugetlb, setup, teardown),
	};

	return cmocka_run_group_tests_name("img_files", tests, NULL, NULL);
}
