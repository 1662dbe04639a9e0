// SPDX-License-Identifier: GPL-2.0-or-later
/* Does this CRIU speak lazyshm's hooks? See abi.h. */
#include <dlfcn.h>

#include "abi.h"
#include "criu-plugin.h"
#include "log.h"

#define NEEDS_PATCHES                                                                                     \
	"lazyshm_plugin.so needs a criu built with lazyshm's patches (criu-patches/ of lazyshm; "         \
	"`make install` puts one in /opt/lazyshm/bin/criu); remove it from this criu's plugin directory " \
	"or use that criu"

static const struct {
	const char *name;
	int id;
} hooks[] = {
	{ "RESTORE_SHMEM_CONTENT", CR_PLUGIN_HOOK__RESTORE_SHMEM_CONTENT },
	{ "LAZY_PAGES_TASK", CR_PLUGIN_HOOK__LAZY_PAGES_TASK },
	{ "LAZY_PAGES_FAULT", CR_PLUGIN_HOOK__LAZY_PAGES_FAULT },
	{ "LAZY_PAGES_EVENT", CR_PLUGIN_HOOK__LAZY_PAGES_EVENT },
	{ "LAZY_PAGES_IDLE", CR_PLUGIN_HOOK__LAZY_PAGES_IDLE },
	{ "DUMP_REG_FILE", CR_PLUGIN_HOOK__DUMP_REG_FILE },
	{ "RESTORE_REG_FILE", CR_PLUGIN_HOOK__RESTORE_REG_FILE },
	{ "DUMP_FINISH", CR_PLUGIN_HOOK__DUMP_FINISH },
	{ "DUMP_RELEASED", CR_PLUGIN_HOOK__DUMP_RELEASED },
	{ "DUMP_SHMEM_CONTENT", CR_PLUGIN_HOOK__DUMP_SHMEM_CONTENT },
	{ "CHECKPOINT_DEVICES", CR_PLUGIN_HOOK__CHECKPOINT_DEVICES },
	{ "DUMP_TASK_MEM", CR_PLUGIN_HOOK__DUMP_TASK_MEM },
	{ "DUMP_SHMEM_WRITTEN", CR_PLUGIN_HOOK__DUMP_SHMEM_WRITTEN },
	{ "DUMP_SHMEM_PARENT", CR_PLUGIN_HOOK__DUMP_SHMEM_PARENT },
};

typedef int (*hook_id_t)(const char *name);

/* The patched CRIU's lookup, found at run time: an unpatched one has none */
static hook_id_t hook_id(void)
{
	return (hook_id_t)dlsym(RTLD_DEFAULT, "cr_plugin_hook_id");
}

int lz_abi_check(void)
{
	hook_id_t id = hook_id();
	size_t i;
	int n;

	if (!id) {
		pr_err("this criu lacks the lazyshm patches (no cr_plugin_hook_id()): " NEEDS_PATCHES "\n");
		return -1;
	}
	for (i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		n = id(hooks[i].name);
		if (n == hooks[i].id)
			continue;
		pr_err("this criu numbers hook %s %d, lazyshm was built for %d: " NEEDS_PATCHES "\n", hooks[i].name, n,
		       hooks[i].id);
		return -1;
	}
	return 0;
}

/*
 * An unpatched criu refuses the plugin before init() ("Corrupted plugin":
 * it has more hooks than that criu knows), so say why as soon as it is
 * loaded.
 */
__attribute__((constructor)) static void lz_abi_loaded(void)
{
	if (!hook_id())
		pr_err("this criu lacks the lazyshm patches: " NEEDS_PATCHES "\n");
}
