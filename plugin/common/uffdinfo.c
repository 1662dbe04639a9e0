// SPDX-License-Identifier: GPL-2.0-or-later
/* What a userfaultfd was opened with; see uffdinfo.h */
#include <linux/userfaultfd.h>
#include <stdio.h>

#include "uffd-compat.h"
#include "uffdinfo.h"

bool lz_uffd_wp_async(int uffd)
{
	unsigned long long features = 0;
	char path[64], line[128];
	unsigned int api;
	bool wp = false;
	FILE *f;

	/* "API:\t<UFFD_API>:<features>:<ioctls>" (fs/userfaultfd.c) */
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", uffd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "API:\t%x:%llx:", &api, &features) == 2)
			wp = features & UFFD_FEATURE_WP_ASYNC;
	fclose(f);
	return wp;
}
