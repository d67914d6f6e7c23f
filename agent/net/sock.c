/* sock.c - TCP sockets with deadlines (see sock.h). */
#define _POSIX_C_SOURCE 200809L
#include "agent/net/sock.h"
#include "store/buf.h"
#include "store/i18n.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t vl_sock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline (-1 = none) for poll: -1, or >= 0. */
static int left_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - vl_sock_now_ms();
	if (left < 0)
		return 0;
	return left > 0x7fffffff ? 0x7fffffff : (int)left;
}

static int64_t deadline_of(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : vl_sock_now_ms() + timeout_ms;
}

/* Wait for `events` on fd until deadline: 0 when ready, VL_ERROR on a
 * timeout or a poll failure. EINTR retries (the deadline still holds). */
static int wait_fd(int fd, short events, int64_t deadline, const char *what)
{
	struct pollfd p;
	int n;

	for (;;) {
		p.fd = fd;
		p.events = events;
		p.revents = 0;
		n = poll(&p, 1, left_ms(deadline));
		if (n > 0)
			return 0;
		if (n == 0)
			return vl_error_set(VL_ERROR, "%s timed out; check the link or try again later", what);
		if (errno != EINTR)
			return vl_error_set(VL_ERROR, "%s: poll failed: %s", what, strerror(errno));
	}
}

static int set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return vl_error_set(VL_ERROR, "cannot make a socket non-blocking: %s", strerror(errno));
	return 0;
}

static int parse_port(uint16_t *port, const char *s, size_t len)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return VL_EINVALID;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return VL_EINVALID;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return VL_EINVALID;
	*port = (uint16_t)v;
	return 0;
}

/* As vl_sock_parse_addr, but port "0" allowed when allow0 (listen). */
static int parse_addr(char *host, size_t hostcap, uint16_t *port, const char *addr,
		uint16_t default_port, int allow0)
{
	size_t len = strnlen(addr, VL_NET_MAX_ADDR + 1), hl;
	const char *h = addr, *colon = NULL, *p;
	uint16_t pt = default_port;

	if (len == 0 || len > VL_NET_MAX_ADDR)
		goto bad;
	if (addr[0] == '[') {
		p = memchr(addr, ']', len);
		if (!p)
			goto bad;
		h = addr + 1;
		hl = (size_t)(p - h);
		if (p + 1 < addr + len) {
			if (p[1] != ':')
				goto bad;
			colon = p + 1;
		}
		if (!memchr(h, ':', hl))
			goto bad; /* brackets are for IPv6 literals */
	} else {
		colon = memchr(addr, ':', len);
		if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - addr)))
			goto bad; /* IPv6 with a port needs brackets */
		hl = colon ? (size_t)(colon - addr) : len;
	}
	if (colon) {
		size_t pl = len - (size_t)(colon + 1 - addr);
		if (allow0 && pl == 1 && colon[1] == '0')
			pt = 0;
		else if (parse_port(&pt, colon + 1, pl) < 0)
			goto bad;
	}
	if (hl == 0 && !allow0)
		goto bad;
	if (hl >= hostcap)
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = pt;
	return 0;
bad:
	return vl_error_set(VL_EINVALID, "'%.*s' is not an address: give HOST, HOST:PORT or [IPv6]:PORT",
			(int)(len > 80 ? 80 : len), addr);
}

int vl_sock_parse_addr(char *host, size_t hostcap, uint16_t *port, const char *addr,
		uint16_t default_port)
{
	return parse_addr(host, hostcap, port, addr, default_port, 0);
}

static int resolve(struct addrinfo **out, const char *host, uint16_t port, int passive)
{
	struct addrinfo hints;
	vl_buf ps = VL_BUF_INIT;
	int e, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* no AI_ADDRCONFIG: it hides 127.0.0.1 and ::1 in a namespace with
	 * only loopback configured */
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	if ((rc = vl_buf_printf(&ps, "%u", (unsigned)port)) < 0)
		return rc;
	e = getaddrinfo(host[0] ? host : NULL, ps.ptr, &hints, out);
	vl_buf_free(&ps);
	if (e != 0)
		return vl_error_set(e == EAI_NONAME ? VL_ENOTFOUND : VL_ERROR,
				"cannot resolve '%s': %s; check the name or give an IP address", host,
				gai_strerror(e));
	return 0;
}

int vl_sock_listen(int *out, const char *addr, uint16_t default_port)
{
	char host[VL_NET_MAX_ADDR + 1];
	struct addrinfo *ai = NULL, *a;
	uint16_t port = 0;
	int fd = -1, one = 1, zero = 0, rc, err = 0;
	const char *spec = addr;
	char buf[VL_NET_MAX_ADDR + 2];

	/* "PORT" alone means every address */
	if (addr[0] >= '0' && addr[0] <= '9' && !strchr(addr, ':') && !strchr(addr, '.')) {
		size_t l = strnlen(addr, VL_NET_MAX_ADDR);
		buf[0] = ':';
		memcpy(buf + 1, addr, l);
		buf[l + 1] = '\0';
		spec = buf;
	}
	if ((rc = parse_addr(host, sizeof(host), &port, spec, default_port, 1)) < 0)
		return rc;
	if (host[0] == '\0') {
		/* the IPv6 wildcard with IPV6_V6ONLY off takes IPv4 too; else IPv4 */
		struct sockaddr_in6 s6;
		struct sockaddr_in s4;
		memset(&s6, 0, sizeof(s6));
		s6.sin6_family = AF_INET6;
		s6.sin6_addr = in6addr_any;
		s6.sin6_port = htons(port);
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		if (fd >= 0) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
			if (bind(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0 && listen(fd, 64) == 0)
				goto done;
			err = errno;
			close(fd);
		}
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_addr.s_addr = htonl(INADDR_ANY);
		s4.sin_port = htons(port);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			err = errno;
			goto fail;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&s4, sizeof(s4)) == 0 && listen(fd, 64) == 0)
			goto done;
		err = errno;
		close(fd);
		fd = -1;
		goto fail;
	}
	if ((rc = resolve(&ai, host, port, 1)) < 0)
		return rc;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (a->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 64) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		goto fail;
done:
	if ((rc = set_flags(fd)) < 0) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
fail:
	return vl_error_set(VL_ERROR, "cannot listen on '%s': %s; is another server using the port?",
			addr, strerror(err));
}

int vl_sock_local_port(uint16_t *out, int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return vl_error_set(VL_ERROR, "getsockname failed: %s", strerror(errno));
	if (ss.ss_family == AF_INET)
		*out = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		*out = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		return vl_error_set(VL_EINVALID, "not an internet socket");
	return 0;
}

static void format_peer(char *peer, size_t cap, const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN];
	vl_buf b = VL_BUF_INIT;
	unsigned port = 0;

	ip[0] = '\0';
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		port = ntohs(s->sin_port);
		if (vl_buf_printf(&b, "%s:%u", ip, port) < 0)
			vl_buf_clear(&b);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		port = ntohs(s->sin6_port);
		if (vl_buf_printf(&b, "[%s]:%u", ip, port) < 0)
			vl_buf_clear(&b);
	}
	if (cap > 0) {
		size_t n = b.len < cap - 1 ? b.len : cap - 1;
		if (n)
			memcpy(peer, b.ptr, n);
		peer[n] = '\0';
	}
	vl_buf_free(&b);
}

int vl_sock_accept(int *out, int lfd, int timeout_ms, char *peer, size_t peercap)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct pollfd p;
	int fd, n, rc, one = 1;

	for (;;) {
		p.fd = lfd;
		p.events = POLLIN;
		p.revents = 0;
		n = poll(&p, 1, timeout_ms < 0 ? -1 : timeout_ms);
		if (n == 0)
			return vl_error_set(VL_ERROR, "accept timed out");
		if (n < 0)
			return errno == EINTR ?
				vl_error_set(VL_ERROR, "accept timed out (interrupted): %s", strerror(errno)) :
				vl_error_set(VL_ERROR, "accept failed: %s", strerror(errno));
		sl = sizeof(ss);
		fd = accept(lfd, (struct sockaddr *)&ss, &sl);
		if (fd >= 0)
			break;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED || errno == EINTR)
			continue; /* the connection went away between poll and accept */
		return vl_error_set(VL_ERROR, "accept failed: %s", strerror(errno));
	}
	if ((rc = set_flags(fd)) < 0) {
		close(fd);
		return rc;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (peer)
		format_peer(peer, peercap, &ss);
	*out = fd;
	return 0;
}

/* Connect one address within deadline: 0 and *out, or VL_ERROR with errno text. */
static int connect_one(int *out, const struct addrinfo *a, int64_t deadline, const char *addr)
{
	int fd, rc, err = 0, one = 1;
	socklen_t el = sizeof(err);

	fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
	if (fd < 0)
		return vl_error_set(VL_ERROR, "cannot connect to '%s': %s", addr, strerror(errno));
	if ((rc = set_flags(fd)) < 0)
		goto fail;
	if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
		if (errno != EINPROGRESS && errno != EINTR) {
			rc = vl_error_set(VL_ERROR, "cannot connect to '%s': %s", addr, strerror(errno));
			goto fail;
		}
		if ((rc = wait_fd(fd, POLLOUT, deadline, _("connecting"))) < 0) {
			rc = vl_error_wrap(rc, "'%s'", addr);
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0) {
			rc = vl_error_set(VL_ERROR, "cannot connect to '%s': %s; is its server running?",
					addr, strerror(err ? err : errno));
			goto fail;
		}
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*out = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

int vl_sock_connect(int *out, const char *addr, uint16_t default_port, int timeout_ms)
{
	char host[VL_NET_MAX_ADDR + 1];
	struct addrinfo *ai = NULL, *a;
	uint16_t port = 0;
	int64_t deadline = deadline_of(timeout_ms);
	int rc, fd = -1;

	if ((rc = vl_sock_parse_addr(host, sizeof(host), &port, addr, default_port)) < 0)
		return rc;
	if ((rc = resolve(&ai, host, port, 0)) < 0)
		return rc;
	rc = VL_ENOTFOUND;
	for (a = ai; a; a = a->ai_next) {
		if ((rc = connect_one(&fd, a, deadline, addr)) == 0)
			break;
		if (deadline >= 0 && left_ms(deadline) == 0)
			break;
	}
	freeaddrinfo(ai);
	if (rc == VL_ENOTFOUND)
		return vl_error_set(VL_ENOTFOUND, "'%s' resolves to no address", addr);
	if (rc < 0)
		return rc;
	*out = fd;
	return 0;
}

int vl_sock_read_full(int fd, void *buf, size_t len, int timeout_ms, size_t *got)
{
	unsigned char *p = buf;
	size_t done = 0;
	int64_t deadline = deadline_of(timeout_ms);
	ssize_t n;
	int rc = 0;

	while (done < len) {
		n = recv(fd, p + done, len - done, 0);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n == 0) {
			rc = vl_error_set(VL_EPROTO, "the peer closed the connection");
			break;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if ((rc = wait_fd(fd, POLLIN, deadline, _("reading from the peer"))) < 0)
				break;
			continue;
		}
		rc = vl_error_set(errno == ECONNRESET ? VL_EPROTO : VL_ERROR,
				"reading from the peer failed: %s", strerror(errno));
		break;
	}
	if (got)
		*got = done;
	return rc;
}

int vl_sock_read_some(int fd, void *buf, size_t cap, int timeout_ms, size_t *got)
{
	int64_t deadline = deadline_of(timeout_ms);
	ssize_t n;
	int rc;

	for (;;) {
		n = recv(fd, buf, cap, 0);
		if (n > 0) {
			*got = (size_t)n;
			return 0;
		}
		if (n == 0)
			return vl_error_set(VL_EPROTO, "the peer closed the connection");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return vl_error_set(errno == ECONNRESET ? VL_EPROTO : VL_ERROR,
					"reading from the peer failed: %s", strerror(errno));
		if ((rc = wait_fd(fd, POLLIN, deadline, _("reading from the peer"))) < 0)
			return rc;
	}
}

int vl_sock_write_full(int fd, const void *buf, size_t len, int timeout_ms)
{
	const unsigned char *p = buf;
	size_t done = 0;
	int64_t deadline = deadline_of(timeout_ms);
	ssize_t n;
	int rc;

	while (done < len) {
		n = send(fd, p + done, len - done, MSG_NOSIGNAL);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((rc = wait_fd(fd, POLLOUT, deadline, _("writing to the peer"))) < 0)
				return rc;
			continue;
		}
		return vl_error_set(VL_ERROR, "writing to the peer failed: %s",
				n < 0 ? strerror(errno) : _("no progress"));
	}
	return 0;
}
