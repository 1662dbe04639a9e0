// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lazyshm: CRIU plugin that restores shmem and hugetlbfs memory lazily.
 *
 * This file only registers the plugin and dispatches the per-stage
 * init/exit calls; each concern lives in its own file.
 */
#include <errno.h>

#include "criu-plugin.h"
#include "log.h"

#define LAZYSHM_VERSION "0.1"

static const char *stage_name(int stage)
{
	switch (stage) {
	case CR_PLUGIN_STAGE__DUMP:
		return "dump";
	case CR_PLUGIN_STAGE__PRE_DUMP:
		return "pre-dump";
	case CR_PLUGIN_STAGE__RESTORE:
		return "restore";
	default:
		return "unknown";
	}
}

static int lazyshm_plugin_init(int stage)
{
	pr_info("lazyshm plugin %s initialized for %s\n", LAZYSHM_VERSION, stage_name(stage));
	return 0;
}

static void lazyshm_plugin_fini(int stage, int ret)
{
	pr_info("lazyshm plugin finished %s (ret %d)\n", stage_name(stage), ret);
}

__attribute__((visibility("default"))) CR_PLUGIN_REGISTER("lazyshm", lazyshm_plugin_init, lazyshm_plugin_fini)
