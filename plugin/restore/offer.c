// SPDX-License-Identifier: GPL-2.0-or-later
/* The restore side of the object registry; see offer.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fdstore.h"
#include "log.h"
#include "offer.h"
#include "registry.h"

/* Set in the main criu process, inherited by every restored task */
static struct {
	int fdstore_id; /* of the connection, -1 if there is none */
	char why[256];	/* why there is none */
} O = { .fdstore_id = -1 };

int lz_offer_init(void)
{
	int wd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC), sk, err;

	O.fdstore_id = -1;
	if (wd < 0) {
		pr_perror("cannot open the work directory");
		return -1;
	}
	sk = lz_registry_connect(wd, &err, O.why, sizeof(O.why));
	close(wd);
	if (sk < 0) {
		if (err == EPERM)
			pr_warn("%s\n", O.why);
		return 0;
	}
	O.fdstore_id = fdstore_add(sk);
	close(sk);
	if (O.fdstore_id < 0) {
		pr_err("cannot keep the registry connection in the fdstore\n");
		return -1;
	}
	pr_info("connected to the lazy-pages daemon's object registry\n");
	return 0;
}

int lz_offer(int fd, uint64_t shmid, uint64_t size, int kind, unsigned int seals, unsigned int flags, char *why,
	     size_t len)
{
	struct lz_offer o = { .kind = kind, .seals = seals, .flags = flags, .shmid = shmid, .size = size };
	int sk, ret;

	if (O.fdstore_id < 0) {
		snprintf(why, len, "%s", O.why);
		return 0;
	}
	sk = fdstore_get(O.fdstore_id);
	if (sk < 0) {
		snprintf(why, len, "cannot get the registry connection from the fdstore");
		return -1;
	}
	ret = lz_registry_offer(sk, fd, &o, why, len);
	close(sk);
	return ret;
}
