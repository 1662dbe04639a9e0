// SPDX-License-Identifier: GPL-2.0-or-later
/* Encoding and checks of the remote protocol's headers; see remote-proto.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "remote-proto.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void lz_rp_put_hello(uint8_t b[LZ_RP_HELLO_SIZE], const struct lz_rp_hello *h)
{
	put32(b, h->magic);
	put32(b + 4, h->version);
	put32(b + 8, h->role);
	put32(b + 12, (uint32_t)h->status);
	memcpy(b + 16, h->dump_id, LZ_RP_DUMP_ID_LEN);
}

void lz_rp_get_hello(const uint8_t b[LZ_RP_HELLO_SIZE], struct lz_rp_hello *h)
{
	h->magic = get32(b);
	h->version = get32(b + 4);
	h->role = get32(b + 8);
	h->status = (int32_t)get32(b + 12);
	memcpy(h->dump_id, b + 16, LZ_RP_DUMP_ID_LEN);
}

void lz_rp_put_req(uint8_t b[LZ_RP_REQ_SIZE], const struct lz_rp_req *r)
{
	put32(b, r->type);
	put32(b + 4, r->tag);
	put64(b + 8, r->shmid);
	put64(b + 16, r->first);
	put64(b + 24, r->count);
}

void lz_rp_get_req(const uint8_t b[LZ_RP_REQ_SIZE], struct lz_rp_req *r)
{
	r->type = get32(b);
	r->tag = get32(b + 4);
	r->shmid = get64(b + 8);
	r->first = get64(b + 16);
	r->count = get64(b + 24);
}

void lz_rp_put_resp(uint8_t b[LZ_RP_RESP_SIZE], const struct lz_rp_resp *r)
{
	put32(b, r->type);
	put32(b + 4, (uint32_t)r->status);
	put32(b + 8, r->tag);
	put32(b + 12, r->page_size);
	put64(b + 16, r->shmid);
	put64(b + 24, r->first);
	put64(b + 32, r->count);
	put64(b + 40, r->len);
	put64(b + 48, r->digest);
}

void lz_rp_get_resp(const uint8_t b[LZ_RP_RESP_SIZE], struct lz_rp_resp *r)
{
	r->type = get32(b);
	r->status = (int32_t)get32(b + 4);
	r->tag = get32(b + 8);
	r->page_size = get32(b + 12);
	r->shmid = get64(b + 16);
	r->first = get64(b + 24);
	r->count = get64(b + 32);
	r->len = get64(b + 40);
	r->digest = get64(b + 48);
}

int lz_rp_check_hello(const struct lz_rp_hello *h, uint32_t role, const uint8_t id[LZ_RP_DUMP_ID_LEN], char *why,
		      size_t len)
{
	if (h->magic != LZ_RP_MAGIC) {
		snprintf(why, len, "not lazyshm's remote protocol (magic %#x, expected %#x)", h->magic, LZ_RP_MAGIC);
		return -EPROTO;
	}
	if (h->version != LZ_RP_VERSION) {
		snprintf(why, len, "protocol version %u, this side speaks %u", h->version, LZ_RP_VERSION);
		return -EPROTO;
	}
	if (h->role != role) {
		snprintf(why, len, "the peer says it is the %s, expected the %s",
			 h->role == LZ_RP_ROLE_SOURCE ? "dump's source" : "destination",
			 role == LZ_RP_ROLE_SOURCE ? "dump's source" : "destination");
		return -EPROTO;
	}
	if (memcmp(h->dump_id, id, LZ_RP_DUMP_ID_LEN)) {
		snprintf(why, len, "the peer has another dump (its dump id differs from this one's)");
		return -ESTALE;
	}
	return 0;
}

uint64_t lz_rp_max_count(uint32_t page_size)
{
	return page_size >= LZ_RP_MAX_BYTES || !page_size ? 1 : LZ_RP_MAX_BYTES / page_size;
}

int lz_rp_check_resp(const struct lz_rp_resp *r, const struct lz_rp_req *q, uint32_t page_size, char *why,
		     size_t len)
{
	if (r->tag != q->tag || r->shmid != q->shmid || r->first != q->first || r->count != q->count) {
		snprintf(why, len,
			 "response (tag %u, shmid %#" PRIx64 ", pages %" PRIu64 "+%" PRIu64 ") does not answer the request "
			 "(tag %u, shmid %#" PRIx64 ", pages %" PRIu64 "+%" PRIu64 ")",
			 r->tag, r->shmid, r->first, r->count, q->tag, q->shmid, q->first, q->count);
		return -EPROTO;
	}
	if (r->type == LZ_RP_ERROR) {
		if (r->status >= 0 || r->len > LZ_RP_MAX_TEXT) {
			snprintf(why, len, "error response with status %d and %" PRIu64 " bytes of text", r->status, r->len);
			return -EPROTO;
		}
		return 0;
	}
	if (r->type != LZ_RP_DATA || r->status || r->page_size != page_size ||
	    q->count > lz_rp_max_count(page_size) || r->len != q->count * page_size) {
		snprintf(why, len,
			 "data response of type %u, status %d, page size %u, %" PRIu64 " bytes for %" PRIu64
			 " pages of %u",
			 r->type, r->status, r->page_size, r->len, q->count, page_size);
		return -EPROTO;
	}
	return 0;
}
