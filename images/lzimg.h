/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lzimg: lazyshm's own image (lazyshm-shmem.img) and a reader for the CRIU
 * shmem page images it describes. Used by the plugin (dump and restore), by
 * the lazyshm-img CLI, by the tests and by the fuzz harness.
 *
 * Errors: functions return 0 (or a count) on success and -errno on failure;
 * those taking (err, errlen) write one line naming the file, the object
 * (shmid) when there is one, and the cause.
 */
#ifndef __LAZYSHM_LZIMG_H__
#define __LAZYSHM_LZIMG_H__

#include <stddef.h>
#include <stdint.h>

#define LZIMG_FILE	 "lazyshm-shmem.img"
#define LZIMG_MAGIC	 0x48535a4cu /* "LZSH" read as a little-endian u32 */
#define LZIMG_VERSION	 1u
#define LZIMG_MAX_FILE	 (1ULL << 36) /* refuse images above 64 GiB */
#define LZIMG_MAX_PAGESZ (1ULL << 31) /* page_size is a u32 */
#define LZIMG_MIN_PAGESZ 4096u
#define LZIMG_ERRLEN	 512

/* Values of lazyshm.proto's enums, usable without the generated header. */
enum lz_kind {
	LZ_KIND_ANON_SHARED = 1,
	LZ_KIND_MEMFD = 2,
	LZ_KIND_SYSV = 3,
	LZ_KIND_HUGETLB_ANON = 4,
	LZ_KIND_HUGETLB_MEMFD = 5,
	LZ_KIND_HUGETLB_SYSV = 6,
	LZ_KIND_HUGETLB_FILE = 7,
	LZ_KIND_SHM_FILE = 8,
	LZ_KIND_MAX = LZ_KIND_SHM_FILE,
};

enum lz_digest_algo {
	LZ_DIGEST_XXH3_64 = 1,
};

enum lz_hint_kind {
	LZ_HINT_NONE = 0,
	LZ_HINT_RESIDENT = 1,
	LZ_HINT_ACCESS_ORDER = 2,
};

/* A run of pages with data: pages [start, start + len) have digests
 * digests[first .. first + len). */
struct lz_run {
	uint64_t start;
	uint64_t len;
	uint64_t first;
};

/* A range of pages (hint). */
struct lz_range {
	uint64_t start;
	uint64_t len;
};

/* One shared object of a loaded image. Pointers live as long as the image. */
struct lz_obj {
	uint64_t shmid;
	int kind; /* enum lz_kind */
	uint32_t page_size;
	uint64_t size;	   /* bytes */
	uint64_t nr_pages; /* of page_size: ceil(size / page_size) */
	const char *name;  /* identity text, may be "" */
	int has_sysv_key;
	uint32_t sysv_key;
	uint32_t hugetlb_flag;
	int digest_algo;	/* enum lz_digest_algo */
	uint64_t nr_data_pages; /* pages with a digest */
	size_t nr_runs;
	const struct lz_run *runs; /* ascending */
	const uint64_t *digests;   /* nr_data_pages, in run order */
	int hint_kind;		   /* enum lz_hint_kind */
	size_t nr_hint;
	const struct lz_range *hint;
};

struct lz_image;

/* Load DIR/lazyshm-shmem.img. 0; -ENOENT if there is none; -EINVAL for a
 * malformed image, -EIO/-ENOMEM/... otherwise, with err filled. */
int lzimg_load(int dirfd, struct lz_image **out, char *err, size_t errlen);
/* Same with another file name (relative to dirfd, or absolute). */
int lzimg_load_file(int dirfd, const char *name, struct lz_image **out, char *err, size_t errlen);
/* Same from memory; fname only names the source in error texts. */
int lzimg_parse(const void *buf, size_t len, const char *fname, struct lz_image **out, char *err, size_t errlen);
void lzimg_free(struct lz_image *img);
size_t lzimg_nr_objs(const struct lz_image *img);
const struct lz_obj *lzimg_obj(const struct lz_image *img, size_t i);	     /* NULL if out of range */
const struct lz_obj *lzimg_find(const struct lz_image *img, uint64_t shmid); /* NULL if absent */
uint64_t lzimg_nr_digests(const struct lz_image *img);

/* Expected digest of page idx (page_size units): 1 and *digest if the page
 * has data, 0 if it is a hole (or beyond the object). O(log runs). */
int lzimg_page_digest(const struct lz_obj *o, uint64_t idx, uint64_t *digest);
/* XXH3_64bits, the only algorithm so far. */
uint64_t lz_digest(const void *buf, size_t len);
const char *lzimg_kind_name(int kind); /* "anon-shared", "hugetlb-memfd", ... */
int lzimg_kind_is_hugetlb(int kind);
const char *lzimg_hint_name(int hint_kind);

/*
 * Encoding (dump side and tests). An object as the writer sees it; runs and
 * hint are (start, len) pairs in page_size units. lzimg_encode() does not
 * check the semantics (tests use it to build bad images); lzimg_check_spec()
 * does, and lzimg_write() calls it.
 */
struct lz_obj_spec {
	uint64_t shmid;
	int kind;
	const char *name; /* NULL: none */
	int has_sysv_key;
	uint32_t sysv_key;
	uint32_t hugetlb_flag;
	uint32_t page_size;
	uint64_t size;
	uint64_t nr_pages;
	uint64_t nr_data_pages;
	size_t nr_runs;
	const struct lz_range *runs;
	size_t nr_digests;
	const uint64_t *digests;
	int hint_kind;
	size_t nr_hint;
	const struct lz_range *hint;
};

/* Encode into a malloc()ed buffer (*buf, *len) with the given header
 * version (LZIMG_VERSION normally). */
int lzimg_encode(const struct lz_obj_spec *objs, size_t nr, uint32_t version, void **buf, size_t *len, char *err, size_t errlen);
/* Write DIR/lazyshm-shmem.img atomically (temporary file, fsync, rename). */
int lzimg_write(int dirfd, const struct lz_obj_spec *objs, size_t nr, char *err, size_t errlen);

/*
 * CRIU shmem page images: pagemap-shmem-<shmid>.img and its pages-<id>.img.
 * Offsets are bytes inside the object. Threads: lz_pagesrc_read(),
 * _has_data() and _next_data() may run concurrently on one source (only the
 * error text is shared); lz_pagesrc_digest() uses a per-source scratch
 * buffer, so give each thread its own source or serialize it.
 */
struct lz_pagesrc;

int lz_pagesrc_open(int dirfd, uint64_t shmid, struct lz_pagesrc **out, char *err, size_t errlen);
/* Parse a pagemap image held in memory (no pages file: reads fail). */
int lz_pagesrc_parse(const void *buf, size_t len, const char *fname, struct lz_pagesrc **out, char *err, size_t errlen);
/* Copy object bytes [off, off+len) into dst: data via pread() straight into
 * dst, holes as zeros. 0 or -errno (text via lz_pagesrc_error()). */
int lz_pagesrc_read(struct lz_pagesrc *src, uint64_t off, void *dst, size_t len);
/* 1 if any byte of [off, off+len) has data in the image, 0 if all hole. */
int lz_pagesrc_has_data(struct lz_pagesrc *src, uint64_t off, size_t len);
/* What is at object offset off: 1 for data, *file_off its offset in the
 * pages image and *len the bytes of data that follow contiguously there;
 * 0 for a hole of *len bytes (UINT64_MAX - off past the last data). */
int lz_pagesrc_locate(struct lz_pagesrc *src, uint64_t off, uint64_t *file_off, uint64_t *len);
/* The pages image itself (read-only), e.g. to map it; -1 if none. */
int lz_pagesrc_pages_fd(const struct lz_pagesrc *src);
/* First data range at or after off: 1 and [*start, *end), or 0 if none. */
int lz_pagesrc_next_data(struct lz_pagesrc *src, uint64_t off, uint64_t *start, uint64_t *end);
/* Bytes covered by data in the image, and the end of the last data run. */
uint64_t lz_pagesrc_data_bytes(const struct lz_pagesrc *src);
uint64_t lz_pagesrc_data_end(const struct lz_pagesrc *src);
/* Digest of page idx of page_size bytes (holes as zeros), streamed with a
 * small buffer, so 1G pages need no 1G allocation. */
int lz_pagesrc_digest(struct lz_pagesrc *src, uint64_t idx, uint32_t page_size, uint64_t *digest);
const char *lz_pagesrc_error(const struct lz_pagesrc *src);
void lz_pagesrc_close(struct lz_pagesrc *src);

/* Dump side: index CRIU's images in dirfd and write lazyshm-shmem.img. */
int lzimg_write_from_criu(int dirfd, char *err, size_t errlen);
/* MAP_SHARED mappings of hugetlbfs files in CRIU's mm images: CRIU 4.1.1
 * keeps only their path, not their content. */
int lzimg_count_hugetlb_files(int dirfd, unsigned *nr, char *err, size_t errlen);

#endif /* __LAZYSHM_LZIMG_H__ */
