// SPDX-License-Identifier: GPL-2.0-or-later
/* Plugin settings from the environment; see config.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "kinds.h"
#include "log.h"

static int read_bool(const char *name, bool dflt, bool *val)
{
	const char *v = getenv(name);

	*val = dflt;
	if (!v || !*v)
		return 0;
	if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "on"))
		*val = true;
	else if (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "off"))
		*val = false;
	else {
		pr_err("%s=%s: expected 1 or 0\n", name, v);
		return -1;
	}
	return 0;
}

const char *lz_files_policy_name(int policy)
{
	switch (policy) {
	case LZ_FILES_DEFAULT:
		return "default";
	case LZ_FILES_ALL:
		return "all";
	case LZ_FILES_NONE:
		return "none";
	}
	return "unknown";
}

static int read_files_policy(int *policy)
{
	const char *v = getenv("LAZYSHM_FILES");
	int p;

	*policy = LZ_FILES_DEFAULT;
	if (!v || !*v)
		return 0;
	for (p = LZ_FILES_DEFAULT; p <= LZ_FILES_NONE; p++) {
		if (!strcmp(v, lz_files_policy_name(p))) {
			*policy = p;
			return 0;
		}
	}
	pr_err("LAZYSHM_FILES=%s: expected default (every hugetlbfs file and unlinked tmpfs files), "
	       "all (also named tmpfs files) or none\n",
	       v);
	return -1;
}

/* A setting that takes one of @names (index = value); unset: 0 */
static int read_choice(const char *name, const char *const *names, int nr, int *val)
{
	const char *v = getenv(name);
	int i;

	*val = 0;
	if (!v || !*v)
		return 0;
	for (i = 0; i < nr; i++) {
		if (!strcmp(v, names[i])) {
			*val = i;
			return 0;
		}
	}
	pr_err("%s=%s: expected one of %s, %s%s%s\n", name, v, names[0], names[1], nr > 2 ? ", " : "",
	       nr > 2 ? names[2] : "");
	return -1;
}

static int read_fd_lazy(uint32_t *mask)
{
	const char *v = getenv("LAZYSHM_FD_LAZY");
	char bad[64];

	*mask = 0;
	if (!v || !*v)
		return 0;
	if (lz_kinds_parse(v, mask, bad, sizeof(bad)) == 0)
		return 0;
	pr_err("LAZYSHM_FD_LAZY=%s: '%s' is not a kind (anon-shared, memfd, hugetlb-memfd, hugetlb-file, shm-file, "
	       "...)\n",
	       v, bad);
	return -1;
}

static int read_restore_files(struct lz_config *c)
{
	static const char *const existing[] = { "refuse", "replace", "use" };
	static const char *const eager_lazy[] = { "eager", "lazy" };
	/* the order of daemon/replay.h's LZ_REPLAY_* */
	static const char *const replay[] = { "on", "off", "record" };
	int named, sysv;

	if (read_choice("LAZYSHM_FILES_EXISTING", existing, 3, &c->files_existing) ||
	    read_choice("LAZYSHM_FILES_NAMED", eager_lazy, 2, &named) ||
	    read_choice("LAZYSHM_SYSV", eager_lazy, 2, &sysv) || read_fd_lazy(&c->fd_lazy) ||
	    read_choice("LAZYSHM_REPLAY", replay, 3, &c->replay))
		return -1;
	c->files_named_eager = named == 0;
	c->sysv_lazy = sysv == 1;
	return 0;
}

/* An unsigned number in [lo, hi]; unset: @dflt */
static int read_uint(const char *name, unsigned long lo, unsigned long hi, unsigned dflt, unsigned *val)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	*val = dflt;
	if (!v || !*v)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n < lo || n > hi) {
		pr_err("%s=%s: expected %lu to %lu\n", name, v, lo, hi);
		return -1;
	}
	*val = n;
	return 0;
}

static int read_remote(struct lz_config *c)
{
	return read_bool("LAZYSHM_REMOTE", true, &c->remote) ||
	       read_uint("LAZYSHM_REMOTE_PORT", 1, 65535, 0, &c->remote_port) ||
	       read_uint("LAZYSHM_REMOTE_TIMEOUT", 1, 86400, 60, &c->remote_timeout_s) ||
	       read_uint("LAZYSHM_REMOTE_WINDOW", 1, 1024, 0, &c->remote_window_mb);
}

/* Two fill at about twice the speed of one here (2 CPUs), with the app running */
static int read_threads(unsigned *n)
{
	return read_uint("LAZYSHM_FILL_THREADS", 1, 8, sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1, n);
}

int lz_config_read(struct lz_config *c)
{
	const char *mode = getenv("LAZYSHM_MODE");

	c->lazy = true;
	if (mode && *mode) {
		if (!strcmp(mode, "eager"))
			c->lazy = false;
		else if (strcmp(mode, "lazy")) {
			pr_err("LAZYSHM_MODE=%s: expected lazy or eager\n", mode);
			return -1;
		}
	}
	if (read_files_policy(&c->files_policy) || read_restore_files(c) ||
	    read_uint("LAZYSHM_TEST_FILL_DELAY_MS", 0, 60000, 0, &c->test_fill_delay_ms) || read_threads(&c->fill_threads) ||
	    read_remote(c))
		return -1;
	/* the testing knob slows one thread down, as the tests' timings assume */
	if (c->test_fill_delay_ms && !getenv("LAZYSHM_FILL_THREADS"))
		c->fill_threads = 1;
	return read_bool("LAZYSHM_VALIDATE", true, &c->validate);
}
