// SPDX-License-Identifier: GPL-2.0-or-later
/* Images with pending digests; see pending.h. */
#include <inttypes.h>

#include "criu-plugin.h"
#include "log.h"
#include "lzimg.h"
#include "pending.h"

int lz_refuse_pending(const struct lz_image *img, bool validate)
{
	size_t i, n = img ? lzimg_nr_pending(img) : 0;
	const struct lz_obj *o = NULL;

	if (!n)
		return 0;
	for (i = 0; !o && i < lzimg_nr_objs(img); i++)
		if (lzimg_obj(img, i)->digests_pending)
			o = lzimg_obj(img, i);
	if (!validate) {
		pr_warn("%s: the page digests of %zu objects are pending: LAZYSHM_VALIDATE=0, restored unvalidated\n",
			LZIMG_FILE, n);
		return 0;
	}
	pr_err("%s: the page digests of %zu objects (first: %s shmid %#" PRIx64 " \"%s\") are still pending: the "
	       "dump could not compute them after it released the tasks (its log says why), so no page of this dump "
	       "can be validated; LAZYSHM_VALIDATE=0 restores it unvalidated\n",
	       LZIMG_FILE, n, lzimg_kind_name(o->kind), o->shmid, o->name);
	return -1;
}
