/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * XXH3-64 as lazyshm computes it everywhere (page digests at dump, checks
 * at restore): libxxhash's runtime dispatch picks the widest vector unit
 * the CPU has (AVX2/AVX-512: ~3x the SSE2 baseline Debian builds for), and
 * the digests are the same whichever it picks.
 */
#ifndef __LAZYSHM_LZDIGEST_H__
#define __LAZYSHM_LZDIGEST_H__

#include <xxhash.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xxh_x86dispatch.h>
#define LZ_XXH3_64(buf, len)		XXH3_64bits_dispatch(buf, len)
#define LZ_XXH3_UPDATE(state, buf, len) XXH3_64bits_update_dispatch(state, buf, len)
#else
#define LZ_XXH3_64(buf, len)		XXH3_64bits(buf, len)
#define LZ_XXH3_UPDATE(state, buf, len) XXH3_64bits_update(state, buf, len)
#endif

#endif /* __LAZYSHM_LZDIGEST_H__ */
