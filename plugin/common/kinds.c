// SPDX-License-Identifier: GPL-2.0-or-later
/* The one vocabulary of memory kinds; see kinds.h. */
#include <stdio.h>
#include <string.h>

#include "criu-plugin.h"
#include "kinds.h"
#include "lzimg.h"

int lz_kind_of(int cr_kind, uint64_t psz)
{
	bool huge = psz > 4096;

	switch (cr_kind) {
	case CR_SHMEM_ANON:
		return huge ? LZ_KIND_HUGETLB_ANON : LZ_KIND_ANON_SHARED;
	case CR_SHMEM_SYSV:
		return huge ? LZ_KIND_HUGETLB_SYSV : LZ_KIND_SYSV;
	case CR_SHMEM_MEMFD:
		return huge ? LZ_KIND_HUGETLB_MEMFD : LZ_KIND_MEMFD;
	case LZ_OBJ_FILE:
		return huge ? LZ_KIND_HUGETLB_FILE : LZ_KIND_SHM_FILE;
	}
	return 0;
}

const char *lz_kind_name(int cr_kind, uint64_t psz)
{
	return lzimg_kind_name(lz_kind_of(cr_kind, psz));
}

int lz_kinds_parse(const char *list, uint32_t *mask, char *bad, size_t len)
{
	const char *p = list, *e;
	size_t n;
	int k;

	*mask = 0;
	while (*p) {
		e = strchr(p, ',');
		n = e ? (size_t)(e - p) : strlen(p);
		for (k = 1; k <= LZ_KIND_MAX; k++)
			if (n && strlen(lzimg_kind_name(k)) == n && !strncmp(p, lzimg_kind_name(k), n))
				break;
		if (n && k > LZ_KIND_MAX) {
			snprintf(bad, len, "%.*s", (int)n, p);
			return -1;
		}
		if (n)
			*mask |= 1u << k;
		p += n + (e != NULL);
	}
	return 0;
}
