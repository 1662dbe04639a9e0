// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TCP with optional TLS between the dump's source and the destination; see
 * xport.h. Sockets are non-blocking: every wait is a poll() on the socket
 * and the cancel descriptor with a deadline. gnutls reads and writes the
 * socket through tls_push/tls_pull (send() with MSG_NOSIGNAL: a peer gone
 * must not kill criu with SIGPIPE); GNUTLS_E_AGAIN sends us back to poll()
 * in the direction it says. TCP_USER_TIMEOUT and keepalives make the
 * kernel fail a connection whose peer stops answering for idle_ms, also
 * while no message is under way.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "xport.h"

/* CRIU's defaults (criu/tls.c, SYSCONFDIR /etc) */
#define PKI_DIR	    "/etc/pki"
#define DFL_CACERT  PKI_DIR "/CA/cacert.pem"
#define DFL_CACRL   PKI_DIR "/CA/cacrl.pem"
#define DFL_CERT    PKI_DIR "/criu/cert.pem"
#define DFL_KEY	    PKI_DIR "/criu/private/key.pem"
#define PEER_LEN    (INET6_ADDRSTRLEN + 8)
#define MAX_TIMEOUT (24u * 3600 * 1000)

struct lz_xport {
	int sk;
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
	unsigned idle_ms;
	int cancel_fd;
	char peer[PEER_LEN];
};

static int seterr(char *err, size_t errlen, int e, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int seterr(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -e;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		return 0; /* cannot fail with these arguments */
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait until @sk has @events or @deadline (ms, CLOCK_MONOTONIC; < 0: none)
 * passes. 0, -ETIMEDOUT, -ECANCELED (cancel_fd readable) or -errno.
 */
static int wait_sk(int sk, int cancel_fd, short events, int64_t deadline)
{
	struct pollfd p[2] = { { .fd = sk, .events = events }, { .fd = cancel_fd, .events = POLLIN } };
	int n, left;

	for (;;) {
		left = deadline < 0 ? -1 : (int)(deadline > now_ms() ? deadline - now_ms() : 0);
		n = poll(p, cancel_fd >= 0 ? 2 : 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		if (cancel_fd >= 0 && p[1].revents)
			return -ECANCELED;
		return 0;
	}
}

static int64_t deadline_in(unsigned ms)
{
	return now_ms() + (ms ? ms : LZ_XPORT_IDLE_MS);
}

static const char *why(int e)
{
	if (e == ETIMEDOUT)
		return "timed out";
	if (e == ECANCELED)
		return "cancelled";
	return strerror(e);
}

/* A peer that stops answering fails the socket after @ms, idle or not: 0 or -errno */
static int set_liveness(int sk, unsigned ms)
{
	int one = 1, idle = ms / 3000 ? ms / 3000 : 1, cnt = 3;
	unsigned int ut = ms;

	if (setsockopt(sk, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    setsockopt(sk, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
	    setsockopt(sk, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) ||
	    setsockopt(sk, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle)) ||
	    setsockopt(sk, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) ||
	    setsockopt(sk, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut)))
		return -errno;
	return 0;
}

static void peer_name(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";

	if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV))
		snprintf(host, sizeof(host), "?");
	snprintf(buf, size, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
}

/* The connection on @sk (closed on failure): 0 and *out, or -errno with @err */
static int xport_new(int sk, const struct lz_xport_cfg *cfg, const char *peer, struct lz_xport **out, char *err,
		     size_t errlen)
{
	struct lz_xport *x = calloc(1, sizeof(*x));
	int ret;

	if (!x) {
		close(sk);
		return seterr(err, errlen, ENOMEM, "connection with %s: no memory", peer);
	}
	x->sk = sk;
	x->idle_ms = cfg->idle_ms ? (cfg->idle_ms < MAX_TIMEOUT ? cfg->idle_ms : MAX_TIMEOUT) : LZ_XPORT_IDLE_MS;
	x->cancel_fd = cfg->cancel_fd;
	snprintf(x->peer, sizeof(x->peer), "%s", peer);
	ret = set_liveness(sk, x->idle_ms);
	if (ret) {
		lz_xport_close(x);
		return seterr(err, errlen, -ret, "connection with %s: can't set its timeouts: %s", peer, strerror(-ret));
	}
	*out = x;
	return 0;
}

static int tls_creds(struct lz_xport *x, const struct lz_xport_tls *t, char *err, size_t errlen)
{
	const char *ca = t->cacert ? t->cacert : DFL_CACERT, *crl = t->cacrl ? t->cacrl : DFL_CACRL;
	const char *cert = t->cert ? t->cert : DFL_CERT, *key = t->key ? t->key : DFL_KEY;
	int ret;

	ret = gnutls_certificate_allocate_credentials(&x->cred);
	if (ret)
		return seterr(err, errlen, ENOMEM, "tls with %s: no credentials: %s", x->peer, gnutls_strerror(ret));
	if (!t->cacert && gnutls_certificate_set_x509_system_trust(x->cred) < 0)
		return seterr(err, errlen, EINVAL, "tls with %s: can't load the system's trusted CAs", x->peer);
	ret = gnutls_certificate_set_x509_trust_file(x->cred, ca, GNUTLS_X509_FMT_PEM);
	if (ret <= 0 && t->cacert)
		return seterr(err, errlen, EINVAL, "tls with %s: no CA certificate in %s: %s", x->peer, ca,
			      ret < 0 ? gnutls_strerror(ret) : "empty");
	if (t->cacrl || access(crl, R_OK) == 0) {
		ret = gnutls_certificate_set_x509_crl_file(x->cred, crl, GNUTLS_X509_FMT_PEM);
		if (ret < 0)
			return seterr(err, errlen, EINVAL, "tls with %s: can't load the revocation list %s: %s", x->peer,
				      crl, gnutls_strerror(ret));
	}
	ret = gnutls_certificate_set_x509_key_file(x->cred, cert, key, GNUTLS_X509_FMT_PEM);
	if (ret)
		return seterr(err, errlen, EINVAL, "tls with %s: can't load certificate %s and key %s: %s", x->peer,
			      cert, key, gnutls_strerror(ret));
	return 0;
}

/* gnutls writes with these: never a SIGPIPE in criu's process when the peer is gone */
static ssize_t tls_push(gnutls_transport_ptr_t p, const void *data, size_t len)
{
	return send(((struct lz_xport *)p)->sk, data, len, MSG_NOSIGNAL);
}

static ssize_t tls_pull(gnutls_transport_ptr_t p, void *data, size_t len)
{
	return recv(((struct lz_xport *)p)->sk, data, len, 0);
}

static int tls_session(struct lz_xport *x, bool server, char *err, size_t errlen)
{
	int ret;

	ret = gnutls_init(&x->tls, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NONBLOCK);
	if (ret) {
		x->tls = NULL;
		return seterr(err, errlen, ENOMEM, "tls with %s: %s", x->peer, gnutls_strerror(ret));
	}
	ret = gnutls_credentials_set(x->tls, GNUTLS_CRD_CERTIFICATE, x->cred);
	if (!ret)
		ret = gnutls_set_default_priority(x->tls);
	if (ret)
		return seterr(err, errlen, EINVAL, "tls with %s: %s", x->peer, gnutls_strerror(ret));
	gnutls_transport_set_ptr(x->tls, x);
	gnutls_transport_set_push_function(x->tls, tls_push);
	gnutls_transport_set_pull_function(x->tls, tls_pull);
	if (server)
		gnutls_certificate_server_set_request(x->tls, GNUTLS_CERT_REQUIRE);
	return 0;
}

/* Wait in the direction gnutls needs; 0 to retry, or -errno */
static int tls_wait(struct lz_xport *x, int64_t deadline)
{
	return wait_sk(x->sk, x->cancel_fd, gnutls_record_get_direction(x->tls) ? POLLOUT : POLLIN, deadline);
}

static int tls_verify(struct lz_xport *x, const char *name, char *err, size_t errlen)
{
	gnutls_datum_t out = { NULL, 0 };
	unsigned int status = 0;
	int ret;

	ret = gnutls_certificate_verify_peers3(x->tls, name, &status);
	if (ret)
		return seterr(err, errlen, EACCES, "tls with %s: can't verify its certificate: %s", x->peer,
			      gnutls_strerror(ret));
	if (!status)
		return 0;
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0))
		out.data = NULL; /* then say "invalid" */
	seterr(err, errlen, EACCES, "tls with %s: its certificate is refused%s%s: %s", x->peer, name ? " for " : "",
	       name ? name : "", out.data ? (char *)out.data : "invalid");
	gnutls_free(out.data);
	return -EACCES;
}

static int tls_start(struct lz_xport *x, const struct lz_xport_tls *t, bool server, int64_t deadline, char *err,
		     size_t errlen)
{
	int ret;

	ret = tls_creds(x, t, err, errlen);
	if (!ret)
		ret = tls_session(x, server, err, errlen);
	while (!ret) {
		ret = gnutls_handshake(x->tls);
		if (ret == GNUTLS_E_SUCCESS)
			return tls_verify(x, t->verify_name, err, errlen);
		if (ret != GNUTLS_E_AGAIN && ret != GNUTLS_E_INTERRUPTED && gnutls_error_is_fatal(ret))
			return seterr(err, errlen, EPROTO, "tls handshake with %s failed: %s", x->peer,
				      gnutls_strerror(ret));
		ret = tls_wait(x, deadline);
		if (ret)
			return seterr(err, errlen, -ret, "tls handshake with %s: %s", x->peer, why(-ret));
	}
	return ret;
}

static int sockaddr_of(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (!addr || !*addr || inet_pton(AF_INET, addr, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) != 1)
		return -EINVAL;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	*len = sizeof(*in6);
	return 0;
}

int lz_xport_listen(const char *addr, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	const char *a = addr && *addr ? addr : "0.0.0.0";
	socklen_t len;
	int sk, one = 1, ret;

	if (sockaddr_of(addr, port, &ss, &len))
		return seterr(err, errlen, EINVAL, "listen on %s: not an IPv4 or IPv6 address", a);
	sk = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (sk < 0)
		return seterr(err, errlen, errno, "listen on %s:%u: socket: %s", a, port, strerror(errno));
	if (setsockopt(sk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) || bind(sk, (struct sockaddr *)&ss, len) ||
	    listen(sk, 4)) {
		ret = seterr(err, errlen, errno, "listen on %s:%u: %s", a, port, strerror(errno));
		close(sk);
		return ret;
	}
	return sk;
}

int lz_xport_accept(int lsk, const struct lz_xport_cfg *cfg, int timeout_ms, struct lz_xport **out, char *err,
		    size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char peer[PEER_LEN];
	struct lz_xport *x;
	int sk, ret;

	ret = wait_sk(lsk, cfg->cancel_fd, POLLIN, timeout_ms < 0 ? -1 : now_ms() + timeout_ms);
	if (ret)
		return seterr(err, errlen, -ret, "waiting for a connection: %s", why(-ret));
	sk = accept4(lsk, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (sk < 0)
		return seterr(err, errlen, errno, "accept: %s", strerror(errno));
	peer_name((struct sockaddr *)&ss, len, peer, sizeof(peer));
	ret = xport_new(sk, cfg, peer, &x, err, errlen);
	if (ret)
		return ret;
	ret = cfg->tls.on ? tls_start(x, &cfg->tls, true, deadline_in(cfg->connect_ms ?: LZ_XPORT_CONNECT_MS), err,
				      errlen) :
			    0;
	if (ret) {
		lz_xport_close(x);
		return ret;
	}
	*out = x;
	return 0;
}

/* A non-blocking connect to one address within the deadline: fd or -errno */
static int connect_one(const struct addrinfo *ai, int cancel_fd, int64_t deadline)
{
	socklen_t len = sizeof(int);
	int sk, ret, soerr = 0;

	sk = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (sk < 0)
		return -errno;
	if (connect(sk, ai->ai_addr, ai->ai_addrlen) == 0)
		return sk;
	ret = errno == EINPROGRESS ? wait_sk(sk, cancel_fd, POLLOUT, deadline) : -errno;
	if (!ret && getsockopt(sk, SOL_SOCKET, SO_ERROR, &soerr, &len))
		ret = -errno;
	if (!ret && soerr)
		ret = -soerr;
	if (ret) {
		close(sk);
		return ret;
	}
	return sk;
}

int lz_xport_connect(const char *host, uint16_t port, const struct lz_xport_cfg *cfg, struct lz_xport **out,
		     char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP }, *ai = NULL, *p;
	int64_t deadline = deadline_in(cfg->connect_ms ?: LZ_XPORT_CONNECT_MS);
	char svc[8], peer[PEER_LEN];
	struct lz_xport *x;
	int sk = -EHOSTUNREACH, ret;

	snprintf(svc, sizeof(svc), "%u", port);
	ret = getaddrinfo(host, svc, &hints, &ai);
	if (ret)
		return seterr(err, errlen, EHOSTUNREACH, "connect to %s:%u: %s", host, port, gai_strerror(ret));
	for (p = ai; p; p = p->ai_next) {
		peer_name(p->ai_addr, p->ai_addrlen, peer, sizeof(peer));
		sk = connect_one(p, cfg->cancel_fd, deadline);
		if (sk >= 0 || sk == -ETIMEDOUT || sk == -ECANCELED)
			break;
	}
	freeaddrinfo(ai);
	if (sk < 0)
		return seterr(err, errlen, -sk, "connect to %s:%u: %s", host, port, why(-sk));
	ret = xport_new(sk, cfg, peer, &x, err, errlen);
	if (ret)
		return ret;
	ret = cfg->tls.on ? tls_start(x, &cfg->tls, false, deadline, err, errlen) : 0;
	if (ret) {
		lz_xport_close(x);
		return ret;
	}
	*out = x;
	return 0;
}

/* One write of at most @len: > 0 bytes, or -EAGAIN to wait, or -errno */
static ssize_t put(struct lz_xport *x, const uint8_t *p, size_t len)
{
	ssize_t n;

	if (!x->tls) {
		n = send(x->sk, p, len, MSG_NOSIGNAL);
		return n >= 0 ? n : (errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno);
	}
	n = gnutls_record_send(x->tls, p, len);
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
		return -EAGAIN;
	return n >= 0 ? n : -EPROTO;
}

int lz_xport_send(struct lz_xport *x, const void *buf, size_t len, char *err, size_t errlen)
{
	int64_t deadline = deadline_in(x->idle_ms);
	const uint8_t *p = buf;
	ssize_t n;
	int ret;

	while (len) {
		n = put(x, p, len);
		if (n > 0) {
			p += n;
			len -= n;
			deadline = deadline_in(x->idle_ms);
			continue;
		}
		if (n != -EAGAIN)
			return seterr(err, errlen, (int)-n, "send to %s: %s", x->peer, why((int)-n));
		ret = x->tls ? tls_wait(x, deadline) : wait_sk(x->sk, x->cancel_fd, POLLOUT, deadline);
		if (ret)
			return seterr(err, errlen, -ret, "send to %s: %s", x->peer, why(-ret));
	}
	return 0;
}

/* One read of at most @len: > 0 bytes, 0 at EOF, -EAGAIN to wait, or -errno */
static ssize_t get(struct lz_xport *x, uint8_t *p, size_t len)
{
	ssize_t n;

	if (!x->tls) {
		n = recv(x->sk, p, len, 0);
		return n >= 0 ? n : (errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno);
	}
	n = gnutls_record_recv(x->tls, p, len);
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
		return -EAGAIN;
	if (n == GNUTLS_E_PREMATURE_TERMINATION)
		return 0;
	return n >= 0 ? n : -EPROTO;
}

int lz_xport_recv(struct lz_xport *x, void *buf, size_t len, char *err, size_t errlen)
{
	int64_t deadline = deadline_in(x->idle_ms);
	size_t got = 0, want = len;
	uint8_t *p = buf;
	ssize_t n;
	int ret;

	while (got < want) {
		n = get(x, p + got, want - got);
		if (n > 0) {
			got += n;
			deadline = deadline_in(x->idle_ms);
			continue;
		}
		if (n == 0 && got == 0)
			return 0;
		if (n == 0)
			return seterr(err, errlen, ECONNRESET, "receive from %s: connection closed after %zu of %zu bytes",
				      x->peer, got, want);
		if (n != -EAGAIN)
			return seterr(err, errlen, (int)-n, "receive from %s: %s", x->peer,
				      n == -EPROTO ? "tls record error" : why((int)-n));
		ret = x->tls ? tls_wait(x, deadline) : wait_sk(x->sk, x->cancel_fd, POLLIN, deadline);
		if (ret)
			return seterr(err, errlen, -ret, "receive from %s: %s after %zu of %zu bytes", x->peer, why(-ret),
				      got, want);
	}
	return 1;
}

int lz_xport_wait(struct lz_xport *x, int timeout_ms, char *err, size_t errlen)
{
	int ret;

	if (x->tls && gnutls_record_check_pending(x->tls))
		return 1;
	ret = wait_sk(x->sk, x->cancel_fd, POLLIN, timeout_ms < 0 ? -1 : now_ms() + timeout_ms);
	if (ret == -ETIMEDOUT)
		return 0;
	if (ret)
		return seterr(err, errlen, -ret, "waiting for %s: %s", x->peer, why(-ret));
	return 1;
}

int lz_xport_wait_fd(struct lz_xport *x, int fd, int timeout_ms, char *err, size_t errlen)
{
	struct pollfd p[3] = { { .fd = x->sk, .events = POLLIN }, { .fd = fd, .events = POLLIN }, { .fd = x->cancel_fd, .events = POLLIN } };
	int n;

	if (x->tls && gnutls_record_check_pending(x->tls))
		return 1;
	do
		n = poll(p, x->cancel_fd >= 0 ? 3 : 2, timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return seterr(err, errlen, errno, "waiting for %s: %s", x->peer, strerror(errno));
	if (n == 0)
		return 0;
	if (x->cancel_fd >= 0 && p[2].revents)
		return seterr(err, errlen, ECANCELED, "waiting for %s: %s", x->peer, why(ECANCELED));
	return p[0].revents ? 1 : 2;
}

const char *lz_xport_peer(const struct lz_xport *x)
{
	return x->peer;
}

bool lz_xport_tls(const struct lz_xport *x)
{
	return x->tls != NULL;
}

void lz_xport_close(struct lz_xport *x)
{
	if (!x)
		return;
	if (x->tls) {
		/* one try at a goodbye: a peer that is gone must not hold us up */
		(void)gnutls_bye(x->tls, GNUTLS_SHUT_WR);
		gnutls_deinit(x->tls);
	}
	if (x->cred)
		gnutls_certificate_free_credentials(x->cred);
	/* a socket: nothing was buffered that close() could fail to write */
	if (x->sk >= 0)
		(void)close(x->sk);
	free(x);
}
