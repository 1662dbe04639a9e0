// SPDX-License-Identifier: GPL-2.0-or-later
/* The destination's side of the remote protocol; see remote-client.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "lzdigest.h"

#include "remote-client.h"

int lz_rc_hello(struct lz_xport *x, const uint8_t id[LZ_RP_DUMP_ID_LEN], char *err, size_t errlen)
{
	struct lz_rp_hello h = { .magic = LZ_RP_MAGIC, .version = LZ_RP_VERSION, .role = LZ_RP_ROLE_DEST };
	uint8_t b[LZ_RP_HELLO_SIZE];
	char why[160];
	int ret;

	memcpy(h.dump_id, id, LZ_RP_DUMP_ID_LEN);
	lz_rp_put_hello(b, &h);
	if (lz_xport_send(x, b, sizeof(b), err, errlen))
		return -EIO;
	ret = lz_xport_recv(x, b, sizeof(b), err, errlen);
	if (ret <= 0) {
		if (!ret)
			snprintf(err, errlen, "%s closed the connection before its hello", lz_xport_peer(x));
		return ret ? ret : -ECONNRESET;
	}
	lz_rp_get_hello(b, &h);
	ret = lz_rp_check_hello(&h, LZ_RP_ROLE_SOURCE, id, why, sizeof(why));
	if (!ret && h.status)
		snprintf(why, sizeof(why), "it refused us: %s", strerror(-h.status));
	if (ret || h.status) {
		snprintf(err, errlen, "%s: %s", lz_xport_peer(x), why);
		return ret ? ret : (h.status < 0 ? h.status : -EPROTO);
	}
	return 0;
}

/* The text of an ERROR response into @err */
static int refused(struct lz_xport *x, const struct lz_rp_resp *r, int *status, char *err, size_t errlen)
{
	char text[LZ_RP_MAX_TEXT + 1];
	int ret;

	ret = r->len ? lz_xport_recv(x, text, r->len, err, errlen) : 1;
	if (ret <= 0)
		return ret ? ret : -ECONNRESET;
	text[r->len] = '\0';
	snprintf(err, errlen, "%s refused shmid %#" PRIx64 " pages %" PRIu64 "+%" PRIu64 ": %s", lz_xport_peer(x),
		 r->shmid, r->first, r->count, text);
	*status = r->status;
	return 0;
}

int lz_rc_get(struct lz_xport *x, uint32_t tag, uint64_t shmid, uint64_t first, uint64_t count, uint32_t page_size,
	      void *buf, int *status, char *err, size_t errlen)
{
	struct lz_rp_req q = { .type = LZ_RP_GET, .tag = tag, .shmid = shmid, .first = first, .count = count };
	uint8_t b[LZ_RP_RESP_SIZE];
	struct lz_rp_resp r;
	char why[256];
	uint64_t dg;
	int ret;

	lz_rp_put_req(b, &q);
	if (lz_xport_send(x, b, LZ_RP_REQ_SIZE, err, errlen))
		return -EIO;
	ret = lz_xport_recv(x, b, sizeof(b), err, errlen);
	if (ret <= 0) {
		if (!ret)
			snprintf(err, errlen, "%s closed the connection instead of answering", lz_xport_peer(x));
		return ret ? ret : -ECONNRESET;
	}
	lz_rp_get_resp(b, &r);
	if (lz_rp_check_resp(&r, &q, page_size, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", lz_xport_peer(x), why);
		return -EPROTO;
	}
	if (r.type == LZ_RP_ERROR)
		return refused(x, &r, status, err, errlen);
	ret = lz_xport_recv(x, buf, r.len, err, errlen);
	if (ret <= 0)
		return ret ? ret : -ECONNRESET;
	dg = LZ_XXH3_64(buf, r.len);
	if (dg != r.digest) {
		snprintf(err, errlen,
			 "%s: shmid %#" PRIx64 " pages %" PRIu64 "+%" PRIu64 ": digest %016" PRIx64 ", the source said %016" PRIx64,
			 lz_xport_peer(x), shmid, first, count, dg, r.digest);
		return -EBADMSG;
	}
	return 1;
}

int lz_rc_end(struct lz_xport *x, bool done, char *err, size_t errlen)
{
	struct lz_rp_req q = { .type = done ? LZ_RP_DONE : LZ_RP_FAIL };
	uint8_t b[LZ_RP_REQ_SIZE];

	lz_rp_put_req(b, &q);
	return lz_xport_send(x, b, sizeof(b), err, errlen) ? -EIO : 0;
}
