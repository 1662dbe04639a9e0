/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The wire protocol between the dump's source (criu dump --lazy-pages, the
 * server) and the destination's lazy-pages daemon (the client), on a
 * connection of its own beside CRIU's page server (xport.h). Every integer
 * is little-endian; every header has a fixed size; the structs below are
 * the decoded forms (lz_rp_put_* / lz_rp_get_* convert).
 *
 *   client -> server  HELLO (role DEST, the dump id from lazyshm-shmem.img)
 *   server -> client  HELLO (role SOURCE, its dump id, status 0 or -ESTALE
 *                     for another dump, -EPROTO for another version; the
 *                     server closes after a non-zero status)
 *   client -> server  REQ GET {shmid, first, count, tag}       (any number)
 *   server -> client  RESP DATA {..., len = count * page_size, digest}
 *                     + len bytes of the pages, or
 *                     RESP ERROR {status -errno, len} + len bytes of text
 *                     (an unknown object, a range outside it, a request
 *                     too big): the session goes on
 *   client -> server  REQ DONE (every page is resident: the source may
 *                     release its objects) or REQ FAIL (the destination
 *                     failed); no response; the client closes
 *
 * Responses come in request order. first and count are in the object's
 * pages (page_size units, the image's page size); a request covers at
 * most LZ_RP_MAX_BYTES, or one page when pages are larger. digest is
 * XXH3-64 (LZ_XXH3_64 of images/lzdigest.h) over the payload as sent, the
 * pages past the object's end as zeros.
 */
#ifndef __LAZYSHM_REMOTE_PROTO_H__
#define __LAZYSHM_REMOTE_PROTO_H__

#include <stddef.h>
#include <stdint.h>

#define LZ_RP_MAGIC	  0x50525a4cu /* "LZRP" read as a little-endian u32 */
#define LZ_RP_VERSION	  1u
#define LZ_RP_DUMP_ID_LEN 16u	     /* LZIMG_DUMP_ID_LEN */
#define LZ_RP_MAX_BYTES	  (8u << 20) /* payload of one DATA, unless one page is larger */
#define LZ_RP_MAX_TEXT	  256u	     /* payload of one ERROR */
/* The source listens on the page server's port + 1 unless LAZYSHM_REMOTE_PORT says otherwise */
#define LZ_RP_PORT_OFFSET 1

enum lz_rp_role {
	LZ_RP_ROLE_SOURCE = 1,
	LZ_RP_ROLE_DEST = 2,
};

enum lz_rp_req_type {
	LZ_RP_GET = 1,
	LZ_RP_DONE = 2,
	LZ_RP_FAIL = 3,
};

enum lz_rp_resp_type {
	LZ_RP_DATA = 1,
	LZ_RP_ERROR = 2,
};

#define LZ_RP_HELLO_SIZE 32
/* u32 magic, u32 version, u32 role, s32 status, u8 dump_id[16] */
struct lz_rp_hello {
	uint32_t magic;
	uint32_t version;
	uint32_t role;
	int32_t status;
	uint8_t dump_id[LZ_RP_DUMP_ID_LEN];
};

#define LZ_RP_REQ_SIZE 32
/* u32 type, u32 tag, u64 shmid, u64 first, u64 count */
struct lz_rp_req {
	uint32_t type;
	uint32_t tag; /* echoed in the response */
	uint64_t shmid;
	uint64_t first;
	uint64_t count;
};

#define LZ_RP_RESP_SIZE 56
/* u32 type, s32 status, u32 tag, u32 page_size, u64 shmid, u64 first, u64 count, u64 len, u64 digest */
struct lz_rp_resp {
	uint32_t type;
	int32_t status; /* 0 for DATA, -errno for ERROR */
	uint32_t tag;
	uint32_t page_size;
	uint64_t shmid;
	uint64_t first;
	uint64_t count;
	uint64_t len;	 /* payload bytes that follow */
	uint64_t digest; /* XXH3-64 of the payload (DATA), 0 (ERROR) */
};

void lz_rp_put_hello(uint8_t b[LZ_RP_HELLO_SIZE], const struct lz_rp_hello *h);
void lz_rp_get_hello(const uint8_t b[LZ_RP_HELLO_SIZE], struct lz_rp_hello *h);
void lz_rp_put_req(uint8_t b[LZ_RP_REQ_SIZE], const struct lz_rp_req *r);
void lz_rp_get_req(const uint8_t b[LZ_RP_REQ_SIZE], struct lz_rp_req *r);
void lz_rp_put_resp(uint8_t b[LZ_RP_RESP_SIZE], const struct lz_rp_resp *r);
void lz_rp_get_resp(const uint8_t b[LZ_RP_RESP_SIZE], struct lz_rp_resp *r);

/*
 * Is @h a well-formed hello of @role for dump @id? 0, or -EPROTO (not
 * lazyshm's protocol, another version or role) / -ESTALE (another dump)
 * with the cause in @why.
 */
int lz_rp_check_hello(const struct lz_rp_hello *h, uint32_t role, const uint8_t id[LZ_RP_DUMP_ID_LEN], char *why,
		      size_t len);
/* Largest count of one GET for pages of @page_size bytes (>= 1) */
uint64_t lz_rp_max_count(uint32_t page_size);
/*
 * Does @r (a response to @q, pages of @page_size) say what a response to it
 * must: the type, tag, object, range, and a payload length that fits?
 * 0, or -EPROTO with the cause in @why.
 */
int lz_rp_check_resp(const struct lz_rp_resp *r, const struct lz_rp_req *q, uint32_t page_size, char *why,
		     size_t len);

#endif /* __LAZYSHM_REMOTE_PROTO_H__ */
