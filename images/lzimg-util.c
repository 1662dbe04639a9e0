// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Small helpers of the images/ library: error text, whole-file reads,
 * length-prefixed message cursors, hugetlb size flags.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lzimg-int.h"

int lz_seterr(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -e;
}

uint32_t lz_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void lz_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

uint64_t lz_get_le64(const uint8_t *p)
{
	return (uint64_t)lz_get_le32(p) | (uint64_t)lz_get_le32(p + 4) << 32;
}

void lz_put_le64(uint8_t *p, uint64_t v)
{
	lz_put_le32(p, (uint32_t)v);
	lz_put_le32(p + 4, (uint32_t)(v >> 32));
}

static int read_all(int fd, uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shrank while we read it */
		done += n;
	}
	return 0;
}

int lz_read_file(int dirfd, const char *name, uint64_t max, void **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *b = NULL;
	int fd, ret;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return lz_seterr(err, errlen, errno, "%s: can't open: %s", name, strerror(errno));
	if (fstat(fd, &st) < 0) {
		ret = lz_seterr(err, errlen, errno, "%s: can't stat: %s", name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		ret = lz_seterr(err, errlen, EINVAL, "%s: not a regular file or larger than %llu bytes", name,
				(unsigned long long)max);
		goto out;
	}
	b = malloc(st.st_size ? st.st_size : 1);
	if (!b) {
		ret = lz_seterr(err, errlen, ENOMEM, "%s: no memory for %lld bytes", name, (long long)st.st_size);
		goto out;
	}
	ret = read_all(fd, b, st.st_size);
	if (ret) {
		lz_seterr(err, errlen, -ret, "%s: read failed: %s", name, strerror(-ret));
		free(b);
		goto out;
	}
	*buf = b;
	*len = st.st_size;
out:
	close(fd);
	return ret;
}

int lz_cursor_next(struct lz_cursor *c, size_t max, const uint8_t **msg, size_t *msglen, char *err, size_t errlen)
{
	size_t left = c->len - c->pos;
	uint32_t n;

	if (left == 0)
		return 0;
	if (left < 4)
		return lz_seterr(err, errlen, EINVAL, "%s: truncated: %zu stray bytes at offset %zu where an entry length was expected",
				 c->fname, left, c->pos);
	n = lz_get_le32(c->buf + c->pos);
	if (n > left - 4)
		return lz_seterr(err, errlen, EINVAL, "%s: truncated: entry at offset %zu claims %u bytes, only %zu left",
				 c->fname, c->pos, n, left - 4);
	if (n > max)
		return lz_seterr(err, errlen, EINVAL, "%s: entry at offset %zu is %u bytes, more than the %zu allowed",
				 c->fname, c->pos, n, max);
	*msg = c->buf + c->pos + 4;
	*msglen = n;
	c->pos += 4 + (size_t)n;
	return 1;
}

int lz_cursor_skip(struct lz_cursor *c, uint64_t n, char *err, size_t errlen)
{
	if (n > c->len - c->pos)
		return lz_seterr(err, errlen, EINVAL, "%s: truncated: %llu data bytes expected at offset %zu", c->fname,
				 (unsigned long long)n, c->pos);
	c->pos += n;
	return 0;
}

int lz_cursor_criu_magic(struct lz_cursor *c, uint32_t magic, char *err, size_t errlen)
{
	uint32_t m0, m1;

	if (c->len - c->pos < 8)
		return lz_seterr(err, errlen, EINVAL, "%s: truncated: %zu bytes, too short for CRIU's image magic", c->fname,
				 c->len - c->pos);
	m0 = lz_get_le32(c->buf + c->pos);
	m1 = lz_get_le32(c->buf + c->pos + 4);
	if (m0 != CRIU_IMG_COMMON_MAGIC && m0 != CRIU_IMG_SERVICE_MAGIC)
		return lz_seterr(err, errlen, EINVAL, "%s: bad head magic %#x (not a CRIU image)", c->fname, m0);
	if (m1 != magic)
		return lz_seterr(err, errlen, EINVAL, "%s: bad magic %#x, expected %#x", c->fname, m1, magic);
	c->pos += 8;
	return 0;
}

uint64_t lz_default_hugepage_size(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	if (!f)
		return 2ULL << 20;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Hugepagesize: %llu kB", &kb) == 1)
			break;
	}
	if (fclose(f))
		kb = 0;
	return kb ? kb << 10 : 2ULL << 20;
}

uint64_t lz_hugetlb_flag_size(uint32_t flag)
{
	uint32_t shift = (flag >> 26) & 0x3f;

	if (!shift)
		return lz_default_hugepage_size();
	if (shift >= 63)
		return 0;
	return 1ULL << shift;
}
