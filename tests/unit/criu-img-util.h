/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writing CRIU-format images in unit tests: a u32 length, then the packed
 * protobuf message. Include after <cmocka.h> and a *.pb-c.h.
 */
#ifndef __LAZYSHM_CRIU_IMG_UTIL_H__
#define __LAZYSHM_CRIU_IMG_UTIL_H__

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static inline void put32(int fd, uint32_t v)
{
	assert_int_equal(write(fd, &v, 4), 4);
}

static inline void put_msg(int fd, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b = malloc(n + 1);

	assert_non_null(b);
	protobuf_c_message_pack(m, b);
	put32(fd, n);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	free(b);
}

#endif /* __LAZYSHM_CRIU_IMG_UTIL_H__ */
