/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dump side: which pages of each shared object every dumped task has in
 * its page tables, read from /proc/PID/pagemap of the frozen tasks, so
 * that a lazy restore maps into each task only the pages it had (the
 * others get theirs when they fault); and the daemon's reading of them.
 */
#ifndef __LAZYSHM_PRESENCE_H__
#define __LAZYSHM_PRESENCE_H__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lz_object;
struct lz_obj_spec;
struct lz_task_presence;

/* CHECKPOINT_DEVICES: a frozen task, by its pid in criu's pid namespace.
 * Remembered by pidfd; a failure only drops every presence record. */
void lz_presence_task(int real_pid);
/*
 * At DUMP_FINISH, tasks still frozen: read every remembered task's shared
 * mappings of shmem/hugetlb objects and of the @files the plugin stored.
 * The records, valid until lz_presence_fini(); 0 if presence could not be
 * read for some task (then none is recorded: a restore maps every page
 * into every task, as without records).
 */
/*
 * The frozen tasks remembered so far (CHECKPOINT_DEVICES runs for every
 * task before anything is dumped): their number, and in *all whether every
 * task could be remembered; and an O_PATH descriptor of /proc/<pid> of
 * task @i (lz_pidfd_procdir()), or -1.
 */
size_t lz_presence_nr_tasks(bool *all);
int lz_presence_procdir(size_t i);
size_t lz_presence_collect(const struct lz_obj_spec *files, size_t nr_files, const struct lz_task_presence **out);
void lz_presence_fini(void);

/*
 * Daemon: the next run [*a, *b) of pages of @o in [*pos, end) that a
 * restored task had present at dump, by its pid in the images (@forked: it
 * was forked after the restore, and has no record); *pos moves past it.
 * 1, or 0 when there is none left. An object without any presence record
 * (or without a lazyshm image) gives all of [*pos, end) at once; a task
 * without a record in an object that has some gives nothing.
 */
int lz_present_next(const struct lz_object *o, int task, bool forked, uint64_t *pos, uint64_t end, uint64_t *a,
		    uint64_t *b);

#endif /* __LAZYSHM_PRESENCE_H__ */
