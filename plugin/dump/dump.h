/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dump side of the lazyshm plugin: index the shared memory CRIU just dumped
 * and write lazyshm-shmem.img (per-page digests, page-table presence) into
 * the image directory, together with the files stored by the DUMP_FILE
 * hook (files-dump.h).
 */
#ifndef __LAZYSHM_DUMP_H__
#define __LAZYSHM_DUMP_H__

/*
 * DUMP_FINISH after a successful dump, tasks frozen: write the image with
 * the digests of CRIU's objects pending (computed at once with
 * --lazy-pages, whose destination needs them first), then start serving
 * the objects the dump's source serves (remote-src.h); frees the file list
 * (lz_dump_files_fini()) and the presence records whatever the outcome. 0;
 * -1 with the cause in CRIU's log (no image is left behind then), which
 * while files were stored means the dump is not restorable and must count
 * as failed; 1 (logged) when objects whose content is not in the images
 * cannot be served, or with --lazy-pages when the digests cannot be
 * computed: the dump must fail.
 */
int lazyshm_dump_finish(void);
/*
 * DUMP_RELEASED after a successful dump, tasks released: compute the
 * pending digests and rewrite the image. 0, or -EIO with "restores of this
 * dump cannot be validated: ..." in CRIU's log (the image stays pending).
 */
int lazyshm_dump_released(void);

#endif /* __LAZYSHM_DUMP_H__ */
