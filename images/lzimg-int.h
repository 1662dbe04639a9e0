/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal helpers shared by the images/ library files. Not part of the API.
 */
#ifndef __LAZYSHM_LZIMG_INT_H__
#define __LAZYSHM_LZIMG_INT_H__

#include <stddef.h>
#include <stdint.h>

#define LZ_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* CRIU image magics (criu/include/magic.h). */
#define CRIU_IMG_COMMON_MAGIC  0x54564319u
#define CRIU_IMG_SERVICE_MAGIC 0x55105940u
#define CRIU_PAGEMAP_MAGIC     0x56084025u
#define CRIU_MM_MAGIC	       0x57492820u
#define CRIU_IPCNS_SHM_MAGIC   0x46283044u
#define CRIU_MEMFD_INODE_MAGIC 0x48453499u
#define CRIU_REMAP_FPATH_MAGIC 0x59133954u

/* CRIU pagemap flags (criu/include/pagemap.h). */
#define CRIU_PE_PARENT	(1u << 0)
#define CRIU_PE_LAZY	(1u << 1)
#define CRIU_PE_PRESENT (1u << 2)

/* CRIU VMA status bits (criu/include/image.h). */
#define CRIU_VMA_FILE_PRIVATE (1u << 6)
#define CRIU_VMA_FILE_SHARED  (1u << 7)
#define CRIU_VMA_ANON_SHARED  (1u << 8)
#define CRIU_VMA_AREA_SYSVIPC (1u << 10)
#define CRIU_VMA_AREA_MEMFD   (1u << 14)

/* Largest protobuf entry we accept in a CRIU image. */
#define LZ_MAX_CRIU_ENTRY (64u << 20)

/* snprintf into err (if any); always returns -e so callers can
 * "return lz_seterr(...)". */
int lz_seterr(char *err, size_t errlen, int e, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Read a whole file of at most max bytes. 0, -ENOENT, or -errno with err. */
int lz_read_file(int dirfd, const char *name, uint64_t max, void **buf, size_t *len, char *err, size_t errlen);

/* A cursor over a buffer of u32-length-prefixed protobuf messages. */
struct lz_cursor {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	const char *fname;
};

/* Next message: 1 with (*msg, *msglen), 0 at a clean end, -EINVAL if the
 * length prefix or the message is cut short or beyond max. */
int lz_cursor_next(struct lz_cursor *c, size_t max, const uint8_t **msg, size_t *msglen, char *err, size_t errlen);
/* Skip n raw bytes (CRIU's inline SysV data). 0 or -EINVAL. */
int lz_cursor_skip(struct lz_cursor *c, uint64_t n, char *err, size_t errlen);
/* Check CRIU's two leading magics. 0 or -EINVAL. */
int lz_cursor_criu_magic(struct lz_cursor *c, uint32_t magic, char *err, size_t errlen);

uint32_t lz_get_le32(const uint8_t *p);
void lz_put_le32(uint8_t *p, uint32_t v);
uint64_t lz_get_le64(const uint8_t *p);
void lz_put_le64(uint8_t *p, uint64_t v);

/* Hugetlb page size encoded in MFD_HUGETLB/SHM_HUGETLB/MAP_HUGETLB style
 * flags (log2 in bits 26..31); 0 bits means the system default. */
uint64_t lz_hugetlb_flag_size(uint32_t flag);
uint64_t lz_default_hugepage_size(void);

struct lz_obj_spec;
struct lz_task_presence;
struct lz_pagesrc;
struct lz_presence;
struct lz_range;

/* Storage of the presence records lz_presence_attach() gives objects */
struct lz_presence_build {
	struct lz_presence *recs;
	size_t nr_recs;
	struct lz_range *runs;
	size_t nr_runs;
};
/*
 * Give each of @objs (page_size and nr_pages set) that has none yet the
 * presence records of its shmid among @in, in page_size units, one per
 * task, ascending by task, merged and clipped to the object. They point
 * into @b: free it with lz_presence_free() once the objects are written.
 */
int lz_presence_attach(struct lz_obj_spec *objs, size_t nr, const struct lz_task_presence *in, size_t nin,
		       struct lz_presence_build *b, char *err, size_t errlen);
void lz_presence_free(struct lz_presence_build *b);

/* One digest per page of o's runs from @src into a new array *out
 * (nr_data_pages of them). 0 or -errno with err. */
int lz_digest_runs(struct lz_pagesrc *src, const struct lz_obj_spec *o, uint64_t **out, char *err, size_t errlen);

#endif /* __LAZYSHM_LZIMG_INT_H__ */
