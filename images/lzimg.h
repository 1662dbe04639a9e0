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

#define LZIMG_FILE "lazyshm-shmem.img"
/* The working set a lazy restore recorded: the same format, objects with
 * no data runs and a HINT_ACCESS_ORDER hint (the pages in the order they
 * were first faulted), written by the lazy-pages daemon */
#define LZIMG_ACCESS_FILE "lazyshm-access.img"
#define LZIMG_MAGIC	  0x48535a4cu /* "LZSH" read as a little-endian u32 */
#define LZIMG_VERSION	  1u
#define LZIMG_MAX_FILE	  (1ULL << 36) /* refuse images above 64 GiB */
#define LZIMG_MAX_PAGESZ  (1ULL << 31) /* page_size is a u32 */
#define LZIMG_MIN_PAGESZ  4096u
#define LZIMG_ERRLEN	  512
#define LZIMG_DUMP_ID_LEN 16u /* lazyshm_head.dump_id */

/*
 * Files on hugetlbfs/tmpfs (kinds HUGETLB_FILE, SHM_FILE) whose content the
 * plugin stores itself, keyed by CRIU's object id (RemapFilePathEntry.remap_id
 * of a PLUGIN remap): shmid = LZ_FILE_SHMID(id), content in LZ_FILE_PAGES_FMT.
 *
 * Pages file: a LZ_FILE_PAGES_HDR-byte header (all little-endian: u32 magic
 * LZ_FILE_PAGES_MAGIC, u32 version 1, u32 id, u32 page_size,
 * u64 nr_data_pages, u64 size, zeros up to 4096), then the data pages densely
 * in data_runs order: data page k at offset 4096 + k * page_size. A tmpfs
 * file's last partial page is stored zero padded (its digest covers the
 * padded page); the file is exactly 4096 + nr_data_pages * page_size bytes.
 */
#define LZ_FILE_SHMID(id)     ((1ULL << 63) | (uint64_t)(id))
#define LZ_FILE_PAGES_MAGIC   0x50465a4cu /* "LZFP" read as a little-endian u32 */
#define LZ_FILE_PAGES_VERSION 1u
#define LZ_FILE_PAGES_HDR     4096u
#define LZ_FILE_PAGES_FMT     "lazyshm-file-%u.pages"
#define LZ_CRIU_REMAP_PLUGIN  5 /* RemapFilePathEntry.remap_type PLUGIN */

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

/* The pages of an object one dumped task had in its page tables. */
struct lz_presence {
	uint32_t task; /* the task's pid in CRIU's images (mm-<task>.img) */
	size_t nr_runs;
	const struct lz_range *runs; /* page_size units, ascending, not adjacent */
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
	/* File kinds only (lzimg_kind_is_file()); zero/NULL for the others. */
	uint32_t remap_id;	 /* CRIU's object id; shmid == LZ_FILE_SHMID(remap_id) */
	int unlinked;		 /* st_nlink was 0 at dump */
	uint32_t mode, uid, gid; /* st_mode (type + permissions), owner */
	uint64_t dev, ino;	 /* st_dev, st_ino at dump */
	int64_t ctime_ns;	 /* st_ctim in ns */
	const char *boot_id;	 /* boot_id at dump; NULL if absent */
	const char *pages_file;	 /* "lazyshm-file-<remap_id>.pages"; NULL otherwise */
	int private_mapped;	 /* some dumped task maps it MAP_PRIVATE */
	/* Every kind. */
	int digests_pending;		    /* no digests yet (digests NULL): see lzimg_complete_digests() */
	size_t nr_presence;		    /* 0: not recorded (every task gets every page) */
	const struct lz_presence *presence; /* ascending by task; lzimg_presence() */
	int remote;			    /* content served by the dump's source: no digests, no page source here */
};

struct lz_image;

/* Load DIR/lazyshm-shmem.img. 0; -ENOENT if there is none; -EINVAL for a
 * malformed image, -EIO/-ENOMEM/... otherwise, with err filled. */
int lzimg_load(int dirfd, struct lz_image **out, char *err, size_t errlen);
/* Same without the page digests (lz_obj.digests is NULL, nr_data_pages and
 * runs are set): for restores that need only each object's geometry; the
 * file is mapped, not read, and the digests are never decoded. */
int lzimg_load_meta(int dirfd, struct lz_image **out, char *err, size_t errlen);
int lzimg_parse_meta(const void *buf, size_t len, const char *fname, struct lz_image **out, char *err,
		     size_t errlen);
/* Same with another file name (relative to dirfd, or absolute). */
int lzimg_load_file(int dirfd, const char *name, struct lz_image **out, char *err, size_t errlen);
/* Same from memory; fname only names the source in error texts. */
int lzimg_parse(const void *buf, size_t len, const char *fname, struct lz_image **out, char *err, size_t errlen);
void lzimg_free(struct lz_image *img);
size_t lzimg_nr_objs(const struct lz_image *img);
const struct lz_obj *lzimg_obj(const struct lz_image *img, size_t i);	     /* NULL if out of range */
const struct lz_obj *lzimg_find(const struct lz_image *img, uint64_t shmid); /* NULL if absent */
uint64_t lzimg_nr_digests(const struct lz_image *img);
/* Objects whose digests are still pending (digests_pending) */
size_t lzimg_nr_pending(const struct lz_image *img);
/* Objects whose content the dump's source serves (remote) */
size_t lzimg_nr_remote(const struct lz_image *img);
/* The dump's id (LZIMG_DUMP_ID_LEN bytes, valid as long as the image), or
 * NULL if the head has none (always there when an object is remote) */
const uint8_t *lzimg_dump_id(const struct lz_image *img);
/*
 * The presence record of dumped task @task for @o: the record, or NULL if
 * the object has records but none for that task (it did not map the object
 * at dump); *recorded says whether the object has any record at all (if
 * not, every task gets every page). O(log tasks).
 */
const struct lz_presence *lzimg_presence(const struct lz_obj *o, uint32_t task, int *recorded);
/* Does run list @p (a presence record) contain page @idx? O(log runs). */
int lzimg_presence_has(const struct lz_presence *p, uint64_t idx);

/* Does page idx (page_size units) have data? 1, or 0 for a hole. O(log runs). */
int lzimg_page_data(const struct lz_obj *o, uint64_t idx);
/* Expected digest of page idx (page_size units): 1 and *digest if the page
 * has data, 0 if it is a hole (or beyond the object), -EINVAL if the image
 * was loaded without digests. O(log runs). */
int lzimg_page_digest(const struct lz_obj *o, uint64_t idx, uint64_t *digest);
/* XXH3_64bits, the only algorithm so far. */
uint64_t lz_digest(const void *buf, size_t len);
const char *lzimg_kind_name(int kind); /* "anon-shared", "hugetlb-memfd", ... */
int lzimg_kind_is_hugetlb(int kind);
int lzimg_kind_is_file(int kind); /* HUGETLB_FILE or SHM_FILE */
const char *lzimg_hint_name(int hint_kind);

/*
 * Encoding (dump side and tests). An object as the writer sees it; runs and
 * hint are (start, len) pairs in page_size units. lzimg_encode() does not
 * check the semantics (tests use it to build bad images); lzimg_write()
 * re-parses what it encoded and writes nothing the reader would refuse.
 *
 * File fields: criu_remap_id is encoded when remap_id != 0, pages_file and
 * boot_id when not NULL, the other file fields for file kinds always (for
 * other kinds when not zero).
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
	/* File kinds only: see struct lz_obj. */
	uint32_t remap_id;
	int unlinked;
	uint32_t mode, uid, gid;
	uint64_t dev, ino;
	int64_t ctime_ns;
	const char *boot_id;
	const char *pages_file;
	int private_mapped;
	/* Every kind: see struct lz_obj. A pending object has no digests. */
	int digests_pending;
	size_t nr_presence;
	const struct lz_presence *presence;
	int remote; /* see struct lz_obj; no digests, no pages_file */
};

/* Encode into a malloc()ed buffer (*buf, *len) with the given header
 * version (LZIMG_VERSION normally). */
int lzimg_encode(const struct lz_obj_spec *objs, size_t nr, uint32_t version, void **buf, size_t *len, char *err, size_t errlen);
/* Write DIR/lazyshm-shmem.img atomically (temporary file, fsync, rename). */
int lzimg_write(int dirfd, const struct lz_obj_spec *objs, size_t nr, char *err, size_t errlen);
/* Same under another name (e.g. LZIMG_ACCESS_FILE). */
int lzimg_write_file(int dirfd, const char *name, const struct lz_obj_spec *objs, size_t nr, char *err,
		     size_t errlen);
/* Same with the dump id @dump_id (LZIMG_DUMP_ID_LEN bytes) in the head; NULL: none */
int lzimg_write_id(int dirfd, const uint8_t *dump_id, const struct lz_obj_spec *objs, size_t nr, char *err,
		   size_t errlen);

/*
 * CRIU shmem page images: pagemap-shmem-<shmid>.img and its pages-<id>.img.
 * Offsets are bytes inside the object. Threads: lz_pagesrc_read(),
 * _has_data() and _next_data() may run concurrently on one source (only the
 * error text is shared); lz_pagesrc_digest() uses a per-source scratch
 * buffer, so give each thread its own source or serialize it.
 */
struct lz_pagesrc;

int lz_pagesrc_open(int dirfd, uint64_t shmid, struct lz_pagesrc **out, char *err, size_t errlen);
/*
 * The geometry of an object the dump's source serves (lz_obj.remote): every
 * entry of its pagemap must be PE_LAZY without PE_PRESENT (and the other way
 * round lz_pagesrc_open() refuses such entries); no pages image is opened,
 * reads of data fail. For the data runs (lz_pagesrc_next_data()).
 */
int lz_pagesrc_open_remote(int dirfd, uint64_t shmid, struct lz_pagesrc **out, char *err, size_t errlen);
/*
 * The page source of any loaded object: for file kinds o->pages_file (its
 * header must match the object and its length be exactly 4096 +
 * nr_data_pages * page_size, else -EINVAL "corrupt"/"truncated" naming the
 * file and the object's path), with runs from o->runs, the last one clipped
 * to o->size so nothing beyond the file's size is ever read as data; for the
 * other kinds lz_pagesrc_open(dirfd, o->shmid); -EOPNOTSUPP for a remote
 * object (its content is not in the images). All the calls below work the
 * same on both; lz_pagesrc_locate()'s *file_off is 4096 + k * page_size for
 * file sources.
 */
int lz_pagesrc_open_obj(int dirfd, const struct lz_obj *o, struct lz_pagesrc **out, char *err, size_t errlen);
/*
 * The geometry of any remote object (o->remote): CRIU's kinds as
 * lz_pagesrc_open_remote(dirfd, o->shmid), file kinds from o->runs (the
 * last one clipped to o->size). Reads of data fail; lz_pagesrc_next_data()
 * and lz_pagesrc_locate() say which pages have data (the destination
 * fetches those from the dump's source).
 */
int lz_pagesrc_open_remote_obj(int dirfd, const struct lz_obj *o, struct lz_pagesrc **out, char *err, size_t errlen);
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
/* The pages image itself (read-only), e.g. to map it; -1 if none, or if
 * the data is in several (an incremental dump's chain of parent images):
 * then *file_off of lz_pagesrc_locate() is of no use, read with
 * lz_pagesrc_read(). */
int lz_pagesrc_pages_fd(const struct lz_pagesrc *src);
int lz_pagesrc_chained(const struct lz_pagesrc *src);
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

/*
 * Pages of the object @shmid that dumped task @task had present in its page
 * tables, in 4096-byte units of object offset (whatever the object's page
 * size), ascending; several records of one (task, shmid) are merged.
 */
struct lz_task_presence {
	uint32_t task;
	uint64_t shmid;
	size_t nr_runs;
	const struct lz_range *runs;
};

/* What the dump side gives the indexer besides CRIU's images. */
struct lz_index_input {
	const struct lz_obj_spec *extra; /* file objects (lzimg_dump_file()) */
	size_t nr_extra;
	const struct lz_task_presence *presence; /* for any object; unknown shmids are ignored */
	size_t nr_presence;
	int digests_pending;	/* CRIU's objects without digests, marked pending */
	const uint64_t *remote; /* shmids of CRIU's objects the dump's source serves */
	size_t nr_remote;
	const uint8_t *dump_id; /* LZIMG_DUMP_ID_LEN bytes for the head, or NULL */
};
/*
 * lzimg_write_from_criu_with() with presence records and, with
 * digests_pending, without reading CRIU's page images at all (only their
 * pagemaps): the objects' runs and hints are there, their digests are left
 * to lzimg_complete_digests().
 */
int lzimg_write_from_criu_in(int dirfd, const struct lz_index_input *in, char *err, size_t errlen);
/*
 * Compute the digests of every pending object of dirfd's lazyshm-shmem.img
 * from its page images and rewrite the image atomically without the
 * pending marks. 0 (also when nothing was pending), with *nr_objs and
 * *nr_pages (may be NULL) counting what was digested; or -errno with err,
 * the image left as it was.
 */
int lzimg_complete_digests(int dirfd, size_t *nr_objs, uint64_t *nr_pages, char *err, size_t errlen);
/*
 * A loaded object as the writer takes it (for rewriting an image): the
 * pointers are the image's, except the runs and the presence list, which
 * are allocated; free them with lzimg_obj_spec_release().
 */
int lzimg_obj_to_spec(const struct lz_obj *o, struct lz_obj_spec *s);
void lzimg_obj_spec_release(struct lz_obj_spec *s);
/*
 * Same, with nr_extra more objects (the file objects of lzimg_dump_file()).
 * Extras of file kinds get private_mapped set (the caller's specs are not
 * changed) when a VMA in mm-*.img maps them MAP_PRIVATE only: its shmid is
 * the orig_id of a PLUGIN remap (remap-fpath.img) whose remap_id is theirs,
 * and its status has VMA_FILE_PRIVATE without VMA_FILE_SHARED.
 */
int lzimg_write_from_criu_with(int dirfd, const struct lz_obj_spec *extra, size_t nr_extra, char *err, size_t errlen);

/*
 * Dump side for a file on tmpfs or hugetlbfs (the DUMP_FILE hook): read the
 * content of fd (a regular file opened for reading; its file position is
 * never changed, and it is never mmapped), write dirfd/lazyshm-file-<id>.pages
 * (temporary name, fsync, rename) and fill *spec with a file object:
 * kind HUGETLB_FILE/SHM_FILE, shmid LZ_FILE_SHMID(id), name = path,
 * size = st->st_size, page_size (4096 on tmpfs, statfs f_bsize on hugetlbfs),
 * data runs with one XXH3 digest per data page (holes: SEEK_DATA/SEEK_HOLE on
 * tmpfs; on hugetlbfs every page is read, an all-zero page is a hole),
 * hint RESIDENT = the data runs, remap_id = id, the st fields, boot_id.
 * Everything in *spec is malloc()ed: free it with lzimg_spec_free(). 0, or
 * -EINVAL (not a regular file on tmpfs/hugetlbfs, ...) / -errno with err
 * naming the path; nothing is left in dirfd then.
 */
struct stat;
int lzimg_dump_file(int dirfd, int fd, uint32_t id, const char *path, const struct stat *st, struct lz_obj_spec *spec,
		    char *err, size_t errlen);
/*
 * Same for a file whose content the dump's source serves (remote): no pages
 * file is written and no page read; the data runs come from
 * SEEK_DATA/SEEK_HOLE on tmpfs, and are the whole file on hugetlbfs (which
 * has no holes to seek); no digests, remote set, pages_file NULL.
 */
int lzimg_dump_file_remote(int fd, uint32_t id, const char *path, const struct stat *st, struct lz_obj_spec *spec,
			   char *err, size_t errlen);
/* This boot's /proc/sys/kernel/random/boot_id, as file objects record it:
 * 0, or -errno. */
int lzimg_boot_id(char *buf, size_t len);
/* Free what lzimg_dump_file() allocated in *spec and zero it. */
void lzimg_spec_free(struct lz_obj_spec *spec);

#endif /* __LAZYSHM_LZIMG_H__ */
