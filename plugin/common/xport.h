/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A TCP connection between the dump's source and the destination's
 * lazy-pages daemon, with optional TLS (gnutls, X.509), the way CRIU's page
 * server does it: the source listens, the destination connects, each side
 * presents a certificate and checks the peer's against the CA (and CRL),
 * and the name in it unless told not to.
 *
 * No CRIU dependency and no global state (gnutls keeps its own per
 * process): the plugin fills struct lz_xport_cfg from CRIU's options, the
 * tests and tools from their own. Every wait is bounded: connect and the
 * TLS handshake by connect_ms, each read or write by idle_ms, so a dead
 * peer is found; a readable cancel_fd ends any wait at once (-ECANCELED).
 * Errors are one line in @err naming the peer (address:port) and the cause.
 * One connection is used by one thread at a time.
 */
#ifndef __LAZYSHM_XPORT_H__
#define __LAZYSHM_XPORT_H__

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LZ_XPORT_CONNECT_MS 10000 /* connect + handshake, when connect_ms is 0 */
#define LZ_XPORT_IDLE_MS    60000 /* one read or write, when idle_ms is 0 */

struct lz_xport_tls {
	bool on;
	/* PEM files; NULL: CRIU's defaults under /etc/pki (CA: also the system's trust) */
	const char *cacert, *cacrl, *cert, *key;
	/* the peer's certificate must be for this name (CRIU: --address); NULL: not checked */
	const char *verify_name;
};

struct lz_xport_cfg {
	struct lz_xport_tls tls;
	unsigned connect_ms;
	unsigned idle_ms;
	int cancel_fd; /* -1: none */
};

struct lz_xport;

/* A listening socket on @addr (NULL or "": any IPv4 address) and @port. fd, or -errno with @err. */
int lz_xport_listen(const char *addr, uint16_t port, char *err, size_t errlen);
/*
 * Accept one connection on @lsk within @timeout_ms (-1: no limit) and, with
 * TLS, complete the handshake as the server. 0 and *out; -ETIMEDOUT,
 * -ECANCELED or another -errno with @err.
 */
int lz_xport_accept(int lsk, const struct lz_xport_cfg *cfg, int timeout_ms, struct lz_xport **out, char *err,
		    size_t errlen);
/* Connect to @host (an IPv4/IPv6 address or a name) and @port as the client. 0 and *out, or -errno with @err. */
int lz_xport_connect(const char *host, uint16_t port, const struct lz_xport_cfg *cfg, struct lz_xport **out,
		     char *err, size_t errlen);
/* All of @buf. 0, or -errno with @err (the connection is then unusable). */
int lz_xport_send(struct lz_xport *x, const void *buf, size_t len, char *err, size_t errlen);
/*
 * Exactly @len bytes. 1; 0 if the peer closed the connection before the
 * first byte (a clean end between messages); -errno with @err otherwise
 * (-ECONNRESET for a close in the middle, -ETIMEDOUT after idle_ms).
 */
int lz_xport_recv(struct lz_xport *x, void *buf, size_t len, char *err, size_t errlen);
/*
 * Wait up to @timeout_ms (-1: no limit) for something to read (the next
 * message), bounded otherwise only by cancel_fd and the kernel failing a
 * dead connection. 1 readable (or the peer closed: recv says which), 0
 * timed out, -errno with @err.
 */
int lz_xport_wait(struct lz_xport *x, int timeout_ms, char *err, size_t errlen);
/*
 * Same, also woken by @fd becoming readable (an eventfd of the caller's):
 * 1 the connection is readable (or closed), 2 @fd is readable and the
 * connection is not, 0 timed out, -errno with @err.
 */
int lz_xport_wait_fd(struct lz_xport *x, int fd, int timeout_ms, char *err, size_t errlen);
/* "address:port" of the peer */
const char *lz_xport_peer(const struct lz_xport *x);
/* Is the connection protected by TLS? */
bool lz_xport_tls(const struct lz_xport *x);
/* Say goodbye (TLS), close and free; NULL is fine. */
void lz_xport_close(struct lz_xport *x);

#endif /* __LAZYSHM_XPORT_H__ */
