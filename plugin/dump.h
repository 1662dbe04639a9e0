/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dump side of the lazyshm plugin: index the shared memory CRIU just dumped
 * and write lazyshm-shmem.img (per-page digests) into the image directory,
 * together with the files stored by the DUMP_FILE hook (files-dump.h).
 */
#ifndef __LAZYSHM_DUMP_H__
#define __LAZYSHM_DUMP_H__

/*
 * Called from fini(CR_PLUGIN_STAGE__DUMP) after a successful dump; frees
 * the file list (lz_dump_files_fini()) whatever the outcome. 0, or -1 with
 * the cause in CRIU's log (no image is left behind then). -1 while files
 * were stored means the dump is not restorable and must count as failed.
 */
int lazyshm_dump_finish(void);

#endif /* __LAZYSHM_DUMP_H__ */
